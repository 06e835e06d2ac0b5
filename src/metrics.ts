import path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { CategoryId } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import { type FileSystemSpace, fileSystemsOf } from './mounts.js';
import type { CategoryResult, CleanupResult } from './result.js';
import { readState } from './state.js';

/**
 * The Prometheus text format (version 0.0.4), written by hand: prom-client's registry would cost
 * about 45 ms of import on every run that writes metrics, for some twenty gauges.
 */

/** The figures of one category after a run. */
export interface CategoryMetrics {
  readonly category: string;
  readonly deletedFiles: number;
  readonly freedBytes: number;
  readonly failed: number;
  readonly heldFiles: number;
  /** Matching files left after the run, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** Age of the oldest file left, in seconds; undefined when unknown or when no file is left. */
  readonly oldestFileAgeSeconds?: number | undefined;
}

/** Everything the metrics file says. Times are ms since the epoch. */
export interface MetricsInput {
  readonly baseDir: string;
  readonly lastRunStartMs: number;
  readonly lastRunEndMs: number;
  readonly exitStatus: number;
  /** Start of the last run that ended with exit status 0; undefined: none yet (written as 0). */
  readonly lastSuccessStartMs?: number | undefined;
  readonly categories: readonly CategoryMetrics[];
  readonly filesystems: readonly Pick<FileSystemSpace, 'mount' | 'sizeBytes' | 'freeBytes'>[];
}

/** The metrics file could not be written: a warning for the caller to log. */
export interface MetricsWriteFailure {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** Label values: backslash, double quote and newline are escaped (the format's only escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly { labels: Labels; value: number }[];
}

const labelText = (labels: Labels): string =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',')}}`;

/** HELP, TYPE (all gauges: each is the value of the last run, not a running count) and samples. */
function familyText(f: Family): string {
  const help = f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return [`# HELP ${f.name} ${help}`, `# TYPE ${f.name} gauge`, ...f.samples.map((s) => `${f.name}${labelText(s.labels)} ${formatValue(s.value)}`)].join('\n');
}

/** The metrics file's text. */
export function formatMetrics(input: MetricsInput): string {
  const base = { base_dir: input.baseDir };
  const one = (name: string, help: string, value: number): Family => ({ name: `vigint_cleanup_${name}`, help, samples: [{ labels: base, value }] });
  const perCategory = (name: string, help: string, pick: (c: CategoryMetrics) => number | undefined): Family => ({
    name: `vigint_cleanup_${name}`,
    help,
    samples: input.categories.flatMap((c) => {
      const value = pick(c);
      return value === undefined ? [] : [{ labels: { ...base, category: c.category }, value }];
    }),
  });
  const families: Family[] = [
    one('last_run_timestamp_seconds', 'Start of the last real cleanup run, in seconds since the epoch.', input.lastRunStartMs / 1000),
    one(
      'last_success_timestamp_seconds',
      'Start of the last real cleanup run that ended with exit status 0, in seconds since the epoch (0: none yet).',
      (input.lastSuccessStartMs ?? 0) / 1000,
    ),
    one('last_run_duration_seconds', 'Duration of the last real cleanup run, in seconds.', Math.max(0, input.lastRunEndMs - input.lastRunStartMs) / 1000),
    one('last_run_exit_code', 'Exit status of the last real cleanup run (0 done, 1 done with failures, 129/130/143 interrupted).', input.exitStatus),
    perCategory('deleted_files', 'Files deleted by the last run.', (c) => c.deletedFiles),
    perCategory('freed_bytes', 'Bytes freed by the last run.', (c) => c.freedBytes),
    perCategory('failed', 'Files or folders the last run could not read or delete.', (c) => c.failed),
    perCategory('held_files', 'Files past the retention kept by the last run because of a hold or an exclude.', (c) => c.heldFiles),
    perCategory('files', 'Matching files left after the last run.', (c) => c.files),
    perCategory('bytes', 'Bytes of the matching files left after the last run.', (c) => c.bytes),
    perCategory('oldest_file_age_seconds', 'Age of the oldest matching file left after the last run, in seconds.', (c) => c.oldestFileAgeSeconds),
    {
      name: 'vigint_cleanup_filesystem_free_bytes',
      help: 'Bytes free for unprivileged users (statfs bavail x bsize) on the file system holding a category folder, after the last run.',
      samples: input.filesystems.map((f) => ({ labels: { ...base, mount: f.mount }, value: f.freeBytes })),
    },
    {
      name: 'vigint_cleanup_filesystem_size_bytes',
      help: 'Size of the file system holding a category folder.',
      samples: input.filesystems.map((f) => ({ labels: { ...base, mount: f.mount }, value: f.sizeBytes })),
    },
  ];
  // A family with no sample (no category measured its oldest file) is left out altogether.
  return `${families
    .filter((f) => f.samples.length > 0)
    .map(familyText)
    .join('\n')}\n`;
}

