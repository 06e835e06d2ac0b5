/**
 * Who holds the run lock (lock.ts): the link target we write (`vcl1:<pid>:<token>:<startMs>:
 * <hostId>:<hostname>`) and the older JSON file, read back; and whether that holder is dead.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { errnoCode } from './errors.js';

/** ext4 keeps a symlink target shorter than 60 bytes in the inode itself. */
export const MAX_TARGET_BYTES = 59;
const FORMAT = 'vcl1';

/** Who holds a lock, as far as its content says. */
export interface Holder {
  readonly format: 'v1' | 'json' | 'unknown';
  readonly pid?: number;
  readonly host?: string;
  readonly hostId?: string;
  readonly since?: string;
  /** When the holder took the lock (ms), from a v1 target. */
  readonly startMs?: number;
}

/** A lock seen at the lock path: its inode, its raw content, its lease. */
export interface Seen {
  readonly ino: number;
  readonly raw: string;
  readonly mtimeMs: number;
  readonly holder: Holder;
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

/** Our own link target, at most MAX_TARGET_BYTES (the hostname cut to fit). */
export function ownTarget(token: string, startMs: number): string {
  const head = `${FORMAT}:${process.pid}:${token}:${startMs}:${hostId()}:`;
  // a NUL cannot be in a link target; the hostname is only for messages
  return head + truncateUtf8(os.hostname().replace(/\0/g, ''), Math.max(0, MAX_TARGET_BYTES - Buffer.byteLength(head)));
}

const V1 = /^vcl1:(\d{1,10}):([0-9a-z]{1,16}):(\d{1,16}):([0-9a-f]{1,16}):(.*)$/s;

/** A link target: ours (v1), a later version of ours (lease only), or undefined: not a lock. */
export function parseTarget(raw: string): Holder | undefined {
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
export function parseOldFile(raw: string): Holder | undefined {
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
export function pidDecides(h: Holder): h is Holder & { pid: number } {
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

/** Whether the holder seen is gone: its pid, where the pid can be asked; else its lapsed lease. */
export function isDead(seen: Seen, leaseMs: number): boolean {
  if (pidDecides(seen.holder)) {
    if (!processAlive(seen.holder.pid)) return true;
    // The pid lives, but a process that started after the lock was taken is not its holder: the
    // pid was reused (a lock left by a crash, long ago). Then the lease decides.
    const started = seen.holder.startMs === undefined ? undefined : processStartMs(seen.holder.pid);
    if (started === undefined || started <= (seen.holder.startMs as number) + START_SLACK_MS) return false;
  }
  return Date.now() - seen.mtimeMs > leaseMs;
}
