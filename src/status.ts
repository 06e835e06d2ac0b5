import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Category, type CategoryId, categoryById, nameClassifier } from './categories.js';
import { STOP, STOP_REASON, newControl, requestStop } from './control.js';
import { compileGuard } from './guard.js';
import { type Guard, HoldsBroadcast } from './hold-follow.js';
import { loadHolds } from './holds.js';
import { type SizeTarget, targetBytes } from './size.js';
import { MS_PER_DAY, cutoffMs } from './plan.js';
import { type FailureRecord, MAX_ERRORS } from './result.js';
import { type ScannedFile, type Shard, scanFolder } from './scan.js';

/** Age buckets of the histogram, in days: [from, to). The last is open-ended. */
export const AGE_BUCKETS = [
  { label: '< 1 day', fromDays: 0, toDays: 1 },
  { label: '1-7 days', fromDays: 1, toDays: 7 },
  { label: '7-30 days', fromDays: 7, toDays: 30 },
  { label: '30-90 days', fromDays: 30, toDays: 90 },
  { label: '90-365 days', fromDays: 90, toDays: 365 },
  { label: '> 365 days', fromDays: 365, toDays: null },
] as const;

export interface Count {
  files: number;
  bytes: number;
}

export interface FileMark {
  path: string;
  mtimeMs: number;
}

/** The storage figures of one category, or of all together. */
export interface StorageFigures extends Count {
  kinds: { incident: number; video: number; metadata: number };
  /** Older than the retention: what a cleanup would free now. */
  old: Count;
  /** Dated after the start of the status run (a clock problem); not in the histogram. */
  future: Count;
  oldest: FileMark | undefined;
  newest: FileMark | undefined;
  /** One count per AGE_BUCKETS entry, same order. */
  buckets: Count[];
  /** Files or folders that could not be read. */
  failed: number;
  /** Older than the retention but kept by a hold: a cleanup would not free these. */
  held: Count;
}

export interface CategoryStatus extends StorageFigures {
  readonly id: CategoryId;
  readonly dir: string;
}

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

export function emptyFigures(): StorageFigures {
  return {
    files: 0,
    bytes: 0,
    kinds: { incident: 0, video: 0, metadata: 0 },
    old: { files: 0, bytes: 0 },
    future: { files: 0, bytes: 0 },
    oldest: undefined,
    newest: undefined,
    buckets: AGE_BUCKETS.map(() => ({ files: 0, bytes: 0 })),
    failed: 0,
    held: { files: 0, bytes: 0 },
  };
}

/** Index in AGE_BUCKETS of a (non-negative) age in ms. */
export function bucketOf(ageMs: number): number {
  const days = ageMs / MS_PER_DAY;
  const i = AGE_BUCKETS.findIndex((b) => b.toDays !== null && days < b.toDays);
  return i === -1 ? AGE_BUCKETS.length - 1 : i;
}

const add = (c: Count, bytes: number, files = 1): void => {
  c.files += files;
  c.bytes += bytes;
};

/** Adds one file to the figures (pure: the clock and cutoff are arguments). */
export function addFile(f: StorageFigures, file: Pick<ScannedFile, 'path' | 'size' | 'mtimeMs' | 'kind'>, startMs: number, cutoff: number): void {
  add(f, file.size);
  f.kinds[file.kind]++;
  if (file.mtimeMs < cutoff) add(f.old, file.size);
  if (file.mtimeMs > startMs) add(f.future, file.size);
  else add(f.buckets[bucketOf(startMs - file.mtimeMs)] as Count, file.size);
  if (f.oldest === undefined || file.mtimeMs < f.oldest.mtimeMs) f.oldest = { path: file.path, mtimeMs: file.mtimeMs };
  if (f.newest === undefined || file.mtimeMs > f.newest.mtimeMs) f.newest = { path: file.path, mtimeMs: file.mtimeMs };
}

/** Adds the figures of a category into a total. */
export function mergeFigures(total: StorageFigures, part: StorageFigures): void {
  add(total, part.bytes, part.files);
  for (const k of ['incident', 'video', 'metadata'] as const) total.kinds[k] += part.kinds[k];
  add(total.old, part.old.bytes, part.old.files);
  add(total.future, part.future.bytes, part.future.files);
  part.buckets.forEach((b, i) => add(total.buckets[i] as Count, b.bytes, b.files));
  if (part.oldest && (!total.oldest || part.oldest.mtimeMs < total.oldest.mtimeMs)) total.oldest = part.oldest;
  if (part.newest && (!total.newest || part.newest.mtimeMs > total.newest.mtimeMs)) total.newest = part.newest;
  total.failed += part.failed;
  add(total.held, part.held.bytes, part.held.files);
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
 * lock, keeps only counters (memory does not grow with the folder).
 */
/** The figures of one folder (or of one share of its names), with what could not be read. */
export async function measureFolder(
  category: Category,
  dir: string,
  at: {
    startMs: number;
    cutoff: number;
    shard?: Shard | undefined;
    fromCwd?: boolean | undefined;
    sliceMs?: number | undefined;
    shouldStop?: (() => boolean) | undefined;
    /** The holds: old files they keep are counted in `held` (and still in `old`). */
    guard?: Guard | undefined;
  },
): Promise<{ figures: CategoryStatus; errors: FailureRecord[] }> {
  const figures: CategoryStatus = { id: category.id, dir, ...emptyFigures() };
  const errors: FailureRecord[] = [];
  let sliceStart = performance.now();
  let seen = 0;
  for (const item of scanFolder(dir, nameClassifier(category), { fromCwd: at.fromCwd, shard: at.shard })) {
    if (at.shouldStop?.()) break;
    if ('failure' in item) {
      figures.failed++;
      if (errors.length < MAX_ERRORS) errors.push(item.failure);
    } else {
      addFile(figures, item, at.startMs, at.cutoff);
      if (at.guard !== undefined && item.mtimeMs < at.cutoff && at.guard.heldBy(category.folder, item.name) !== undefined) add(figures.held, item.size);
    }
    if (at.sliceMs !== undefined && (++seen & 255) === 0 && performance.now() - sliceStart >= at.sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return { figures, errors };
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
  const shouldStop = (): boolean => Atomics.load(control, STOP) !== 0;
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
