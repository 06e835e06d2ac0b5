import fs from 'node:fs';
import type { CategoryId } from './categories.js';
import type { CategoryResult } from './result.js';
import { type Shard, shareOf } from './scan.js';
import { type ParallelSweep, SweepTotals } from './sweep-totals.js';
import { SweepWorker, logBatches, withWorkers, workerTask } from './worker-pool.js';
import { enter } from './working-dir.js';

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
export async function sweepFoldersApart(job: ParallelSweep): Promise<Partial<Record<CategoryId, CategoryResult>>> {
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
  // a folder that cannot be entered: its worker finds that out and reports it, with full paths
  const inCwd: CategoryId | undefined = job.chdir && enter(job.dirs[largest]) ? largest : undefined;
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
