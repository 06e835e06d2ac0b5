import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CleanupError, EXIT, errnoCode } from './errors.js';

export const LOCK_NAME = '.vigint-cleanup.lock';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
}

export interface Lock {
  readonly path: string;
  /** Removes the lock if it is still ours. Never throws. */
  release(): void;
}

/** True if a process with this pid exists (EPERM: it exists, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.token === 'string') {
      return owner as LockOwner;
    }
  } catch {
    // unreadable or not ours: handled as "no valid owner" by the caller
  }
  return undefined;
}

/** An owner is dead if it ran on this host and its pid is gone; a lock we cannot parse is dead. */
function ownerIsDead(owner: LockOwner | undefined): boolean {
  if (owner === undefined) return true;
  return owner.host === os.hostname() && !processAlive(owner.pid);
}

function cannotLock(file: string, err: unknown): CleanupError {
  return new CleanupError(
    `cannot create the lock file ${file} (${errnoCode(err)}): a real cleanup needs to write in the base folder; nothing was deleted`,
    EXIT.partial,
    errnoCode(err),
  );
}

/**
 * Takes `<base>/.vigint-cleanup.lock`, or throws a CleanupError: exit 75 when a live process
 * holds it, exit 1 when it cannot be created at all. The file appears complete or not at all (it
 * is written aside, then hard-linked into place, which fails if the name exists). A lock left by a
 * process that died on this host is taken over: it is renamed away first, and only if what was
 * renamed is still that dead owner's file is it removed (two processes taking over the same stale
 * lock cannot both win).
 */
export function acquireLock(baseDir: string): Lock {
  const file = path.join(baseDir, LOCK_NAME);
  const token = crypto.randomUUID();
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token };
  const temp = `${file}.${process.pid}.${token}`;
  try {
    fs.writeFileSync(temp, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw cannotLock(file, err);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(temp, file);
        return { path: file, release: () => releaseLock(file, token) };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw cannotLock(file, err);
      }
      const holder = readOwner(file);
      if (!ownerIsDead(holder)) {
        throw new CleanupError(
          `another cleanup of ${baseDir} is running (pid ${holder?.pid} on ${holder?.host}, since ${holder?.startedAt}); nothing was deleted. ` +
            `If no such process exists, remove ${file}`,
          EXIT.locked,
          'ELOCKED',
        );
      }
      takeOverStale(file, holder?.token);
    }
    throw new CleanupError(`could not take the lock ${file}: it keeps changing hands; nothing was deleted`, EXIT.locked, 'ELOCKED');
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function takeOverStale(file: string, staleToken: string | undefined): void {
  const aside = `${file}.stale.${process.pid}.${crypto.randomUUID()}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return; // someone else removed it first: just try again
    throw cannotLock(file, err);
  }
  const moved = readOwner(aside);
  if (moved?.token === staleToken) {
    fs.rmSync(aside, { force: true });
    return;
  }
  // We moved a lock that a live process had just taken over: put it back where it was.
  try {
    fs.linkSync(aside, file);
  } catch {
    // a third process took the name meanwhile; it holds the lock now, ours stays aside
  }
  fs.rmSync(aside, { force: true });
}

function releaseLock(file: string, token: string): void {
  try {
    if (readOwner(file)?.token === token) fs.unlinkSync(file);
  } catch {
    // already gone: nothing to release
  }
}
