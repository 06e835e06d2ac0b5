import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { FileKind } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import type { FileLook } from './plan.js';
import { type NativeFolder, type NativeScanner, nativeScanner } from './native-scan.js';
import { RawNames, escapeRawName } from './raw-names.js';
import type { FailureRecord } from './result.js';

/** A regular file directly inside a category folder whose name matched. */
export interface ScannedFile extends FileLook {
  readonly name: string;
  /** Absolute path, for reports and logs. */
  readonly path: string;
  /**
   * What system calls are given: the bare name when scanning from the working directory; bytes
   * for a name that is not valid UTF-8 (see RawNames).
   */
  readonly at: string | Buffer;
  readonly kind: FileKind;
  readonly size: number;
  /** 512-byte blocks allocated, and hard links: what deleting it frees (disk pressure). */
  readonly blocks: number;
  readonly nlink: number;
}

/** Something the scan could not read; the scan goes on where it can. */
export interface ScanFailure {
  readonly failure: FailureRecord;
}

/**
 * A share of a folder's names: a name's hash falls in one of `count` buckets, and the share is
 * the buckets `from` to `to - 1` (see `inShard`). Shares with disjoint ranges never meet.
 */
export interface Shard {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** The `index`-th of `count` equal shares. */
export const shareOf = (index: number, count: number): Shard => ({ from: index, to: index + 1, count });

/** One byte into an FNV-1a hash. */
const fnv = (h: number, byte: number): number => Math.imul(h ^ byte, 0x01000193);

/**
 * FNV-1a over the name's UTF-8 bytes (as the native scanner hashes the bytes it reads, so that
 * both ways of scanning share a folder alike): cheap, stable, and spreads numbered names evenly.
 */
export function inShard(name: string, shard: Shard): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c < 0x80) {
      h = fnv(h, c);
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < name.length) {
      const low = name.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        c = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (c < 0x800) {
      h = fnv(fnv(h, 0xc0 | (c >> 6)), 0x80 | (c & 63));
    } else if (c < 0x10000) {
      h = fnv(fnv(fnv(h, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 63)), 0x80 | (c & 63));
    } else {
      h = fnv(fnv(fnv(fnv(h, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 63)), 0x80 | ((c >> 6) & 63)), 0x80 | (c & 63));
    }
  }
  const bucket = (h >>> 0) % shard.count;
  return bucket >= shard.from && bucket < shard.to;
}

/** What deleting a file frees on the disk: its allocated blocks, nothing while other links remain. */
export function freedBlocks(f: { readonly blocks: number; readonly nlink: number }): number {
  return f.nlink > 1 ? 0 : f.blocks * 512;
}

export function lookOf(stat: fs.Stats): FileLook {
  return { isFile: stat.isFile(), dev: stat.dev, ino: stat.ino, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
}

/** Entries that the directory itself says are not regular files: no lstat needed to refuse them. */
function knownNotRegular(d: fs.Dirent): boolean {
  return d.isDirectory() || d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice();
}

/**
 * A category folder that is a symbolic link to nothing is a data disk that is not mounted: a
 * failure of the category, never "0 files" (a missing folder that is not a link is 0 files).
 */
export function danglingLink(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isSymbolicLink();
  } catch {
    return false;
  }
}

function failure(path: string, err: unknown): ScanFailure {
  return { failure: { path, code: errnoCode(err), message: errorMessage(err) } };
}

/**
 * Streams the matching regular files directly inside `dir`, one directory block at a time, so
 * memory stays flat however large the folder is (fast-glob reads a whole folder into an array).
 * Synchronous on purpose: the round trip of an async call costs more than an lstat. The folder
 * itself may be a symbolic link (opendir follows it once); nothing inside is followed: the type
 * comes from lstat. A missing folder yields nothing.
 *
 * `fromCwd`: the working directory is `dir` (the CLI changes into each folder): system calls take
 * bare names, as find's fstatat does, and the kernel resolves one component instead of the whole
 * path; `dir` is then only used in reports.
 *
 * `shard`: only this share of the names (workers scan one folder together, each its own share).
 * Each share reports a failure to read the folder itself: one share may meet it and another not
 * (a read error part-way, a descriptor limit). Whoever merges the shares counts it once.
 */
