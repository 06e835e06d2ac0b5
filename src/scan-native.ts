/**
 * scanFolder's work with the native scanner (native/scan.c): a block of names at a time, into
 * buffers reused for the whole folder, and each file's figures as numbers.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import type { FileKind } from './categories.js';
import type { NativeScanner } from './native-scan.js';
import { escapeRawName } from './raw-names.js';
import { type Listing, takeListing } from './read-ahead.js';
import { type Block, Blocks, newBlock } from './scan-blocks.js';
import type { ScanFailure, ScannedFile, Shard } from './scan.js';
import { danglingLink, failure, nodeLook, systemError } from './scan-failure.js';
import { PATH_MAX, folderPrefix } from './working-dir.js';

const { S_IFMT, S_IFREG } = fs.constants;
/** -ENOENT, as the native scanner returns it. */
export const ENOENT = -os.constants.errno.ENOENT;

/**
 * A folder's files, one at a time (next), from its blocks: what scanNative yields. (A class, not
 * the generator's own loop: V8 compiles next() as a function called per file, and the end of the
 * first folder, in the generator's finally, does not throw it away.)
 */
class Files {
  private readonly prefix: string;
  /** The folder's path as bytes, and a buffer that starts with it (a real run's looks; none from the working directory). */
  private readonly head: Buffer | undefined;
  private readonly whole: Buffer | undefined;
  /** The look at one file (see next): a real run's, or a path too long for a dry run's block look. */
  private readonly one = new Float64Array(8);
  /** The block whose files are given, and how many entries it has (0: the end; < 0: -errno). */
  private cur: Block;
  private count: number;
  /** A dry run's, status's: the next block, read and sorted while the looks at this one's files run. */
  private other: Block | undefined;
  private otherCount = 0;
  /** The next entry of `cur`, and where its name starts in `cur.names`. */
  private i = 0;
  private start = 0;
  /** `cur`'s next block is read (and its looks started), or it need not be. */
  private ahead = false;

  constructor(
    private readonly blocks: Blocks,
    private readonly at: {
      readonly native: NativeScanner;
      readonly dir: string;
      readonly fromCwd: boolean;
      readonly batch: boolean;
    },
  ) {
    this.prefix = folderPrefix(at.dir);
    // A real run's look at a file names it as its unlink will (see native/scan.c, lstat): the
    // folder's path and the name, in `whole`, or the bare name from the working directory.
    this.head = at.fromCwd ? undefined : Buffer.from(this.prefix);
    this.whole = this.head && Buffer.allocUnsafe(this.head.length + 4096);
    this.head?.copy(this.whole as Buffer);
    const first = blocks.lookahead !== undefined ? blocks.looked() : undefined;
    if (first !== undefined) {
      [this.cur, this.count] = first;
    } else {
      this.cur = newBlock();
      this.count = blocks.lookahead !== undefined ? 0 : blocks.read(this.cur);
    }
    this.other = at.batch && blocks.lookahead === undefined ? newBlock() : undefined;
    if (this.other !== undefined && this.count > 0) blocks.lookStart(this.cur, this.count);
  }

  /** The next file (or what could not be read), or undefined at the folder's end. */
  next(): ScannedFile | ScanFailure | undefined {
    const { native, fromCwd, batch } = this.at;
    const { head, whole } = this;
    for (;;) {
      // (both tests made for every file: V8 compiles them with what it saw, and the end of the
      // folder, met once, costs no deoptimization)
      const count = this.count;
      if (count < 0) return this.failed(count);
      if (count === 0) return undefined;
      if (!this.ahead) this.readAhead();
      const cur = this.cur;
      const i = this.i;
      if (i >= count) {
        this.nextBlock();
        continue;
      }
      const start = this.start;
      this.i = i + 1;
      this.start = cur.ends[i] as number;
      if (cur.marks[i] === 0) continue;
      let name = cur.shown[i] as string;
      const kind = cur.kinds[i] as FileKind;
      const end = (cur.ends[i] as number) - 1;
      let at: string | Buffer = fromCwd ? name : this.prefix + name;
      if (name.includes('\uFFFD') && !isUtf8(cur.names.subarray(start, end))) {
        const raw = Buffer.from(cur.names.subarray(start, end));
        name = escapeRawName(raw);
        at = head === undefined ? raw : Buffer.concat([head, raw]);
      }
      const path = this.prefix + name;
      let stat = cur.stats;
      let o = i * 8;
      // (a dry run's look is in the folder opened; but a path longer than PATH_MAX, which a
      // real run cannot name, is looked at as the real run would, so that both say the same)
      if (!batch || (head !== undefined && head.length + (end - start) >= PATH_MAX)) {
        const one = this.one;
        stat = one;
        o = 0;
        let r: number;
        if (head === undefined) {
          r = native.lstat(null, cur.names, start, one);
        } else if (cur.names.copy(whole as Buffer, head.length, start, end + 1) === end + 1 - start) {
          r = native.lstat(null, whole as Buffer, 0, one);
        } else {
          r = -os.constants.errno.ENAMETOOLONG; // (not on Linux: a name has at most 255 bytes)
        }
        if (r < 0) one[0] = r;
      }
      const mode = stat[o] as number;
      if (mode === ENOENT) continue; // gone since the listing
      if (mode < 0) {
        // rare: Node's own lstat, for its words (or the file, if it is readable now)
        const item = nodeLook(name, at, path, kind);
        if (item !== undefined) return item;
        continue;
      }
      // not a regular file after all (d_type unknown): not ours
      if ((mode & S_IFMT) !== S_IFREG) continue;
      return {
        name,
        path,
        at,
        kind,
        size: stat[o + 3] as number,
        blocks: stat[o + 4] as number,
        nlink: stat[o + 5] as number,
        isFile: true,
        dev: stat[o + 1] as number,
        ino: stat[o + 2] as number,
        mtimeMs: stat[o + 6] as number,
        ctimeMs: stat[o + 7] as number,
      };
    }
  }