/**
 * Writes the metrics file the way node_exporter's textfile collector needs: to a temporary file
 * in the same folder (a name it does not read: not `*.prom`), then renamed over the file, so a
 * scrape never sees half of it. Never throws: a failure is returned for the caller to log.
 */
export function writeMetricsFile(file: string, input: MetricsInput): MetricsWriteFailure | undefined {
  const target = path.resolve(file);
  try {
    writeFileAtomic(target, formatMetrics(input));
    return undefined;
  } catch (err) {
    return { path: target, code: errnoCode(err), message: errorMessage(err) };
  }
}

/** Optional figures a run may know beyond the common `CategoryResult` (holds, the oldest file kept). */
type CategoryExtras = { held?: number; oldestMtimeMs?: number | null };

export interface FromResultOptions {
  readonly endMs: number;
  readonly exitStatus: number;
  /** Default: this run's start when `exitStatus` is 0, else what the state file records. */
  readonly lastSuccessStartMs?: number | undefined;
  /** The oldest file left per category (ms); default: a field `oldestMtimeMs` of the category, if any. */
  readonly oldestMtimeMs?: Partial<Record<CategoryId, number | null>>;
  /** Default: measured now, for the file systems holding the result's category folders. */
  readonly filesystems?: readonly Pick<FileSystemSpace, 'mount' | 'sizeBytes' | 'freeBytes'>[];
}

/** The metrics of a finished real run. */
export function metricsInputFromResult(result: CleanupResult, options: FromResultOptions): MetricsInput {
  const startMs = result.startedAt.getTime();
  const categories = (Object.values(result.categories) as (CategoryResult & CategoryExtras)[]).map((c): CategoryMetrics => {
    const oldest = options.oldestMtimeMs?.[c.id] ?? c.oldestMtimeMs ?? undefined;
    const files = Math.max(0, c.found - c.deleted);
    return {
      category: c.id,
      deletedFiles: c.deleted,
      freedBytes: c.bytesFreed,
      failed: c.failed,
      heldFiles: c.held ?? 0,
      files,
      bytes: Math.max(0, c.bytesFound - c.bytesFreed),
      oldestFileAgeSeconds: oldest === undefined || files === 0 ? undefined : Math.max(0, options.endMs - oldest) / 1000,
    };
  });
  let lastSuccessStartMs = options.lastSuccessStartMs;
  if (lastSuccessStartMs === undefined) {
    if (options.exitStatus === 0) lastSuccessStartMs = startMs;
    else {
      const state = readState(result.baseDir);
      if (state.kind === 'ok') lastSuccessStartMs = state.lastSuccessStartMs;
    }
  }
  return {
    baseDir: result.baseDir,
    lastRunStartMs: startMs,
    lastRunEndMs: options.endMs,
    exitStatus: options.exitStatus,
    lastSuccessStartMs,
    categories,
    filesystems: options.filesystems ?? fileSystemsOf(Object.values(result.categories).map((c) => c.dir)),
  };
}