export function* scanFolder(
  dir: string,
  classify: (name: string) => FileKind | undefined,
  options: { readonly fromCwd?: boolean | undefined; readonly shard?: Shard | undefined; readonly batch?: boolean | undefined } = {},
): Generator<ScannedFile | ScanFailure, void, undefined> {
  const { fromCwd = false, shard } = options;
  const split = shard !== undefined && (shard.from > 0 || shard.to < shard.count);
  const native = nativeScanner();
  // (a path with a NUL byte in it: Node's fs refuses it, in its words)
  if (native && !dir.includes('\0')) {
    const folder = native.open(Buffer.from(`${fromCwd ? '.' : dir}\0`));
    if (typeof folder === 'number') {
      // No falling back to Node's fs: every thread of a run scans one way (see native-scan.ts).
      if (folder !== ENOENT || danglingLink(dir)) yield failure(dir, systemError(folder, 'opendir'));
      return;
    }
    yield* scanNative(native, folder, dir, classify, { fromCwd, shard: split ? shard : undefined, batch: options.batch ?? false });
    return;
  }
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(fromCwd ? '.' : dir, { bufferSize: 128 });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' || danglingLink(dir)) yield failure(dir, err);
    return;
  }
  if (!fromCwd) {
    // A folder that may be listed but not searched (mode r--): one failure of the folder, as
    // when changing into it fails, not one per file.
    try {
      fs.accessSync(dir, fs.constants.X_OK);
    } catch (err) {
      handle.closeSync();
      yield failure(dir, err);
      return;
    }
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  let rawNames: RawNames | undefined;
  const look = (name: string, at: string | Buffer, path: string, kind: FileKind): ScannedFile | ScanFailure | undefined => {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(at, { throwIfNoEntry: false });
    } catch (err) {
      return failure(path, err);
    }
    // Gone since the listing, or not a regular file after all (d_type unknown): not ours.
    if (stat === undefined || !stat.isFile()) return undefined;
    return { name, path, at, kind, size: stat.size, blocks: stat.blocks, nlink: stat.nlink, isFile: true, dev: stat.dev, ino: stat.ino, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
  };
  try {
    for (;;) {
      let entry: fs.Dirent | null;
      try {
        entry = handle.readSync();
      } catch (err) {
        yield failure(dir, err);
        return;
      }
      if (entry === null) return;
      const name = entry.name;
      if (split && !inShard(name, shard)) continue;
      const kind = classify(name);
      if (kind === undefined || knownNotRegular(entry)) continue;
      if (name.includes('\uFFFD')) {
        // Perhaps not the real name (invalid UTF-8 decoded): look up the bytes behind it.
        rawNames ??= new RawNames(fromCwd ? '.' : dir);
        let raws: Buffer[] | undefined;
        try {
          raws = rawNames.take(name);
        } catch (err) {
          yield failure(prefix + name, err);
          continue;
        }
        if (raws === undefined) continue; // met before: its files were looked at then
        for (const raw of raws) {
          const shown = escapeRawName(raw);
          const item = look(shown, fromCwd ? raw : Buffer.concat([Buffer.from(prefix), raw]), prefix + shown, kind);
          if (item) yield item;
        }
      }
      const path = prefix + name;
      const item = look(name, fromCwd ? name : path, path, kind);
      if (item) yield item;
    }
  } finally {
    handle.closeSync();
  }
}

/** d_type values (dirent.h) that may be a regular file: a regular file, or not said. */
const DT_UNKNOWN = 0;
const DT_REG = 8;
const { S_IFMT, S_IFREG } = fs.constants;
const ENOENT = -os.constants.errno.ENOENT;

/**
 * A failure of a system call (`errno` negative, as libuv's), as Node words it: `EIO: i/o error,
 * scandir '/x'`; without `path`, as Node 20's opendir words its own (`ENOENT: no such file or
 * directory, opendir`).
 */
export function systemError(errno: number, syscall: string, path?: string): NodeJS.ErrnoException {
  const [code, description] = getSystemErrorMap().get(errno) ?? ['EUNKNOWN', 'unknown error'];
  const err: NodeJS.ErrnoException = new Error(`${code}: ${description}, ${syscall}${path === undefined ? '' : ` '${path}'`}`);
  return Object.assign(err, { errno, code, syscall }, path === undefined ? {} : { path });
}

/** The files of a scan's folder, as the native scanner reads them: one block at a time. */
interface Block {
  readonly names: Buffer;
  readonly types: Uint8Array;
  readonly ends: Int32Array;
  /** Per entry of the block: 1 if it is looked at (its name matched, and it may be a regular file). */
  readonly marks: Uint8Array;
  readonly shown: string[];
  readonly kinds: (FileKind | undefined)[];
  /** 8 numbers per entry (see native/scan.c), for a whole block looked at in one call. */
  readonly stats: Float64Array;
}

