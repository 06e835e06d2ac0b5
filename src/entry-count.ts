/**
 * The count that chooses between the CLI's own thread and workers (thread-choice.ts): how many
 * entries the category folders hold, read up to the line, and, for a folder read to its end, its
 * names kept for the scan that follows (read-ahead.ts), with their looks under way (the lookahead).
 */
import fs from 'node:fs';
import type { FileKind } from './categories.js';
import { type NativeAhead, type NativeScanner, READ_ENTRIES, READ_NAME_BYTES, nativeScanner } from './native-scan.js';
import { type ListedBlock, type Listing, folderIdentity, keepListing, sortBlock } from './read-ahead.js';

/**
 * How many entries the folders hold together, counted up to `limit` (reading stops there, so a
 * folder of a million names costs no more than one of `limit`). Counted, not estimated from the
 * folder's size: ext4 never shrinks a folder, so one cleaned from 100k files down to 1k would
 * look large for ever, and ZFS reports a folder's size in entries, not bytes. A folder that
 * cannot be read counts 0 (its sweep reports what is wrong with it). With the native scanner,
 * counting 40,000 entries takes ~14 ms (Node's opendirSync: ~26 ms).
 */
export function entriesUpTo(
  dirs: readonly string[],
  limit: number,
  options: {
    readonly keep?: boolean;
    /** With `keep`: each folder's names sorted as its scan will, and the matching ones looked at ahead. */
    readonly classify?: readonly ((name: string) => FileKind | undefined)[];
    /** Entries of a folder handed to the lookahead while it is counted (tests; LOOK_WHILE_COUNTING). */
    readonly lookWhileCounting?: number;
  } = {},
): number {
  const native = nativeScanner();
  let count = 0;
  const listings: [string, Listing][] = [];
  const endAll = (): void => {
    for (const [, listing] of listings) if (listing.ahead !== undefined) native?.aheadEnd(listing.ahead);
  };
  try {
    for (const [i, dir] of dirs.entries()) {
      if (native) {
        const look = { classify: options.classify?.[i], whileCounting: options.lookWhileCounting ?? LOOK_WHILE_COUNTING };
        const { entries, listing } = countNative(native, dir, limit - count, options.keep === true, look);
        count += entries;
        if (listing !== undefined) listings.push([dir, listing]);
      } else {
        count += countFs(dir, limit - count);
      }
      if (count >= limit) {
        endAll();
        return count;
      }
    }
  } catch (err) {
    // (a classifier that throws, no memory: no thread of a listing outlives the count)
    endAll();
    throw err;
  }
  // every folder read to its end: their names serve the scans that follow (read-ahead.ts)
  for (const [dir, listing] of listings) keepListing(dir, listing, native as NativeScanner);
  return count;
}

function countFs(dir: string, limit: number): number {
  let count = 0;
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(dir, { bufferSize: 1024 });
  } catch {
    return 0;
  }
  try {
    while (count < limit && handle.readSync() !== null) count++;
  } catch {
    // as a folder that cannot be read
  } finally {
    handle.closeSync();
  }
  return count;
}

/**
 * A folder whose size in bytes is above this many per entry of the count's limit is not expected
 * to end before it, and its names are not kept while counting (they would be thrown away, and
 * the memory taken in vain: at 150,000 entries, ~5 MB of names, and with the lookahead ~10 MB of
 * looks, 64 bytes an entry, and its marks and kinds). ext4 takes 8 bytes and the name, rounded up
 * to 4, per entry, in blocks filled 3/4 or more: 96 bytes allows names of ~60 bytes. A folder that
 * once held many more files keeps its size: its names are read twice, as before.
 */
const KEEP_BYTES_PER_ENTRY = 96;

/**
 * How full ext4 keeps a folder's blocks: 0.69-0.70 of their bytes hold entries in the bench's
 * trees (incident names of 29 bytes: 57 bytes a entry; video names: 40), as in a B-tree whose
 * blocks split in two when full.
 */
const BLOCK_FILL = 0.7;

/**
 * The entries a folder of `size` bytes holds if its names are like the `count` of a block read
 * (`bytes` of them, each with its NUL byte): ext4 takes 8 bytes and the name, rounded up to 4,
 * per entry, in blocks BLOCK_FILL full. A guess: a folder emptied since keeps its size and looks
 * fuller than it is (its names are then read twice, as with KEEP_BYTES_PER_ENTRY); one whose blocks
 * are fuller looks emptier (its names are kept up to the line, as before).
 */
export function entriesBySize(size: number, bytes: number, count: number): number {
  const record = 4 * Math.ceil((8 + bytes / count - 1) / 4);
  return (size * BLOCK_FILL) / record;
}

/**
 * Names (and looks) are kept for at most this many entries, whatever the count's limit (a large
 * VIGINT_CLEANUP_WORKERS_FROM): past it, a folder's names are let go and its scan reads it again,
 * so that memory stays under ~100 MB (the default line, thread-choice.ts).
 */
const KEEP_MAX_ENTRIES = 150_000;

