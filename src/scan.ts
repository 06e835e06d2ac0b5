import fs from 'node:fs';
import type { FileKind } from './categories.js';
import { errnoCode } from './errors.js';
import type { FileLook } from './plan.js';
import { nativeScanner } from './native-scan.js';
import { RawNames, escapeRawName } from './raw-names.js';
import type { FailureRecord } from './result.js';
import { danglingLink, failure, nodeLook } from './scan-failure.js';
import { scanNative } from './scan-native.js';
import { folderPrefix } from './working-dir.js';

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
export function scanFolder(
  dir: string,
  classify: (name: string) => FileKind | undefined,
  options: { readonly fromCwd?: boolean | undefined; readonly shard?: Shard | undefined; readonly batch?: boolean | undefined } = {},
): Generator<ScannedFile | ScanFailure, void, undefined> {
  const { fromCwd = false, shard } = options;
  const split = shard !== undefined && (shard.from > 0 || shard.to < shard.count) ? shard : undefined;
  const native = nativeScanner();
  // (a path with a NUL byte in it: Node's fs refuses it, in its words)
  if (native && !dir.includes('\0')) return scanNative(native, dir, classify, { fromCwd, shard: split, batch: options.batch ?? false });
  return scanFs(dir, classify, fromCwd, split);
}

/** scanFolder's work with Node's fs. */
function* scanFs(dir: string, classify: (name: string) => FileKind | undefined, fromCwd: boolean, shard: Shard | undefined): Generator<ScannedFile | ScanFailure, void, undefined> {
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
  const prefix = folderPrefix(dir);
  let rawNames: RawNames | undefined;
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
      if (shard !== undefined && !inShard(name, shard)) continue;
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
          const item = nodeLook(shown, fromCwd ? raw : Buffer.concat([Buffer.from(prefix), raw]), prefix + shown, kind);
          if (item) yield item;
        }
      }
      const path = prefix + name;
      const item = nodeLook(name, fromCwd ? name : path, path, kind);
      if (item) yield item;
    }
  } finally {
    handle.closeSync();
  }
}
