import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CleanupError, EXIT, errnoCode, errorMessage, usageError } from './errors.js';
import { holdEndMs, parseHoldPattern } from './hold-pattern.js';
import { readRegularFile } from './read-file.js';
import { randomHex } from './random-hex.js';

export const HOLDS_NAME = '.vigint-holds.json';
export const HOLDS_LOCK_NAME = '.vigint-holds.lock';
const FORMAT = 'vigint-holds/1';

/** One evidence hold, as `<base>/.vigint-holds.json` records it. */
export interface Hold {
  /** `folder/nameglob` or a bare `nameglob` (see hold-pattern.ts). */
  readonly pattern: string;
  readonly reason: string | null;
  /** Who added it: the user name, else `uid N`. */
  readonly who: string | null;
  /** When it was added (ISO 8601). */
  readonly when: string | null;
  /** `YYYY-MM-DD`: it protects until the end of that day (UTC); null: until removed. */
  readonly until: string | null;
}

export function holdsPath(baseDir: string): string {
  return path.join(baseDir, HOLDS_NAME);
}

function invalid(file: string, what: string): CleanupError {
  return usageError(
    `the hold file ${file} ${what}; nothing is deleted until it is fixed (or moved away, which drops every hold)`,
  );
}

const optionalString = (v: unknown): v is string | null | undefined => v === undefined || v === null || typeof v === 'string';

/** Checks the text of a hold file; throws a usage error (exit 2) naming the file and the fault. */
export function parseHolds(text: string, file: string): Hold[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(file, text.trim() === '' ? 'is empty' : `is not valid JSON (${errorMessage(err)})`);
  }
  const list = (doc as { holds?: unknown } | null)?.holds;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(list)) throw invalid(file, 'has no "holds" list');
  return list.map((entry: unknown, i): Hold => {
    const h = entry as Record<string, unknown> | null;
    const at = `hold ${i + 1}`;
    if (typeof h !== 'object' || h === null || typeof h.pattern !== 'string') throw invalid(file, `has no pattern in ${at}`);
    try {
      parseHoldPattern(h.pattern);
    } catch (err) {
      throw invalid(file, `has an invalid pattern in ${at}: ${errorMessage(err)}`);
    }
    if (!optionalString(h.until) || (typeof h.until === 'string' && Number.isNaN(holdEndMs(h.until)))) {
      throw invalid(file, `has an invalid "until" in ${at} (${JSON.stringify(h.until)}; expected "YYYY-MM-DD" or null)`);
    }
    for (const key of ['reason', 'who', 'when'] as const) {
      if (!optionalString(h[key])) throw invalid(file, `has a "${key}" that is not a string in ${at}`);
    }
    const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return { pattern: h.pattern, reason: text(h.reason), who: text(h.who), when: text(h.when), until: text(h.until) };
  });
}

/**
 * The holds of a base folder. A missing file means no holds; a file that exists but cannot be
 * read or parsed throws a usage error (exit 2) that names it and says what is wrong: a run must
 * then delete nothing rather than guess.
 */
export function loadHolds(baseDir: string): Hold[] {
  const file = holdsPath(baseDir);
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw invalid(file, `cannot be read (${errnoCode(err)})`);
  }
  return parseHolds(text, file);
}

/**
 * A cheap token that changes whenever the hold file is replaced, from one stat:
 * `<mtime in ns>.<inode>.<size>` (the last two in base 36, to keep it short enough for a symbolic
 * link stored in the inode); 'none' when there is no file, 'unreadable-<code>' when stat fails.
 * Every write of `updateHolds` gives a new inode and an mtime later than the one before, so a
 * token never comes back, and of two tokens the one with the later mtime includes the other's
 * holds (see `versionIncludes`).
 */
export function holdsVersion(baseDir: string): string {
  try {
    const st = fs.statSync(holdsPath(baseDir), { bigint: true });
    return `${st.mtimeNs}.${st.ino.toString(36)}.${st.size.toString(36)}`;
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'none' : `unreadable-${errnoCode(err)}`;
  }
}

/**
 * True if a cleanup that applies hold file version `applied` also applies what was written as
 * `written`: the same version, or one written later (every write starts from the file before it,
 * under the lock, so a later file holds what an earlier one held, unless a hold was removed).
 */
export function versionIncludes(applied: string, written: string): boolean {
  if (applied === written) return true;
  const mtime = (v: string): bigint | undefined => (/^\d+\./.test(v) ? BigInt(v.slice(0, v.indexOf('.'))) : undefined);
  const a = mtime(applied);
  const w = mtime(written);
  return a !== undefined && w !== undefined && a > w;
}

/**
 * The version and the holds, read in that order: if the file changes in between, the holds are
 * newer than the version, never older, so acknowledging that version is always safe.
 */
export function snapshotHolds(baseDir: string): { version: string; holds: Hold[] } {
  const version = holdsVersion(baseDir);
  return { version, holds: loadHolds(baseDir) };
}

/**
 * Replaces the file in one step: written to a temporary file in the same folder, fsync'ed,
 * renamed over (readers see the old list or the new one, never half). Keeps the old file's mode
 * (and, for root, its owner); a new file gets 0644 less the umask. Its mtime is set at least
 * 1 ms past the old one's, so `holdsVersion` always changes.
 */
