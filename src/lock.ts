import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CleanupError, EXIT, errnoCode } from './errors.js';
import { type Seen, isDead, ownTarget, pidDecides } from './lock-holder.js';
import { inspect } from './lock-inspect.js';

export { MAX_TARGET_BYTES, hostId } from './lock-holder.js';

/**
 * The run lock: `<base>/.vigint-cleanup.lock` is a symbolic link whose target names its owner,
 * `vcl1:<pid>:<token>:<startMs>:<hostId>:<hostname>`, at most 59 bytes, so that it lives in the
 * inode (ext4 "fast" symlinks, tmpfs) and needs no free data block: a cleanup must be able to
 * start on a full disk. `symlink(2)` creates it atomically and exclusively (EEXIST: it is held).
 * The link's own mtime is a lease, renewed with `lutimes` every lease/8 while it is held.
 *
 * A holder is dead when, on this host (same hostname, boot and pid namespace) and with a pid
 * other than ours, its pid is gone; otherwise (another host, another container, or our own pid,
 * PID 1 in a container) when its lease has lapsed. A dead holder's lock is removed under an
 * exclusive "break" link named after its inode, then everyone competes again with `symlink`.
 */

export const LOCK_NAME = '.vigint-cleanup.lock';
/** The lease when VIGINT_LOCK_LEASE_MS is not set: 2 minutes. */
export const DEFAULT_LEASE_MS = 120_000;
export const LEASE_ENV = 'VIGINT_LOCK_LEASE_MS';
const MIN_LEASE_MS = 100;
const MAX_LEASE_MS = 86_400_000;
/** Rounds of create / inspect / break before giving up (exit 75). */
const ATTEMPTS = 8;

export interface Lock {
  readonly path: string;
  /** The link's target: who we are. */
  readonly target: string;
  readonly leaseMs: number;
  /** Stops renewing the lease and removes the lock if it still holds our token. Never throws. */
  release(): void;
}

export interface LockOptions {
  /** The lease in ms. Default: VIGINT_LOCK_LEASE_MS, else 2 minutes. */
  readonly leaseMs?: number;
}

/** The lease from the environment (validated: a whole number of ms, 100 ms to 1 day). */
export function leaseFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LEASE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_LEASE_MS;
  const ms = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < MIN_LEASE_MS || ms > MAX_LEASE_MS) {
    throw new CleanupError(
      `invalid ${LEASE_ENV} '${raw}': expected a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} (default ${DEFAULT_LEASE_MS})`,
      EXIT.usage,
      'EUSAGE',
    );
  }
  return ms;
}

function cannotLock(file: string, err: unknown): CleanupError {
  return new CleanupError(
    `cannot create the lock file ${file} (${errnoCode(err)}): a real cleanup needs to write in the base folder; nothing was deleted`,
    EXIT.partial,
    errnoCode(err),
  );
}

function heldBy(baseDir: string, file: string, seen: Seen, leaseMs: number): CleanupError {
  const h = seen.holder;
  const who =
    h.pid !== undefined ? `pid ${h.pid} on ${h.host || '?'}, since ${h.since ?? '?'}` : `owner unknown, lock dated ${new Date(seen.mtimeMs).toISOString()}`;
  const hint = pidDecides(h)
    ? `If no such process exists, remove ${file}`
    : `Its holder runs elsewhere (another host or container) or cannot be asked: the lock is taken over once it has not been renewed for ${leaseMs / 1000} s (last renewed ${new Date(seen.mtimeMs).toISOString()})`;
  return new CleanupError(`another cleanup of ${baseDir} is running (${who}); nothing was deleted. ${hint}`, EXIT.locked, 'ELOCKED');
}

/** Removes a symbolic link only if it still points at `target`. Never throws. */
function unlinkIfOurs(link: string, target: string): void {
  try {
    if (fs.readlinkSync(link) === target) fs.unlinkSync(link);
  } catch {
    // gone already, or not ours any more
  }
}