  /** The folder could not be read on (-errno): its one failure, and the end. */
  private failed(err: number): ScanFailure {
    this.count = 0;
    return failure(this.at.dir, systemError(err, 'scandir', this.at.dir));
  }

  /** At a block's start, with a spare block: the next one read and sorted, and its looks started once this one's are done. */
  private readAhead(): void {
    this.ahead = true;
    const other = this.other;
    if (other === undefined) return;
    const { blocks } = this;
    this.otherCount = blocks.read(other);
    blocks.waitLooks();
    if (this.otherCount > 0) blocks.lookStart(other, this.otherCount);
  }

  /** The block after `cur`, as `cur`. */
  private nextBlock(): void {
    const { blocks } = this;
    this.i = 0;
    this.start = 0;
    this.ahead = false;
    if (blocks.lookahead !== undefined) {
      const next = blocks.looked();
      if (next === undefined) this.count = 0;
      else [this.cur, this.count] = next;
    } else if (this.other === undefined) {
      this.count = blocks.read(this.cur);
    } else {
      [this.cur, this.other] = [this.other, this.cur];
      this.count = this.otherCount;
    }
  }
}

/**
 * scanFolder with the native scanner: the same files, the same failures, in the same order.
 * Names come as bytes, so a name that is not valid UTF-8 is known as it is (no second listing).
 * `batch`: a whole block's files are looked at in one call, in the folder opened, before the
 * first is yielded (a dry run, status: ~40% less time in two threads, measured). Otherwise each
 * file right before it is yielded, by the name its unlink will be given (from the working
 * directory, or the folder's path and the name), so that a real run's unlink follows the look at
 * that very file with nothing between (see delete.ts), even if the folder was moved and another
 * put in its place since it was opened.
 */
export function* scanNative(
  native: NativeScanner,
  dir: string,
  classify: (name: string) => FileKind | undefined,
  options: { readonly fromCwd: boolean; readonly shard: Shard | undefined; readonly batch: boolean },
): Generator<ScannedFile | ScanFailure, void, undefined> {
  const { fromCwd, shard, batch } = options;
  const folder = native.open(Buffer.from(`${fromCwd ? '.' : dir}\0`));
  if (typeof folder === 'number') {
    // No falling back to Node's fs: every thread of a run scans one way (see native-scan.ts).
    if (folder !== ENOENT || danglingLink(dir)) yield failure(dir, systemError(folder, 'opendir'));
    return;
  }
  let listing: Listing | undefined;
  try {
    if (!fromCwd) {
      // listed but not searchable (mode r--): one failure of the folder, as with Node's fs
      try {
        fs.accessSync(dir, fs.constants.X_OK);
      } catch (err) {
        yield failure(dir, err);
        return;
      }
    }
    // a whole folder's scan may use the names its count read (read-ahead.ts), and a block scan
    // the looks at them the count set going (the lookahead)
    listing = shard === undefined ? takeListing(dir, native, folder) : undefined;
    const listed = listing?.blocks;
    const lookahead = batch ? listing?.ahead : undefined;
    // (a scan that looks at each file right before its unlink has no use for them)
    if (!batch && listing?.ahead !== undefined) native.aheadEnd(listing.ahead);
    const files = new Files(new Blocks(native, folder, dir, shard, classify, listed, lookahead), { native, dir, fromCwd, batch });
    for (let file = files.next(); file !== undefined; file = files.next()) yield file;
  } finally {
    if (listing?.ahead !== undefined) native.aheadEnd(listing.ahead);
    native.close(folder);
  }
}
