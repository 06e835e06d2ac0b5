/** What is at the run lock's path (lock.ts): a lock and its holder, nothing, or something else. */
import fs from 'node:fs';
import { CleanupError, EXIT, errnoCode } from './errors.js';
import { type Seen, parseOldFile, parseTarget } from './lock-holder.js';

function unreadable(file: string, err: unknown): CleanupError {
  return new CleanupError(
    `the lock ${file} exists and cannot be read (${errnoCode(err)}): another cleanup may hold it, so it is not taken over; nothing was deleted. ` +
      `If no cleanup of this folder is running, remove ${file}`,
    EXIT.locked,
    'ELOCKED',
  );
}

function notOurs(file: string, what: string): CleanupError {
  return new CleanupError(
    `the lock path ${file} is ${what}, not a vigint-cleanup lock; nothing was deleted and it was left as it is: move it away to let cleanups run`,
    EXIT.partial,
    'ENOTLOCK',
  );
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  return 'of an unknown type';
}

/**
 * What is at the lock path: undefined (nothing: compete again), or the lock seen. Throws exit 75
 * for a lock that cannot be read and exit 1 for something that is not a lock.
 */
export function inspect(file: string): Seen | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw unreadable(file, err);
  }
  if (st.isSymbolicLink()) {
    let raw: string;
    try {
      raw = fs.readlinkSync(file);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      // a symbolic link replaced meanwhile by something else is read again on the next round
      if (errnoCode(err) === 'EINVAL') return inspect(file);
      throw unreadable(file, err);
    }
    const holder = parseTarget(raw);
    if (holder === undefined) throw notOurs(file, `a symbolic link to ${JSON.stringify(raw)}`);
    return { ino: st.ino, raw, mtimeMs: st.mtimeMs, holder };
  }
  if (st.isFile()) return inspectOldFile(file, st);
  throw notOurs(file, kindOf(st));
}

/** A regular file: the JSON lock of 0.1.x (opened without following links or blocking). */
function inspectOldFile(file: string, st: fs.Stats): Seen | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') return inspect(file); // replaced by a link meanwhile
    throw unreadable(file, err);
  }
  try {
    const now = fs.fstatSync(fd);
    if (now.ino !== st.ino || !now.isFile()) return inspect(file);
    if (now.size > 4096) throw notOurs(file, `a regular file of ${now.size} bytes`);
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const raw = buf.subarray(0, n).toString('utf8');
    const holder = parseOldFile(raw.trim());
    if (holder === undefined) throw notOurs(file, 'a regular file that is not a vigint-cleanup lock');
    return { ino: now.ino, raw, mtimeMs: now.mtimeMs, holder };
  } catch (err) {
    if (err instanceof CleanupError) throw err;
    throw unreadable(file, err);
  } finally {
    fs.closeSync(fd);
  }
}
