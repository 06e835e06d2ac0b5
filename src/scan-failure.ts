/** What a scan reports of a folder or a file it could not read. */
import { getSystemErrorMap } from 'node:util';
import { errnoCode, errorMessage } from './errors.js';
import type { ScanFailure } from './scan.js';

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
