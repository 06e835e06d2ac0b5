/**
 * The native scanner (native/scan.c, built by npm install): a folder's names in blocks and one
 * file's lstat, into buffers this side reuses, instead of a Dirent per name and a Stats with four
 * Dates per lstat. Loaded once per thread; absent (not built, or VIGINT_CLEANUP_NATIVE=0), the
 * scan uses Node's fs. Every thread of a run must scan the same way, for the shares of a folder
 * to be hashed alike (see scanFolder): the main thread decides and tells its workers.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** An open folder (opaque). */
export type NativeFolder = object & { readonly __nativeFolder: unique symbol };
/** A listing's lookahead: its blocks' lstats in a thread of its own (opaque). */
export type NativeAhead = object & { readonly __nativeAhead: unique symbol };
/** A batch unlinker (opaque). */
export type NativeUnlinker = object & { readonly __nativeUnlinker: unique symbol };

export interface NativeScanner {
  /** `path` ends in a NUL byte. A folder, or -errno. */
  open(path: Buffer): NativeFolder | number;
  /** Entries into names/types/ends; 0 at the end; -errno. See native/scan.c. */
  read(folder: NativeFolder, names: Buffer, types: Uint8Array, ends: Int32Array, from: number, to: number, count: number): number;
  /**
   * 0 with `out` filled (mode, dev, ino, size, blocks, nlink, mtimeMs, ctimeMs), or -errno. The
   * NUL-ended name or path at `at` in `names` is looked up in `folder`, or with null as a system
   * call given it would (from the working directory).
   */
  lstat(folder: NativeFolder | null, names: Buffer, at: number, out: Float64Array): number;
  /**
   * lstat of each marked entry of the last read: 8 numbers per entry into `out`; out[8i] = -errno
   * on a failure. Shared among `threads` threads (this one and threads - 1 for the call).
   */
  lstatMany(folder: NativeFolder, names: Buffer, ends: Int32Array, marks: Uint8Array, count: number, out: Float64Array, threads?: number): number;
  /**
   * lstatMany's work in `threads` threads of its own, while this one goes on; the buffers must
   * stay as they are until lstatWait. -EBUSY while the folder's last block is still under way.
   */
  lstatStart(folder: NativeFolder, names: Buffer, ends: Int32Array, marks: Uint8Array, count: number, out: Float64Array, threads?: number): number;
  /** Waits for lstatStart's block (at once if none is under way). */
  lstatWait(folder: NativeFolder): number;
  close(folder: NativeFolder): void;
  /** A lookahead for the blocks the count reads from `folder` (read-ahead.ts), or -errno. */
  aheadStart(folder: NativeFolder): NativeAhead | number;
  /**
   * lstatMany's work on a block, in the lookahead's thread, after the blocks pushed before it: the
   * block's index, or -errno. The buffers must stay as they are until aheadWait(index) or aheadEnd.
   */
  aheadPush(ahead: NativeAhead, names: Buffer, ends: Int32Array, marks: Uint8Array, count: number, out: Float64Array): number;
  /** Waits for block `index` (helping with it and those before it); -EBADF once ended. */
  aheadWait(ahead: NativeAhead, index: number): number;
  /** Ends the lookahead's thread and lets its buffers go (at once; again: nothing). */
  aheadEnd(ahead: NativeAhead): void;
  /**
   * LineFormat.fileLineInto's line, made here: written into `buf` at `at`, its end returned, or -1
   * when it cannot be made so (see native/scan.c). `folder`: printable ASCII that JSON leaves as it is.
   */
  fileLine(buf: Buffer, at: number, start: Buffer, folder: Buffer, name: string, size: number, mtimeMs: number, end: Buffer): number;
  /** An unlinker: a real run's deletions a batch at a time, in threads of their own (native/scan.c). */
  unlinker(): NativeUnlinker;
  /**
   * Starts a batch: file i's NUL-ended path (or bare name) ends at ends[i]; it is looked at again
   * and unlinked only if still the regular file of `expect` (dev, ino, ctimeMs, unused: 4 per file)
   * with an mtime before `cutoff`. `results` (2 per file, and 1): filled once unlinkWait returned.
   * -EBUSY while the last batch is under way.
   */
  unlinkStart(
    unlinker: NativeUnlinker,
    paths: Buffer,
    ends: Int32Array,
    expect: Float64Array,
    count: number,
    cutoff: number,
    results: Float64Array,
    threads: number,
  ): number;
  /** Waits for the batch under way (this thread only waits; it does the work only if no thread could be started). */
  unlinkWait(unlinker: NativeUnlinker): number;
  /** As unlinkWait, then ends the unlinker's threads (kept from batch to batch until then). */
  unlinkEnd(unlinker: NativeUnlinker): number;
}

/** The sizes of the buffers a `read` is given: names' bytes, and entries (types, ends). */
export const READ_NAME_BYTES = 64 << 10;
export const READ_ENTRIES = 2048;

/** The built module, from src/, dist/ and bundle/ alike. */
const ADDON = '../build/Release/vigint_scan.node';

let addon: NativeScanner | null | undefined;
let wanted = process.env.VIGINT_CLEANUP_NATIVE !== '0';

/** The scanner, if it is built and not turned off (VIGINT_CLEANUP_NATIVE=0). */
export function nativeScanner(): NativeScanner | undefined {
  if (!wanted) return undefined;
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON) as NativeScanner;
      if (typeof addon.fileLine !== 'function') {
        // a build older than this source, not built again since: Node's fs does the work
        addon = null;
        process.emitWarning(`${ADDON} is older than the program and is not used (scans are slower): run npm install to build it again`);
      }
    } catch {
      addon = null; // not built: Node's fs does the same work
    }
  }
  return addon ?? undefined;
}

/**
 * Whether this thread's scans use the native scanner: a worker takes what its main thread chose
 * (tests choose too). Asked for and not there, it throws.
 */
export function useNative(on: boolean): void {
  wanted = on;
  if (on && nativeScanner() === undefined) throw new Error('the native scanner (build/Release/vigint_scan.node) could not be loaded');
}

/**
 * How many threads a block's lstats are shared among (lstatStart): in the main thread, which
 * sweeps alone, one per core but its own (it sorts the next block and handles the last one's
 * files meanwhile; with as many as there are cores, they slowed it: 100,000 files, 290 against
 * 323 ms on 2 cores); one in a worker, where the workers already share the cores.
 */
let lstatThreads = isMainThread ? Math.max(1, Math.min(os.availableParallelism() - 1, 8)) : 1;

export const batchThreads = (): number => lstatThreads;

/** Sets batchThreads (tests, and the measures that choose the defaults). */
export function setBatchThreads(threads: number): void {
  lstatThreads = Math.max(1, Math.min(8, Math.trunc(threads)));
}