function writeHolds(file: string, holds: readonly Hold[]): void {
  let previous: fs.BigIntStats | undefined;
  try {
    previous = fs.statSync(file, { bigint: true });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const temp = `${file}.${process.pid}.${randomHex(4)}.tmp`;
  const fd = fs.openSync(temp, 'wx', 0o644);
  try {
    fs.writeFileSync(fd, `${JSON.stringify({ format: FORMAT, holds }, null, 2)}\n`);
    if (previous !== undefined) {
      fs.fchmodSync(fd, Number(previous.mode & 0o7777n));
      if (process.getuid?.() === 0) fs.fchownSync(fd, Number(previous.uid), Number(previous.gid));
    }
    // 1 ms past the old mtime rounded up: futimes takes float seconds, which may lose a microsecond.
    const previousMs = previous === undefined ? 0 : Number((previous.mtimeNs + 999_999n) / 1_000_000n) + 1;
    const mtime = new Date(Math.max(Date.now(), previousMs));
    fs.futimesSync(fd, mtime, mtime);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, file);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(temp, { force: true });
    throw err;
  }
  // The rename itself reaches the disk with the folder's own fsync (best effort: not everywhere possible).
  try {
    const dir = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  } catch {
    // the file is in place; only its durability across a power loss is less certain
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** A lock target `<pid>@<host>` whose process has died on this host. */
function deadOwner(target: string): boolean {
  const at = target.indexOf('@');
  const pid = Number(target.slice(0, at));
  return at > 0 && Number.isInteger(pid) && pid > 0 && target.slice(at + 1) === os.hostname() && !processAlive(pid);
}

function readLink(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Removes a lock left by a dead process. The removal itself is done under a second lock, so of
 * several processes that saw the same dead owner only one removes it, and none removes the live
 * lock a faster one has taken meanwhile (it re-reads the lock under the guard).
 */
function removeDeadLock(lockFile: string, dead: string, me: string): boolean {
  const guard = `${lockFile}.takeover`;
  try {
    fs.symlinkSync(me, guard);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const owner = readLink(guard);
    // A guard is held for microseconds; one whose owner died is removed, and we try again later.
    if (owner !== undefined && deadOwner(owner)) fs.rmSync(guard, { force: true });
    return false;
  }
  try {
    if (readLink(lockFile) !== dead) return false;
    fs.rmSync(lockFile, { force: true });
    return true;
  } finally {
    if (readLink(guard) === me) fs.rmSync(guard, { force: true });
  }
}

/**
 * Takes `<base>/.vigint-holds.lock`: a symbolic link to `<pid>@<host>`, created exclusively
 * (symlink fails if the name exists) and needing no data block. A lock whose owner died on this
 * host is taken over; a live one is waited for, up to `timeoutMs`.
 */
async function lockHolds(baseDir: string, timeoutMs: number): Promise<() => void> {
  const lockFile = path.join(baseDir, HOLDS_LOCK_NAME);
  const me = `${process.pid}@${os.hostname()}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.symlinkSync(me, lockFile);
      return () => {
        if (readLink(lockFile) === me) fs.rmSync(lockFile, { force: true });
      };
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') {
        throw new CleanupError(
          `cannot create the lock ${lockFile} (${errnoCode(err)}): changing holds needs write access to the base folder; nothing was changed`,
          EXIT.partial,
          errnoCode(err),
        );
      }
    }
    const owner = readLink(lockFile);
    if (owner === undefined && fs.existsSync(lockFile)) {
      throw new CleanupError(`${lockFile} is in the way of the hold file's lock (it is not a symbolic link); nothing was changed`, EXIT.partial, 'ELOCK');
    }
    // Gone meanwhile, or its dead owner's lock removed: try again at once.
    if (owner === undefined || (deadOwner(owner) && removeDeadLock(lockFile, owner, me))) continue;
    if (Date.now() >= deadline) {
      throw new CleanupError(
        `the hold file is being changed by another process (lock ${lockFile} -> ${owner}); nothing was changed: try again, or remove the lock if that process is gone`,
        EXIT.partial,
        'ELOCKED',
      );
    }
    await sleep(5 + Math.random() * 10);
  }
}

/**
 * Reads, changes and writes the hold file under its lock, so concurrent `hold add`s and
 * `hold remove`s never lose each other's changes. `change` gets the current holds and returns
 * the new list (undefined: leave the file alone; or it throws, to change nothing) and a result,
 * which is returned with the file's version after the change.
 */
export async function updateHolds<T>(
  baseDir: string,
  change: (current: readonly Hold[]) => { holds: readonly Hold[] | undefined; result: T },
  options: { lockTimeoutMs?: number } = {},
): Promise<{ result: T; version: string }> {
  const unlock = await lockHolds(baseDir, options.lockTimeoutMs ?? 10_000);
  try {
    const { holds, result } = change(loadHolds(baseDir));
    // undefined: nothing to change, and no file is created or rewritten.
    if (holds !== undefined) writeHolds(holdsPath(baseDir), holds);
    return { result, version: holdsVersion(baseDir) };
  } finally {
    unlock();
  }
}
