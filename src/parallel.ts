import fs from 'node:fs';
import type { CategoryId } from './categories.js';
import type { Control } from './control.js';
import { errnoCode, errorMessage } from './errors.js';
import { type CategoryStatus, emptyFigures, mergeFigures } from './figures.js';
import type { HoldsBroadcast } from './hold-follow.js';
import type { DiskPressureOptions, PressurePass } from './pressure.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS, TALLY_KEYS, emptyCategoryResult } from './result.js';
import { type Shard, danglingLink, shareOf } from './scan.js';
import type { SweepLog } from './sweep-log.js';
import type { WorkerMessage } from './sweep-worker.js';
import { type CommonTask, SweepWorker, type WorkersLog, logBatches, withWorkers, workerTask } from './worker-pool.js';

export type { HostLogger, WorkersLog } from './worker-pool.js';

export interface ParallelSweep {
  readonly baseDir: string;
  readonly categories: readonly CategoryId[];
  readonly dirs: Readonly<Record<CategoryId, string>>;
  readonly cutoff: number;
  readonly startMs: number;
  readonly dryRun: boolean;
  readonly workers: number;
  readonly concurrency?: number | undefined;
  /**
   * Change the process's working directory into each folder, so that system calls take bare
   * names (much cheaper). Only for a process of our own: never in a library host.
   */
  readonly chdir: boolean;
  /** Lines of this thread (a folder it could not enter). */
  readonly mainLog: SweepLog;
  /** Where the workers' lines go: our own log's writer, or a host's logger. */
  readonly log: WorkersLog;
  /** Shared with the workers: made by newControl(workers). */
  readonly control: Control;
  readonly onFailure: (record: FailureRecord) => void;
  readonly onProgress?: ((id: CategoryId, soFar: CategoryResult) => void) | undefined;
  /** The holds: each worker gets the rules and a channel for newer ones. */
  readonly holds?: HoldsBroadcast | undefined;
}

/** Adds `part` (a worker's share) into `into`. */
function merge(into: CategoryResult, part: CategoryResult): void {
  for (const key of TALLY_KEYS) into[key] += part[key];
  into.kinds.incident += part.kinds.incident;
  into.kinds.video += part.kinds.video;
  into.kinds.metadata += part.kinds.metadata;
  into.future += part.future;
  if (part.oldestMtimeMs !== null && (into.oldestMtimeMs === null || part.oldestMtimeMs < into.oldestMtimeMs)) into.oldestMtimeMs = part.oldestMtimeMs;
}

/**
 * Every share of a folder meets a failure to read the folder itself: it counts once, per code.
 * Returns the share's failures without those `seen` already, and how many were dropped.
 */
function onceForFolder(dir: string, errors: readonly FailureRecord[], seen: Set<string>): { errors: FailureRecord[]; dropped: number } {
  let dropped = 0;
  const kept = errors.filter((record) => {
    if (record.path !== dir) return true;
    if (seen.has(record.code)) {
      dropped++;
      return false;
    }
    seen.add(record.code);
    return true;
  });
  return { errors: kept, dropped };
}

/**
 * What the workers of one sweep report, merged: counters per category; failures passed on, at
 * most MAX_ERRORS (a failure to read a folder itself, met by every share of it, once per code);
 * progress summed over the workers' shares.
 */
class SweepTotals {
  readonly results: Partial<Record<CategoryId, CategoryResult>> = {};
  private kept = 0;
  private readonly seen = new Map<CategoryId, Set<string>>();
  /** progress[worker]: the counters so far of each category share that worker swept */
  private readonly progress = new Map<number, Map<CategoryId, CategoryResult>>();

  constructor(private readonly job: ParallelSweep) {
    for (const id of job.categories) this.results[id] = emptyCategoryResult(id, job.dirs[id]);
  }

  keep(record: FailureRecord): void {
    if (this.kept++ < MAX_ERRORS) this.job.onFailure(record);
  }

  /** A worker's share of the folder `id`, swept. */
  add(id: CategoryId, swept: { readonly result: CategoryResult; readonly errors: readonly FailureRecord[] }): void {
    let seen = this.seen.get(id);
    if (!seen) this.seen.set(id, (seen = new Set()));
    const { errors, dropped } = onceForFolder(this.job.dirs[id], swept.errors, seen);
    const into = this.results[id] as CategoryResult;
    merge(into, swept.result);
    into.failed -= dropped;
    for (const record of errors) this.keep(record);
  }

  progressed(worker: number, message: Extract<WorkerMessage, { type: 'progress' }>): void {
    let mine = this.progress.get(worker);
    if (!mine) this.progress.set(worker, (mine = new Map()));
    mine.set(message.id, message.result);
    if (!this.job.onProgress) return;
    const soFar = emptyCategoryResult(message.id, this.job.dirs[message.id]);
    for (const shares of this.progress.values()) {
      const part = shares.get(message.id);
      if (part) merge(soFar, part);
    }
    this.job.onProgress(message.id, soFar);
  }
}

