import path from 'node:path';
import { type CategoryId, categoryById } from './categories.js';
import { STOP_REASON, newControl, requestStop, stopAsked } from './control.js';
import { compileGuard } from './guard.js';
import { type CategoryStatus, type StorageFigures, emptyFigures, measureFolder, mergeFigures } from './figures.js';
import { HoldsBroadcast } from './hold-follow.js';
import { loadHolds } from './holds.js';
import { type SizeTarget, targetBytes } from './size.js';
import { cutoffMs } from './plan.js';
import { type FailureRecord, MAX_ERRORS } from './result.js';

export { AGE_BUCKETS, type CategoryStatus, type Count, type FileMark, type StorageFigures, bucketOf } from './figures.js';

/** A file system holding a category folder: its space, and how fast our files fill it. */
export interface FilesystemStatus {
  readonly mount: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
  /** Free for unprivileged users (statfs bavail × bsize), as the cleanup counts it. */
  readonly freeBytes: number;
  /** The free-space target (`--min-free`), or null. */
  readonly targetBytes: number | null;
  /** Bytes of our files modified in the last 7 days, per day: the rate they fill the disk at. */
  readonly growthBytesPerDay: number;
  /** At that rate, days until free space falls to the target (null: no target, or no growth). */
  readonly daysToTarget: number | null;
  /** ...and until the disk is full (null: no growth). */
  readonly daysToFull: number | null;
}

export interface StatusResult {
  readonly retentionDays: number;
  readonly startedAt: Date;
  readonly cutoff: Date;
  readonly baseDir: string;
  readonly categories: Partial<Record<CategoryId, CategoryStatus>>;
  readonly totals: StorageFigures;
  readonly errors: FailureRecord[];
  readonly filesystems: FilesystemStatus[];
  /** The free-space target as given (`10%`), or null. */
  readonly minFree: string | null;
}

export interface StatusOptions {
  readonly baseDir: string;
  readonly days: number;
  readonly categories: readonly CategoryId[];
  readonly now?: () => number;
  /** Yield to the event loop after this many ms of scanning (for library hosts). */
  readonly sliceMs?: number;
  /** Measure in this many worker threads (0 or unset: in this thread). */
  readonly workers?: number;
  /** With workers: change into each folder (the CLI's own process only). */
  readonly chdir?: boolean;
  /** Stops the scan early (a signal); the figures then cover what was scanned. */
  readonly signal?: AbortSignal;
  /** The free-space target, for the forecast. */
  readonly minFree?: { readonly target: SizeTarget; readonly text: string } | undefined;
}

/**
 * Scans the categories with the cleanup's own scan and sums them up. Deletes nothing, takes no
 * lock, keeps only counters (memory does not grow with the folder). With `workers`, as the
 * cleanup: each worker measures a share of every folder.
 */
export async function collectStatus(options: StatusOptions): Promise<StatusResult> {
  const startMs = (options.now ?? Date.now)();
  const cutoff = cutoffMs(startMs, options.days);
  const categories: Partial<Record<CategoryId, CategoryStatus>> = {};
  const totals = emptyFigures();
  const errors: FailureRecord[] = [];
  const keep = (records: FailureRecord[]): void => {
    for (const r of records) if (errors.length < MAX_ERRORS) errors.push(r);
  };
  const control = newControl(options.workers ?? 0);
  const stop = (): void => requestStop(control, STOP_REASON.interrupted);
  options.signal?.addEventListener('abort', stop);
  if (options.signal?.aborted) stop();
  const shouldStop = (): boolean => stopAsked(control);
  // Held files are counted apart (a hold file that cannot be read: a usage error, exit 2).
  const rules = { holds: loadHolds(options.baseDir).map((h) => ({ pattern: h.pattern, until: h.until })), excludes: [] };
  const guard = compileGuard(rules, startMs);
  if (options.workers !== undefined && options.workers > 0) {
    const dirs = {} as Record<CategoryId, string>;
    for (const id of options.categories) dirs[id] = path.join(options.baseDir, categoryById(id).folder);
    // loaded only here: a status measured in this thread has no use for it (start-up time)
    const { measureInWorkers } = await import('./parallel.js');
    const measured = await measureInWorkers({
      baseDir: options.baseDir,
      categories: options.categories,
      dirs,
      startMs,
      cutoff,
      workers: options.workers,
      chdir: options.chdir === true,
      control,
      holds: new HoldsBroadcast(rules, compileGuard, startMs, control),
    });
    for (const id of options.categories) {
      const m = measured[id] as { figures: CategoryStatus; errors: FailureRecord[] };
      keep(m.errors);
      mergeFigures(totals, m.figures);
      categories[id] = m.figures;
    }
  } else {
    for (const id of options.categories) {
      const category = categoryById(id);
      const m = await measureFolder(category, path.join(options.baseDir, category.folder), { startMs, cutoff, sliceMs: options.sliceMs, shouldStop, guard });
      keep(m.errors);
      mergeFigures(totals, m.figures);
      categories[id] = m.figures;
    }
  }
  options.signal?.removeEventListener('abort', stop);
  return {
    retentionDays: options.days,
    startedAt: new Date(startMs),
    cutoff: new Date(cutoff),
    baseDir: options.baseDir,
    categories,
    totals,
    errors,
    filesystems: forecast(categories, options.minFree?.target, (await import('./mounts.js')).fileSystemsOf),
    minFree: options.minFree?.text ?? null,
  };
}

const WEEK_DAYS = 7;

/** Per file system holding a folder: space, the week's growth of our files, days left at that rate. */
function forecast(
  categories: Partial<Record<CategoryId, CategoryStatus>>,
  target: SizeTarget | undefined,
  fileSystemsOf: typeof import('./mounts.js').fileSystemsOf,
): FilesystemStatus[] {
  const byDir = new Map(Object.values(categories).map((c) => [c.dir, c]));
  return fileSystemsOf([...byDir.keys()]).map((space) => {
    // buckets 0 and 1: modified less than 1 day, and 1 to 7 days ago
    const weekBytes = space.dirs.reduce((sum, d) => {
      const b = byDir.get(d)?.buckets;
      return sum + (b?.[0]?.bytes ?? 0) + (b?.[1]?.bytes ?? 0);
    }, 0);
    const growth = weekBytes / WEEK_DAYS;
    const wanted = target === undefined ? null : targetBytes(target, space.sizeBytes);
    const days = (room: number): number | null => (growth > 0 ? Math.max(0, room) / growth : null);
    return {
      mount: space.mount,
      sizeBytes: space.sizeBytes,
      usedBytes: space.sizeBytes - space.freeBytes,
      freeBytes: space.freeBytes,
      targetBytes: wanted,
      growthBytesPerDay: growth,
      daysToTarget: wanted === null ? null : days(space.freeBytes - wanted),
      daysToFull: days(space.freeBytes),
    };
  });
}
