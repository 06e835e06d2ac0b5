import os from 'node:os';
import type { FileKind } from './categories.js';
import type { Env } from './config.js';
import { entriesUpTo } from './entry-count.js';
import { usageError } from './errors.js';
import { nativeScanner } from './native-scan.js';

/**
 * Below this many entries in all the folders of a run, the CLI sweeps (and measures) in its own
 * thread: starting two worker threads, each loading its modules, costs more than they save.
 * With Node's fs (medians of 8-10 runs, workers vs this thread): real runs 1,500 entries 307/222
 * ms, 5,000 494/359 ms, 10,000 672/796 ms, 20,000 1159/1376 ms; dry runs 5,000 469/378 ms,
 * 10,000 471/335 ms, 40,000 744/575 ms. Real runs decide it.
 */
export const IN_THREAD_MAX_ENTRIES = 8_000;

/**
 * The same line with the native scanner, which makes a file so much cheaper that this thread
 * alone outruns two workers far longer: its lstats go a block at a time to a thread of the
 * scanner's own (the count's lookahead, for the first scan of a folder) while it handles the last
 * block's files, and a real run's unlinks go in batches to the unlinker's two threads; two
 * workers each start Node, read the whole folder for their share and compile the same code.
 * Measured with the CLI, 2 cores, medians or ranges, ms (× find in the same rounds):
 * - dry run, this thread / two workers: 100,000 files 1.06/1.33 × find (9 runs), 333,000
 *   0.91/0.86 (5 runs), 1,000,000 0.84/0.77 (3 runs); status 0.91/1.10, 0.85/0.61, 0.85/0.52;
 * - real run, 4 rounds on fresh sparse copies (2026-12-06): 100,000 files 801-893 / 928-1048
 *   (find -delete 952-1030; CPU 1.25-1.39 / 1.54-1.71 s; peak RSS 77-80 / 90-92 MB); 140,000 files
 *   (3 rounds) 1115-1170 / 1184-1301 (find -delete 1292-1377; 82 / 92 MB). Before the unlinker's
 *   batches the real run's line was 40,000 (library, 3 runs: 40,000 entries 460/501 ms).
 * Counting up to it costs ~30 ms per 100,000 entries, the count's lookahead looking at them
 * meanwhile.
 */
export const IN_THREAD_MAX_ENTRIES_NATIVE = 150_000;

/**
 * In its own thread, the CLI's sweep yields to the event loop after this long (ms), so that a
 * signal, a hold added, or the progress line are seen within it (workers need no such pause:
 * the main thread's loop is free while they sweep).
 */
export const IN_THREAD_SLICE_MS = 5;

/**
 * The line between this thread and workers, in entries: VIGINT_CLEANUP_WORKERS_FROM when it is
 * set (a whole number; 0: always workers; for a machine whose cores or disks call for another
 * line, and for tests that reach the workers without 150,000 files), else the default for the way
 * this process scans. A value that is not a whole number is a usage error.
 */
export function inThreadMaxEntries(env: Env = {}): number {
  const raw = env.VIGINT_CLEANUP_WORKERS_FROM;
  if (raw === undefined || raw === '') return nativeScanner() ? IN_THREAD_MAX_ENTRIES_NATIVE : IN_THREAD_MAX_ENTRIES;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw usageError(`invalid VIGINT_CLEANUP_WORKERS_FROM '${raw}': expected a whole number of entries, 0 or more, such as 150000 (0: always worker threads)`);
  }
  return Number(raw.trim());
}

/**
 * Worker threads for the CLI's sweep of `dirs`: none for small folders (inThreadMaxEntries),
 * else one per core, at most two (beyond two, the folder's own lock in the kernel, which unlinks
 * in one directory take in turn, leaves little to gain).
 */
export function cliWorkers(dirs: readonly string[], inThreadMax = inThreadMaxEntries(), classify?: readonly ((name: string) => FileKind | undefined)[]): number {
  if (entriesUpTo(dirs, inThreadMax, { keep: true, classify }) < inThreadMax) return 0;
  return Math.min(2, os.availableParallelism());
}
