/**
 * The storage figures of a folder (status, check): counts, sizes, ages, held files, and the scan
 * that measures them. Apart from status.ts, so that the worker threads and their driver
 * (parallel.ts) use them without importing status.ts, which imports the driver.
 */
import { performance } from 'node:perf_hooks';
import { type Category, type CategoryId, nameClassifier } from './categories.js';
import type { Guard } from './hold-follow.js';
import { MS_PER_DAY } from './plan.js';
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
  for (const item of scanFolder(dir, nameClassifier(category), { fromCwd: at.fromCwd, shard: at.shard, batch: true })) {
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