/**
 * While a folder is being counted, its blocks that begin within this many entries are handed to the
 * lookahead at once (their looks run beside the count's reading); the rest only once the folder
 * is read to its end below the line. A folder past the line (its sweep in workers) so costs at
 * most this many looks and their figures (64 bytes an entry) in vain: a dry run of 500,000 files
 * peaked at 106-109 MB with every block handed over at once, 94-95 MB with 10,000 (and the 100,000-file
 * dry run was no slower: 9 alternating rounds, 371 against 370 ms).
 */
const LOOK_WHILE_COUNTING = 10_000;

/**
 * `keep`: the names read too, when the folder was read to its end before `limit`; and with
 * `classify`, each block sorted as the scan will and its matching entries looked at (lstat) in a
 * thread of the listing's own while the count reads on (native/scan.c, "ahead"): the looks of a
 * 100,000-file folder then run beside its reading instead of after it. Ended (the thread stopped)
 * when the listing is not kept.
 */
function countNative(
  native: NativeScanner,
  dir: string,
  limit: number,
  keep: boolean,
  look: { readonly classify: ((name: string) => FileKind | undefined) | undefined; readonly whileCounting: number },
): { entries: number; listing?: Listing } {
  const { classify, whileCounting } = look;
  if (dir.includes('\0')) return { entries: 0 };
  const folder = native.open(Buffer.from(`${dir}\0`));
  if (typeof folder === 'number') return { entries: 0 };
  const names = Buffer.allocUnsafe(READ_NAME_BYTES);
  const types = new Uint8Array(READ_ENTRIES);
  const ends = new Int32Array(READ_ENTRIES);
  const blocks: ListedBlock[] = [];
  let count = 0;
  let ahead: NativeAhead | undefined;
  /** Hands blocks[i] to the lookahead; after one it could not take (no memory), none: the scan looks at those itself. */
  let handing = true;
  const handOver = (i: number): void => {
    const block = blocks[i] as ListedBlock;
    const looked = handing && ahead !== undefined && classify !== undefined ? lookAhead(native, ahead, block, classify) : undefined;
    if (looked === undefined) handing = false;
    else blocks[i] = { ...block, looked };
  };
  try {
    const opened = keep ? folderIdentity(native, folder) : undefined;
    const keepUpTo = Math.min(limit, KEEP_MAX_ENTRIES);
    let identity = opened !== undefined && opened.size <= keepUpTo * KEEP_BYTES_PER_ENTRY ? opened : undefined;
    if (identity !== undefined && classify !== undefined) {
      const started = native.aheadStart(folder);
      if (typeof started !== 'number') ahead = started;
    }
    while (count < limit) {
      const n = native.read(folder, names, types, ends, 0, 1, 1);
      if (n < 0) break; // a folder that cannot be read: its scan reports it
      if (n === 0) {
        if (identity === undefined) return { entries: count };
        // read to its end below the line: the blocks not handed over yet are, now
        for (let i = 0; i < blocks.length; i++) if ((blocks[i] as ListedBlock).looked === undefined) handOver(i);
        const listing = { entries: count, listing: { ...identity, blocks, ahead } };
        ahead = undefined; // (the listing's now)
        return listing;
      }
      count += n;
      // (the first block's names also say how many entries the folder's size holds: the 167,673 of
      // the bench's 500,000-file tree, 9.6 MB, are guessed at 168,000, past the line: none kept)
      const past = count > keepUpTo || (blocks.length === 0 && identity !== undefined && entriesBySize(identity.size, ends[n - 1] as number, n) > keepUpTo);
      if (identity !== undefined && past) {
        // (more than may be kept: the names and looks so far let go, the count goes on)
        identity = undefined;
        blocks.length = 0;
        if (ahead !== undefined) native.aheadEnd(ahead);
        ahead = undefined;
      }
      if (identity !== undefined) {
        blocks.push({ names: Buffer.from(names.subarray(0, ends[n - 1])), types: types.slice(0, n), ends: ends.slice(0, n), count: n });
        if (count - n < whileCounting) handOver(blocks.length - 1);
      }
    }
    return { entries: count };
  } finally {
    if (ahead !== undefined) native.aheadEnd(ahead);
    native.close(folder);
  }
}

/** Sorts a block as its scan will (sortBlock), and hands its marked entries to the lookahead. */
function lookAhead(native: NativeScanner, ahead: NativeAhead, block: Omit<ListedBlock, 'looked'>, classify: (name: string) => FileKind | undefined): ListedBlock['looked'] | undefined {
  const marks = new Uint8Array(block.count);
  const kinds = new Array<FileKind | undefined>(block.count);
  sortBlock(block.names, block.types, block.ends, block.count, classify, marks, kinds);
  const stats = new Float64Array(8 * block.count);
  // (the thread reads names, ends and marks until the block is waited for: they are this block's
  // own, never written again nor transferred)
  const index = native.aheadPush(ahead, block.names, block.ends, marks, block.count, stats);
  return index < 0 ? undefined : { marks, kinds, stats, index };
}