interface FolderJob {
  readonly baseDir: string;
  readonly categories: readonly CategoryId[];
  readonly dirs: Readonly<Record<CategoryId, string>>;
  readonly workers: number;
  readonly chdir: boolean;
  readonly control: Control;
  readonly log?: WorkersLog | undefined;
  readonly holds?: HoldsBroadcast | undefined;
  /** A folder the process could not change into (not a missing one: that is 0 files). */
  readonly onUnreadable: (id: CategoryId, record: FailureRecord) => void;
  /** Asks every worker for its share of the folder `id` (the working directory, with chdir). */
  readonly perFolder: (id: CategoryId, workers: SweepWorker[]) => Promise<void>;
}

/**
 * Starts the workers and walks the folders one at a time, all workers in the same folder (with
 * `chdir`, that folder is the working directory, and the original one is restored at the end).
 */
async function eachFolderInWorkers(job: FolderJob, task: CommonTask, onProgress?: (index: number, m: Extract<WorkerMessage, { type: 'progress' }>) => void): Promise<void> {
  const count = Math.max(1, job.workers);
  const log = logBatches(job.log, job.control);
  const workers = Array.from(
    { length: count },
    (_, index) => new SweepWorker(workerTask(task, job, count, index, shareOf(index, count), job.chdir), log, (m) => onProgress?.(index, m), job.holds),
  );
  await withWorkers(workers, job.chdir ? process.cwd() : undefined, async () => {
    for (const id of job.categories) {
      const dir = job.dirs[id];
      if (job.chdir) {
        try {
          process.chdir(dir);
        } catch (err) {
          // as the scan does: a missing folder is 0 files; any other problem (a link to nothing
          // included: a data disk not mounted), one failure
          if (errnoCode(err) !== 'ENOENT' || danglingLink(dir)) {
            job.onUnreadable(id, { path: dir, code: errnoCode(err), message: errorMessage(err) });
          }
          continue;
        }
      }
      await job.perFolder(id, workers);
    }
  });
}

/**
 * Sweeps the categories with `workers` threads, each taking its share of every folder's names.
 * The thread that calls it only coordinates, so a host's event loop is never held.
 */
export async function sweepInWorkers(job: ParallelSweep): Promise<Partial<Record<CategoryId, CategoryResult>>> {
  if (!job.dryRun && job.workers > 1 && job.categories.length > 1) return sweepFoldersApart(job);
  const totals = new SweepTotals(job);
  await eachFolderInWorkers(
    {
      ...job,
      onUnreadable: (id, record) => {
        (totals.results[id] as CategoryResult).failed++;
        job.mainLog.warn({ path: record.path, code: record.code, err: record.message }, 'cleanup: could not read folder');
        totals.keep(record);
      },
      perFolder: async (id, workers) => {
        const shares = await Promise.all(workers.map((w) => w.request({ type: 'sweep', id }, 'swept')));
        for (const share of shares) totals.add(id, share);
      },
    },
    { baseDir: job.baseDir, cutoff: job.cutoff, startMs: job.startMs, dryRun: job.dryRun, concurrency: job.concurrency },
    (index, message) => totals.progressed(index, message),
  );
  return totals.results;
}

/** status in workers: each measures its share of every folder; the figures are merged here. */
export async function measureInWorkers(job: {
  baseDir: string;
  categories: readonly CategoryId[];
  dirs: Readonly<Record<CategoryId, string>>;
  startMs: number;
  cutoff: number;
  workers: number;
  chdir: boolean;
  control: Control;
  holds?: HoldsBroadcast | undefined;
}): Promise<Partial<Record<CategoryId, { figures: CategoryStatus; errors: FailureRecord[] }>>> {
  const out: Partial<Record<CategoryId, { figures: CategoryStatus; errors: FailureRecord[] }>> = {};
  for (const id of job.categories) out[id] = { figures: { id, dir: job.dirs[id], ...emptyFigures() }, errors: [] };
  await eachFolderInWorkers(
    {
      ...job,
      onUnreadable: (id, record) => {
        const o = out[id] as { figures: CategoryStatus; errors: FailureRecord[] };
        o.figures.failed++;
        o.errors.push(record);
      },
      perFolder: async (id, workers) => {
        const shares = await Promise.all(workers.map((w) => w.request({ type: 'measure', id }, 'measured')));
        const o = out[id] as { figures: CategoryStatus; errors: FailureRecord[] };
        const seen = new Set<string>();
        for (const share of shares) {
          const { errors, dropped } = onceForFolder(job.dirs[id], share.errors, seen);
          mergeFigures(o.figures, share.figures);
          o.figures.failed -= dropped;
          for (const r of errors) if (o.errors.length < MAX_ERRORS) o.errors.push(r);
        }
      },
    },
    { baseDir: job.baseDir, cutoff: job.cutoff, startMs: job.startMs, dryRun: true },
  );
  return out;
}

/** Hash buckets of the largest folder, when the other folder's worker takes some of them. */
const BUCKETS = 16;

/**
 * How many of the largest folder's BUCKETS the other folder's worker sweeps once it is done with
 * its own folder, so that both workers finish together: with `small` and `big` the folders'
 * sizes, `small + x * big = (1 - x) * big`. 0 when the folders are alike.
 */
