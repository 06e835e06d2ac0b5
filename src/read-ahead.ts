/**
 * A folder's names as the CLI's count before a run read them (thread-choice.ts), kept for the
 * run's first scan of that folder, so that a folder swept in this thread is not read twice (the
 * count of 100,000 entries costs ~30 ms, as much as the scan's own reading). Only the native
 * scanner's blocks are kept; the command that counted forgets them when its run ends
 * (forgetListings), and a scan takes them only for the very folder counted, unchanged: the same
 * device and inode once it is opened again, and the same modification and change times (an entry
 * made, removed or renamed since sets both; a folder put in the place of the one counted, even
 * with its inode number, has its own), to the times' granularity (a change within the same clock
 * tick as the count's look may not show). Otherwise the scan reads the folder again. A listing
 * used stale can only miss a file (the next run sees it) or name one gone (skipped): each file is
 * looked at by name in the folder opened, and a real run's unlink looks again right before. A
 * listing comes with its looks under way since the count (the lookahead, see entry-count.ts): a
 * file written since shows as the lookahead saw it in a dry run or status (a preview's moment);
 * a real run chooses by that look, and its unlinker's last look keeps the file (`changed`).
 */
import type { FileKind } from './categories.js';
import type { NativeAhead, NativeFolder, NativeScanner } from './native-scan.js';

/** One block of names, as native.read gave it (see native/scan.c). */
export interface ListedBlock {
  readonly names: Buffer;
  readonly types: Uint8Array;
  readonly ends: Int32Array;
  readonly count: number;
  /**
   * With a lookahead: which entries the scan looks at (1: the name matched, and it may be a
   * regular file), their kinds, and their lstats (8 numbers each, as lstatMany's), filled once
   * aheadWait(ahead, index) returned.
   */
  readonly looked?: { readonly marks: Uint8Array; readonly kinds: (FileKind | undefined)[]; readonly stats: Float64Array; readonly index: number };
}

/** A folder's names, and which folder they were read from. */
export interface Listing extends FolderIdentity {
  /** In order; the scan that takes them lets each go (undefined) once it has copied it. */
  readonly blocks: (ListedBlock | undefined)[];
  /** The lookahead looking at the blocks' marked entries since the count read them (see native/scan.c). */
  readonly ahead?: NativeAhead | undefined;
}

/** What a folder was when it was read: its device, inode, and modification and change times (ms). */
export interface FolderIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** d_type values (dirent.h) that may be a regular file: a regular file, or not said. */
const DT_UNKNOWN = 0;
const DT_REG = 8;

/**
 * Marks the entries of a block read that its scan looks at: names that matched and may be
 * regular files, with their kinds (and, given `shown`, their names). The block's names are
 * decoded in one call: each ends with its NUL byte, which UTF-8 decoding keeps as it is, and no
 * name holds one.
 */
export function sortBlock(
  names: Buffer,
  types: Uint8Array,
  ends: Int32Array,
  count: number,
  classify: (name: string) => FileKind | undefined,
  marks: Uint8Array,
  kinds: (FileKind | undefined)[],
  shown?: string[],
): void {
  const decoded = names.toString('utf8', 0, ends[count - 1] as number).split('\0');
  for (let i = 0; i < count; i++) {
    marks[i] = 0;
    // DT_REG or DT_UNKNOWN: no bit set but DT_REG's. (One test for every entry: a second one,
    // first met at an entry that is not DT_REG long after V8 optimized this loop, deoptimized it.)
    if (((types[i] as number) & ~DT_REG) !== DT_UNKNOWN) continue;
    const name = decoded[i] as string;
    const kind = classify(name);
    if (kind === undefined) continue;
    marks[i] = 1;
    kinds[i] = kind;
    if (shown !== undefined) shown[i] = name;
  }
}

const kept = new Map<string, Listing>();
/** The scanner whose lookaheads the kept listings hold (one per process thread). */
let keptBy: NativeScanner | undefined;

/** Keeps `listing` for the next scan of `dir` (the path the run's sweep is given). */
export function keepListing(dir: string, listing: Listing, native: NativeScanner): void {
  const before = kept.get(dir);
  if (before?.ahead !== undefined) native.aheadEnd(before.ahead);
  keptBy = native;
  kept.set(dir, listing);
}

/** The listing kept for `dir`, left kept (tests: to wait for its looks before changing a file). */
export function keptListing(dir: string): Listing | undefined {
  return kept.get(dir);
}

/** Forgets every listing kept (a command's run is over), and ends their lookaheads' threads. */
export function forgetListings(): void {
  for (const listing of kept.values()) if (listing.ahead !== undefined) keptBy?.aheadEnd(listing.ahead);
  kept.clear();
}

const DOT = Buffer.from('.\0');

/** The identity and size of an open folder, or undefined if it cannot be looked at. */
export function folderIdentity(native: NativeScanner, folder: NativeFolder): (FolderIdentity & { size: number }) | undefined {
  const out = new Float64Array(8);
  if (native.lstat(folder, DOT, 0, out) < 0) return undefined;
  return { dev: out[1] as number, ino: out[2] as number, size: out[3] as number, mtimeMs: out[6] as number, ctimeMs: out[7] as number };
}

const same = (a: FolderIdentity, b: FolderIdentity): boolean => a.dev === b.dev && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** The listing kept for `dir` if it was read from `folder` (opened again since), unchanged; taken once. */
export function takeListing(dir: string, native: NativeScanner, folder: NativeFolder): Listing | undefined {
  const listing = kept.get(dir);
  if (listing === undefined) return undefined;
  kept.delete(dir);
  const now = folderIdentity(native, folder);
  if (now !== undefined && same(now, listing)) return listing;
  if (listing.ahead !== undefined) native.aheadEnd(listing.ahead);
  return undefined;
}
