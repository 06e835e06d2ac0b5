/** What a scan reports of a file looked at with Node's fs, and of what it could not read. */
import fs from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import type { FileKind } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import type { ScanFailure, ScannedFile } from './scan.js';

/** The scan's report of `path`, which it could not read for `err`. */
export function failure(path: string, err: unknown): ScanFailure {
  return { failure: { path, code: errnoCode(err), message: errorMessage(err) } };
}

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

/**
 * The file named `at`, looked at with Node's lstat: the file; a failure, in Node's words; or
 * undefined when it is gone since the listing, or not a regular file after all (d_type unknown).
 */
export function nodeLook(name: string, at: string | Buffer, path: string, kind: FileKind): ScannedFile | ScanFailure | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(at, { throwIfNoEntry: false });
  } catch (err) {
    return failure(path, err);
  }
  if (stat === undefined || !stat.isFile()) return undefined;
  return { name, path, at, kind, size: stat.size, blocks: stat.blocks, nlink: stat.nlink, isFile: true, dev: stat.dev, ino: stat.ino, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
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