export function bucketsToHelp(small: number, big: number): number {
  if (!(big > 0) || small >= big) return 0;
  return Math.round((BUCKETS * (big - small)) / (2 * big));
}

/**
 * About how many entries a folder holds, without reading it all: its size over the size of an
 * entry among its first names (ext4 grows a directory by 8 bytes plus the name, rounded up to 4,
 * per entry; other file systems by some other amount per name). A guide for sharing the work, no
 * more: ext4 never shrinks a directory, so a folder that once held many more files looks larger.
 * 0 for a folder that cannot be read.
 */
export function estimateEntries(dir: string): number {
  try {
    const size = fs.statSync(dir).size;
    const handle = fs.opendirSync(dir, { bufferSize: 32 });
    try {
      let names = 0;
      let bytes = 0;
      for (let d = handle.readSync(); d !== null && names < 32; d = handle.readSync()) {
        names++;
        bytes += (8 + Buffer.byteLength(d.name) + 3) & ~3;
      }
      return names === 0 ? 0 : size / (bytes / names);
    } finally {
      handle.closeSync();
    }
  } catch {
    return 0; // its worker finds out what is wrong with it, and reports it
  }
}

/**
 * A real run with a worker per folder: unlinks in one folder take the folder's lock in turn, and
 * two threads unlinking in the same folder spend much of their time waiting for it (1M sparse
 * files: 14.9 s with both workers sharing both folders, 14.8 s a worker per folder, 13.0 s for
 * find -delete). Folders are rarely alike, so once the smaller folder is done its worker takes a
 * share of the largest (bucketsToHelp, by estimateEntries): they contend only at the end
 * (11.4 s). The largest folder gets the working directory and bare names; the other, full paths.
 */
async function sweepFoldersApart(job: ParallelSweep): Promise<Partial<Record<CategoryId, CategoryResult>>> {
  const totals = new SweepTotals(job);
  const task = { baseDir: job.baseDir, cutoff: job.cutoff, startMs: job.startMs, dryRun: job.dryRun, concurrency: job.concurrency };
  const log = logBatches(job.log, job.control);
  const count = job.categories.length;
  const workers = job.categories.map(
    (_, i) => new SweepWorker(workerTask(task, job, count, i, shareOf(0, 1), false), log, (m) => totals.progressed(i, m), job.holds),
  );
  const byEntries = job.categories.map((id) => ({ id, entries: estimateEntries(job.dirs[id]) })).sort((a, b) => b.entries - a.entries);
  const [first, second] = byEntries as [{ id: CategoryId; entries: number }, ...{ id: CategoryId; entries: number }[]];
  const largest = first.id;
  // with two folders, the smaller one's worker helps with the largest
  const help = second && byEntries.length === 2 ? bucketsToHelp(second.entries, first.entries) : 0;
  const home = process.cwd();
  let inCwd: CategoryId | undefined;
  if (job.chdir) {
    try {
      process.chdir(job.dirs[largest]);
      inCwd = largest;
    } catch {
      // not a folder we can enter: its worker finds that out and reports it, with full paths
    }
  }
  const sweep = async (worker: SweepWorker, id: CategoryId, share: Shard | 'whole'): Promise<void> => {
    totals.add(id, await worker.request({ type: 'sweep', id, share, fromCwd: id === inCwd }, 'swept'));
  };
  await withWorkers(workers, inCwd !== undefined ? home : undefined, () =>
    Promise.all(
      job.categories.map(async (id, i) => {
        const worker = workers[i] as SweepWorker;
        if (id === largest) return sweep(worker, id, help > 0 ? { from: help, to: BUCKETS, count: BUCKETS } : 'whole');
        await sweep(worker, id, 'whole');
        if (help > 0) await sweep(worker, largest, { from: 0, to: help, count: BUCKETS });
      }),
    ),
  );
  return totals.results;
}

/**
 * The disk-pressure pass in a worker of its own (its heap capped as the sweep workers' are; in
 * the main thread its scans grew the heap past 96 MB at a million files). `index`: its own slot
 * in the Control, one the age pass's workers did not use.
 */
export async function pressureInWorker(job: {
  readonly baseDir: string;
  readonly categories: readonly CategoryId[];
  readonly cutoff: number;
  readonly startMs: number;
  readonly dryRun: boolean;
  readonly control: Control;
  readonly log: WorkersLog;
  readonly holds: HoldsBroadcast;
  readonly index: number;
  readonly options: DiskPressureOptions;
}): Promise<{ pass: PressurePass; errors: FailureRecord[] }> {
  const task = workerTask({ baseDir: job.baseDir, cutoff: job.cutoff, startMs: job.startMs, dryRun: job.dryRun }, job, 1, job.index, shareOf(0, 1), false);
  const worker = new SweepWorker(task, logBatches(job.log, job.control), () => {}, job.holds);
  const reply = await withWorkers([worker], undefined, () => worker.request({ type: 'pressure', options: job.options, categories: job.categories }, 'pressured'));
  return { pass: reply.pass, errors: reply.errors };
}
