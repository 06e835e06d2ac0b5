/**
 * The jobs in worker threads, each through the one driver (worker-pool.ts): the sweep (all
 * workers in each folder in turn, or a worker per folder: folders-apart.ts), status's figures,
 * and the disk-pressure pass.
 */
import type { CategoryId } from './categories.js';
import type { Control } from './control.js';
import { errnoCode, errorMessage } from './errors.js';
import { type CategoryStatus, emptyFigures, mergeFigures } from './figures.js';
import { sweepFoldersApart } from './folders-apart.js';
import type { HoldsBroadcast } from './hold-follow.js';
import type { DiskPressureOptions, PressurePass } from './pressure.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS } from './result.js';
import { shareOf } from './scan.js';
import { danglingLink } from './scan-failure.js';
import type { WorkerMessage } from './sweep-worker.js';
import { type ParallelSweep, SweepTotals, onceForFolder } from './sweep-totals.js';
import { type CommonTask, SweepWorker, type WorkersLog, logBatches, withWorkers, workerTask } from './worker-pool.js';

export type { HostLogger, WorkersLog } from './worker-pool.js';

/** A job walking the folders (a sweep's or status's): what a parallel sweep is told of them. */
interface FolderJob extends Pick<ParallelSweep, 'baseDir' | 'categories' | 'dirs' | 'workers' | 'chdir' | 'control' | 'holds'> {
  readonly log?: WorkersLog | undefined;
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