type BreakOutcome = 'broken' | 'changed' | 'busy';

/**
 * Removes `victim` (the entry whose inode is `ino`) if `stillDead()` holds, under the exclusive
 * break link `<victim>.break.<ino>`: of any number of contenders, only the one that created that
 * link may unlink the victim, and it looks again first. A break link older than the lease was
 * left by a contender that died while breaking: it is itself broken the same way (once).
 */
async function breakDead(victim: string, ino: number, stillDead: () => boolean, me: string, leaseMs: number, depth = 0): Promise<BreakOutcome> {
  const brk = `${victim}.break.${ino}`;
  try {
    fs.symlinkSync(me, brk);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw cannotLock(victim, err);
    if (depth > 0) return 'busy';
    let st: fs.Stats;
    try {
      st = fs.lstatSync(brk);
    } catch {
      return 'changed'; // the other breaker has just finished
    }
    if (Date.now() - st.mtimeMs <= leaseMs) return 'busy';
    const stale = st.ino;
    const stillStale = (): boolean => {
      try {
        const again = fs.lstatSync(brk);
        return again.ino === stale && Date.now() - again.mtimeMs > leaseMs;
      } catch {
        return false;
      }
    };
    await breakDead(brk, stale, stillStale, me, leaseMs, depth + 1);
    return 'changed';
  }
  try {
    if (!stillDead()) return 'changed';
    try {
      fs.unlinkSync(victim);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'changed';
      throw new CleanupError(
        `cannot remove the dead lock ${victim} (${errnoCode(err)}): its owner is gone, but this user may not remove it (a sticky folder?); nothing was deleted`,
        EXIT.partial,
        errnoCode(err),
      );
    }
    return 'broken';
  } finally {
    unlinkIfOurs(brk, me);
  }
}

/**
 * Takes `<base>/.vigint-cleanup.lock`, or throws a CleanupError: exit 75 when a live process
 * holds it (or it exists and cannot be read), exit 1 when it cannot be created or the path holds
 * something that is not a lock (left as it is). A dead holder's lock is taken over safely
 * whatever the number of contenders.
 */
export async function acquireLock(baseDir: string, options: LockOptions = {}): Promise<Lock> {
  const leaseMs = options.leaseMs ?? leaseFromEnv();
  const file = path.join(baseDir, LOCK_NAME);
  const token = crypto.randomBytes(6).readUIntBE(0, 6).toString(36).padStart(8, '0').slice(-8);
  const me = ownTarget(token, Date.now());
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      fs.symlinkSync(me, file);
      return held(file, me, leaseMs);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw cannotLock(file, err);
    }
    const seen = inspect(file);
    if (seen === undefined) continue;
    if (!isDead(seen, leaseMs)) throw heldBy(baseDir, file, seen, leaseMs);
    const stillDead = (): boolean => {
      const again = inspect(file);
      return again !== undefined && again.ino === seen.ino && again.raw === seen.raw && isDead(again, leaseMs);
    };
    const outcome = await breakDead(file, seen.ino, stillDead, me, leaseMs);
    // someone else is breaking it: let them finish, then compete again
    if (outcome === 'busy') await sleep(5 * 2 ** attempt + Math.random() * 10);
  }
  throw new CleanupError(`could not take the lock ${file}: it keeps changing hands; nothing was deleted`, EXIT.locked, 'ELOCKED');
}

/** A lock we hold: its lease renewed every lease/8 (the timer does not keep the process alive). */
function held(file: string, target: string, leaseMs: number): Lock {
  let released = false;
  const renew = (): void => {
    fs.readlink(file, (err, now) => {
      if (err || now !== target || released) return;
      const t = Date.now() / 1000;
      fs.lutimes(file, t, t, () => {});
    });
  };
  const timer = setInterval(renew, Math.max(10, Math.floor(leaseMs / 8)));
  timer.unref();
  return {
    path: file,
    target,
    leaseMs,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      unlinkIfOurs(file, target);
    },
  };
}
