import fs from 'node:fs';
import os from 'node:os';

/**
 * Below this many entries in all the folders of a run, the CLI sweeps (and measures) in its own
 * thread: starting two worker threads, each loading its modules, costs more than they save.
 * Measured (2 cores, empty files, all old, medians of 8-10 runs, workers vs this thread): real
 * runs 1,500 entries 307/222 ms, 5,000 494/359 ms, 10,000 672/796 ms, 20,000 1159/1376 ms;
 * dry runs 5,000 469/378 ms, 10,000 471/335 ms, 40,000 744/575 ms. Real runs decide it.
 */
export const IN_THREAD_MAX_ENTRIES = 8_000;

/**
 * In its own thread, the CLI's sweep yields to the event loop after this long (ms), so that a
 * signal, a hold added, or the progress line are seen within it (workers need no such pause:
 * the main thread's loop is free while they sweep).
 */
export const IN_THREAD_SLICE_MS = 5;

/**
 * How many entries the folders hold together, counted up to `limit` (reading stops there, so a
 * folder of a million names costs no more than one of `limit`). Counted, not estimated from the
 * folder's size: ext4 never shrinks a folder, so one cleaned from 100k files down to 1k would
 * look large for ever, and ZFS reports a folder's size in entries, not bytes. A folder that
 * cannot be read counts 0 (its sweep reports what is wrong with it).
 */
export function entriesUpTo(dirs: readonly string[], limit: number): number {
  let count = 0;
  for (const dir of dirs) {
    let handle: fs.Dir;
    try {
      handle = fs.opendirSync(dir, { bufferSize: 1024 });
    } catch {
      continue;
    }
    try {
      while (count < limit && handle.readSync() !== null) count++;
    } catch {
      // as a folder that cannot be read
    } finally {
      handle.closeSync();
    }
    if (count >= limit) break;
  }
  return count;
}

/**
 * Worker threads for the CLI's sweep of `dirs`: none for small folders (IN_THREAD_MAX_ENTRIES),
 * else one per core, at most two (beyond two, the folder's own lock in the kernel, which unlinks
 * in one directory take in turn, leaves little to gain).
 */
export function cliWorkers(dirs: readonly string[], inThreadMax = IN_THREAD_MAX_ENTRIES): number {
  if (entriesUpTo(dirs, inThreadMax) < inThreadMax) return 0;
  return Math.min(2, os.availableParallelism());
}
