import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CleanupError, EXIT, errnoCode } from './errors.js';

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
/** ext4 keeps a symlink target shorter than 60 bytes in the inode itself. */
export const MAX_TARGET_BYTES = 59;
const FORMAT = 'vcl1';
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

/** Who holds a lock, as far as its content says. */
interface Holder {
  readonly format: 'v1' | 'json' | 'unknown';
  readonly pid?: number;
  readonly host?: string;
  readonly hostId?: string;
  readonly since?: string;
  /** When the holder took the lock (ms), from a v1 target. */
  readonly startMs?: number;
}

/** A lock seen at the lock path: its inode, its raw content, its lease. */
interface Seen {
  readonly ino: number;
  readonly raw: string;
  readonly mtimeMs: number;
  readonly holder: Holder;
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

let hostIdCache: string | undefined;

/**
 * This host, boot and pid namespace, in 8 hex digits: a pid means the same process only where
 * all three are the same (a container restarted with PID 1 has a new pid namespace).
 */
export function hostId(): string {
  if (hostIdCache !== undefined) return hostIdCache;
  const read = (f: () => string): string => {
    try {
      return f().trim();
    } catch {
      return '';
    }
  };
  const parts = [
    os.hostname(),
    read(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    read(() => fs.readlinkSync('/proc/self/ns/pid')),
  ];
  hostIdCache = crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 8);
  return hostIdCache;
}

/** The longest prefix of `s` that fits `bytes` bytes of UTF-8, never cutting a character. */
function truncateUtf8(s: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

function ownTarget(token: string, startMs: number): string {
  const head = `${FORMAT}:${process.pid}:${token}:${startMs}:${hostId()}:`;
  // a NUL cannot be in a link target; the hostname is only for messages
  return head + truncateUtf8(os.hostname().replace(/\0/g, ''), Math.max(0, MAX_TARGET_BYTES - Buffer.byteLength(head)));
}

const V1 = /^vcl1:(\d{1,10}):([0-9a-z]{1,16}):(\d{1,16}):([0-9a-f]{1,16}):(.*)$/s;

/** A link target: ours (v1), a later version of ours (lease only), or undefined: not a lock. */
function parseTarget(raw: string): Holder | undefined {
  const m = V1.exec(raw);
  if (m) {
    const pid = Number(m[1]);
    const startMs = Number(m[3]);
    return {
      format: 'v1',
      ...(pid > 0 ? { pid } : {}),
      host: m[5] ?? '',
      hostId: m[4] ?? '',
      startMs,
      since: Number.isFinite(new Date(startMs).getTime()) ? new Date(startMs).toISOString() : String(startMs),
    };
  }
  if (/^vcl\d+:/.test(raw)) return { format: 'unknown' };
  return undefined;
}

/** The JSON file of 0.1.x: `{ pid, host, startedAt, token }`. Empty: its content never reached the disk. */
function parseOldFile(raw: string): Holder | undefined {
  if (raw === '') return { format: 'unknown' };
  try {
    const o = JSON.parse(raw) as { pid?: unknown; host?: unknown; startedAt?: unknown; token?: unknown };
    if (typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' && typeof o.token === 'string') {
      return { format: 'json', pid: o.pid, host: o.host, since: typeof o.startedAt === 'string' ? o.startedAt : '?' };
    }
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

/** True if a process with this pid exists (EPERM: it exists, under another user; any doubt: it exists). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

/** Whether the pid of this holder can be asked about: a process on this host, in our pid namespace, not us. */
function pidDecides(h: Holder): h is Holder & { pid: number } {
  if (h.pid === undefined || h.pid === process.pid) return false;
  if (h.format === 'v1') return h.hostId === hostId();
  if (h.format === 'json') return h.host === os.hostname();
  return false;
}

/**
 * When the process `pid` started (ms since the epoch), from /proc: its start in clock ticks after
 * boot (USER_HZ, 100 on Linux) plus the boot time. Undefined where /proc cannot tell.
 */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Slack between a process's start and the lock it took (clock ticks, boot time rounded to the second). */
const START_SLACK_MS = 2_000;

function isDead(seen: Seen, leaseMs: number): boolean {
  if (pidDecides(seen.holder)) {
    if (!processAlive(seen.holder.pid)) return true;
    // The pid lives, but a process that started after the lock was taken is not its holder: the
    // pid was reused (a lock left by a crash, long ago). Then the lease decides.
    const started = seen.holder.startMs === undefined ? undefined : processStartMs(seen.holder.pid);
    if (started === undefined || started <= (seen.holder.startMs as number) + START_SLACK_MS) return false;
  }
  return Date.now() - seen.mtimeMs > leaseMs;
}

function cannotLock(file: string, err: unknown): CleanupError {
  return new CleanupError(
    `cannot create the lock file ${file} (${errnoCode(err)}): a real cleanup needs to write in the base folder; nothing was deleted`,
    EXIT.partial,
    errnoCode(err),
  );
}

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
function inspect(file: string): Seen | undefined {
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