const BLOCK_ENTRIES = 2048;

function newBlock(): Block {
  return {
    names: Buffer.allocUnsafe(64 << 10),
    types: new Uint8Array(BLOCK_ENTRIES),
    ends: new Int32Array(BLOCK_ENTRIES),
    marks: new Uint8Array(BLOCK_ENTRIES),
    shown: new Array<string>(BLOCK_ENTRIES).fill(''),
    kinds: new Array<FileKind | undefined>(BLOCK_ENTRIES).fill(undefined),
    stats: new Float64Array(8 * BLOCK_ENTRIES),
  };
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
function* scanNative(
  native: NativeScanner,
  folder: NativeFolder,
  dir: string,
  classify: (name: string) => FileKind | undefined,
  options: { readonly fromCwd: boolean; readonly shard: Shard | undefined; readonly batch: boolean },
): Generator<ScannedFile | ScanFailure, void, undefined> {
  const { fromCwd, shard, batch } = options;
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const b = newBlock();
  const one = new Float64Array(8);
  // A real run's look at a file names it as its unlink will (see native/scan.c, lstat): the
  // folder's path and the name, in `whole`, or the bare name from the working directory.
  const head = Buffer.from(prefix);
  const whole = fromCwd ? b.names : Buffer.allocUnsafe(head.length + 4096);
  head.copy(whole);
  try {
    if (!fromCwd) {
      // listed but not searchable (mode r--): one failure of the folder, as in scanFolder
      try {
        fs.accessSync(dir, fs.constants.X_OK);
      } catch (err) {
        yield failure(dir, err);
        return;
      }
    }
    for (;;) {
      const count = native.read(folder, b.names, b.types, b.ends, shard?.from ?? 0, shard?.to ?? 1, shard?.count ?? 1);
      if (count < 0) {
        yield failure(dir, systemError(count, 'scandir', dir));
        return;
      }
      if (count === 0) return;
      // the names that matched and may be regular files
      for (let i = 0, start = 0; i < count; start = b.ends[i] as number, i++) {
        b.marks[i] = 0;
        const type = b.types[i];
        if (type !== DT_REG && type !== DT_UNKNOWN) continue;
        const name = b.names.toString('utf8', start, (b.ends[i] as number) - 1);
        const kind = classify(name);
        if (kind === undefined) continue;
        b.marks[i] = 1;
        b.shown[i] = name;
        b.kinds[i] = kind;
      }
      if (batch) native.lstatMany(folder, b.names, b.ends, b.marks, count, b.stats);
      for (let i = 0, start = 0; i < count; start = b.ends[i] as number, i++) {
        if (b.marks[i] === 0) continue;
        let name = b.shown[i] as string;
        const kind = b.kinds[i] as FileKind;
        const end = (b.ends[i] as number) - 1;
        let at: string | Buffer = fromCwd ? name : prefix + name;
        if (name.includes('\uFFFD') && !isUtf8(b.names.subarray(start, end))) {
          const raw = Buffer.from(b.names.subarray(start, end));
          name = escapeRawName(raw);
          at = fromCwd ? raw : Buffer.concat([Buffer.from(prefix), raw]);
        }
        const path = prefix + name;
        let stat = b.stats;
        let o = i * 8;
        if (!batch) {
          stat = one;
          o = 0;
          let r: number;
          if (fromCwd) {
            r = native.lstat(null, b.names, start, one);
          } else {
            b.names.copy(whole, head.length, start, b.ends[i] as number);
            r = native.lstat(null, whole, 0, one);
          }
          if (r < 0) one[0] = r;
        }
        const mode = stat[o] as number;
        if (mode === ENOENT) continue; // gone since the listing
        if (mode < 0) {
          // rare: Node's own lstat, for its words (or the file, if it is readable now)
          let s: fs.Stats | undefined;
          try {
            s = fs.lstatSync(at, { throwIfNoEntry: false });
          } catch (err) {
            yield failure(path, err);
            continue;
          }
          if (s === undefined || !s.isFile()) continue;
          yield { name, path, at, kind, size: s.size, blocks: s.blocks, nlink: s.nlink, isFile: true, dev: s.dev, ino: s.ino, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
          continue;
        }
        // not a regular file after all (d_type unknown): not ours
        if ((mode & S_IFMT) !== S_IFREG) continue;
        yield {
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
  } finally {
    native.close(folder);
  }
}
