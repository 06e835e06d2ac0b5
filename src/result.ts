import type { DiskPressureReport } from './pressure.js';
import type { CategoryId } from './categories.js';

/** Counters kept for each category and in total. Bytes are exact file sizes. */
export interface Tally {
  found: number;
  bytesFound: number;
  toDelete: number;
  bytesToDelete: number;
  deleted: number;
  bytesFreed: number;
  failed: number;
  skipped: number;
  /** Files past the cutoff that a hold or an --exclude kept, and their bytes. */
  held: number;
  bytesHeld: number;
}

export interface CategoryResult extends Tally {
  readonly id: CategoryId;
  /** Absolute path of the category folder. */
  readonly dir: string;
  /** Regular files per kind; `incident` for incidents, `video` and `metadata` for videos. */
  kinds: { incident: number; video: number; metadata: number };
  /** Files dated after the start of the run: kept, counted in `found`, warned about. */
  future: number;
  /** The modification time of the oldest file left in the folder after the run (ms), or null. */
  oldestMtimeMs: number | null;
}

/** One failure, as reported in the JSON `errors` list. */
export interface FailureRecord {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** At most this many failures are kept in `errors`; `failed` counts them all. */
export const MAX_ERRORS = 100;

export interface CleanupResult {
  readonly dryRun: boolean;
  readonly retentionDays: number;
  readonly startedAt: Date;
  readonly cutoff: Date;
  readonly baseDir: string;
  readonly categories: Partial<Record<CategoryId, CategoryResult>>;
  readonly totals: Tally;
  readonly errors: FailureRecord[];
  /** Why the run stopped early (a signal's name, such as 'SIGTERM'), or null: it ran to the end. */
  readonly interrupted: string | null;
  /** Set when the log could not be written: the run stopped deleting (exit status 1). */
  readonly logFailure?: LogFailure | undefined;
  /** Set when the hold file became unusable during the run: it stopped deleting (exit status 2). */
  readonly holdsFailure?: string | undefined;
  /** The disk-pressure pass, when a free-space target was set (`--min-free`); null otherwise. */
  readonly diskPressure?: DiskPressureReport | null | undefined;
}

/** The log could not be written: where, why, and how many files had been deleted by then. */
export interface LogFailure {
  /** The log file's path, or "standard error". */
  readonly destination: string;
  readonly code: string;
  readonly message: string;
  readonly deleted: number;
}

export function emptyTally(): Tally {
  return { found: 0, bytesFound: 0, toDelete: 0, bytesToDelete: 0, deleted: 0, bytesFreed: 0, failed: 0, skipped: 0, held: 0, bytesHeld: 0 };
}

export function emptyCategoryResult(id: CategoryId, dir: string): CategoryResult {
  return { id, dir, ...emptyTally(), kinds: { incident: 0, video: 0, metadata: 0 }, future: 0, oldestMtimeMs: null };
}

export const TALLY_KEYS = Object.keys(emptyTally()) as (keyof Tally)[];

export function sumTallies(parts: readonly Tally[]): Tally {
  const total = emptyTally();
  for (const part of parts) for (const key of TALLY_KEYS) total[key] += part[key];
  return total;
}
