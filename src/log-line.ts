import os from 'node:os';
import type { LogLevel } from './config.js';
import { escapeControl } from './format.js';
import { isoInto, isoString } from './iso.js';
import { nativeScanner } from './native-scan.js';

/** pino's numbers for the levels we write. */
export const LEVEL_NUMBER = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** The levels a sweep writes at. */
export type SweepLevel = 'info' | 'warn';

/** Every level a line can have. */
export type LevelName = Exclude<keyof typeof LEVEL_NUMBER, 'silent'>;

/**
 * JSON log lines in pino's own shape (`level`, `time`, `pid`, `hostname`, `name`, the fields,
 * `msg`), without pino: the sweep writes one per file, in worker threads that should not load
 * pino at all, and pino's general path costs 5-9 µs a line (measured). `test/unit/log.test.ts`
 * checks the lines against pino's, byte for byte.
 */
export class LineFormat {
  private readonly head = `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())},"name":"vigint-cleanup"`;
  private readonly min: number;

  constructor(level: LogLevel) {
    this.min = LEVEL_NUMBER[level];
  }

  enabled(level: LevelName): boolean {
    return LEVEL_NUMBER[level] >= this.min;
  }

  /**
   * One line for `{ ...fields, msg }` at `level`, ending with a newline, as pino writes it: fields
   * that are undefined (or functions) left out, an `err` that is an error as pino's serializer
   * gives it, no `msg` when there is none.
   */
  line(level: LevelName, fields: object, msg?: string): string {
    let body = '';
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const json = JSON.stringify(key === 'err' && isErrorLike(value) ? serializeError(value) : value);
      if (json !== undefined) body += `,${JSON.stringify(key)}:${json}`;
    }
    const tail = msg === undefined ? '' : `,"msg":${JSON.stringify(msg)}`;
    return `{"level":${LEVEL_NUMBER[level]},"time":"${isoString(Date.now())}"${this.head}${body}${tail}}\n`;
  }

  /**
   * What the file lines of the same millisecond share: their start up to the path, as text and
   * (once fileLineInto needs it) as bytes with the path's opening quote.
   */
  private start = { ms: Number.NaN, text: '', bytes: undefined as Buffer | undefined };
  /**
   * What the file lines of the same message share: their end after the mtime (`,"dryRun":true,
   * "msg":…}`), as text and (once needed) as bytes with the mtime's closing quote.
   */
  private end = { msg: '', dryRun: false, reason: undefined as string | undefined, text: '', bytes: undefined as Buffer | undefined };

  /** The start of the file lines of this millisecond. */
  private startNow(): { text: string; bytes: Buffer | undefined } {
    const now = Date.now();
    if (now !== this.start.ms) this.start = { ms: now, text: `{"level":30,"time":"${isoString(now)}"${this.head},"path":`, bytes: undefined };
    return this.start;
  }

  /** The end of the file lines of this message. */
  private endFor(msg: string, dryRun: boolean, reason: string | undefined): { text: string; bytes: Buffer | undefined } {
    const end = this.end;
    if (end.msg === msg && end.dryRun === dryRun && end.reason === reason) return end;
    const why = reason === undefined ? '' : `,"reason":${JSON.stringify(reason)}`;
    this.end = { msg, dryRun, reason, text: `${dryRun ? ',"dryRun":true' : ''}${why},"msg":${JSON.stringify(msg)}}\n`, bytes: undefined };
    return this.end;
  }

  /**
   * The line of one file of the sweep: `{ path, size, mtime[, dryRun][, reason] }`, at info. A
   * sweep writes one per old file, so what lines of the same millisecond and the same message
   * share is made once (a dry run of 100,000 files spent a fifth of its time here).
   */
  fileLine(msg: string, path: string, size: number, mtime: string, dryRun: boolean, reason?: string): string {
    return `${this.startNow().text}${JSON.stringify(path)},"size":${size},"mtime":${JSON.stringify(mtime)}${this.endFor(msg, dryRun, reason).text}`;
  }

  /** The folder part of the paths of file lines (up to the name), as bytes; null: a path JSON escapes or not ASCII. */
  private folder = { text: '', bytes: null as Buffer | null };

  /**
   * fileLine's very bytes for the file `name` in `folder` (its path is folder + name), written
   * into `buf` at `at`, without making the line, the path or the mtime as strings: the new end,
   * or -1 when this cannot be done (what it wrote past `at` is left unused) and fileLine is to be used: a path with a
   * character JSON escapes or that is not ASCII, a size that is not a safe integer, an mtime
   * outside the years 0000-9999, or not room enough in `buf`. The line of each file of a
   * 100,000-file dry run as a string, then encoded, took ~100 ms of its ~300 in the main thread
   * (its making, encoding and garbage); see test/unit/log.test.ts for the bytes.
   */
  fileLineInto(buf: Buffer, at: number, msg: string, folder: string, name: string, size: number, mtimeMs: number, dryRun: boolean, reason?: string): number {
    const start = this.startNow();
    start.bytes ??= Buffer.from(`${start.text}"`);
    const end = this.endFor(msg, dryRun, reason);
    end.bytes ??= Buffer.from(`"${end.text}`);
    if (folder !== this.folder.text) this.folder = { text: folder, bytes: plain(folder, Buffer.allocUnsafe(folder.length), 0) < 0 ? null : Buffer.from(folder) };
    const folderBytes = this.folder.bytes;
    if (folderBytes === null) return -1;
    // (the same bytes, in one native call: a CLI dry run of 100,000 files, 15 alternating rounds,
    // 304 -> 287 ms wall, 483 -> 455 ms CPU; V8 need not compile this one first)
    const native = nativeScanner();
    if (native !== undefined) return native.fileLine(buf, at, start.bytes, folderBytes, name, size, mtimeMs, end.bytes);
    if (!Number.isSafeInteger(size) || size < 0) return -1;
    // 9 and 10: the text between path and size, size and mtime; 16 digits of size at most; 24 of mtime
    const need = start.bytes.length + folderBytes.length + name.length + 9 + 16 + 10 + 24 + end.bytes.length;
    if (at + need > buf.length) return -1;
    let to = copy(start.bytes, buf, at);
    to = copy(folderBytes, buf, to);
    to = plain(name, buf, to);
    if (to < 0) return -1;
    to = ascii('","size":', buf, to);
    to = digits(size, buf, to);
    to = ascii(',"mtime":"', buf, to);
    to = isoInto(mtimeMs, buf, to);
    if (to < 0) return -1;
    return copy(end.bytes, buf, to);
  }
}

/** Copies `bytes` into `buf` at `at`: the new end. (A loop: for a few dozen bytes, faster than Buffer#set or #copy.) */
function copy(bytes: Buffer, buf: Buffer, at: number): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i] as number;
  return at;
}

/** Writes `n`, a safe integer >= 0, in decimal into `buf` at `at`: the new end. */
function digits(n: number, buf: Buffer, at: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  for (let i = at + len - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + len;
}

/** Copies `text`, ASCII, into `buf` at `at`: the new end. */
function ascii(text: string, buf: Buffer, at: number): number {
  for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Copies `text` into `buf` at `at` if each of its characters is printable ASCII that JSON leaves
 * as it is (not `"` nor `\`): the new end, else -1 (what was copied is left, unused).
 */
function plain(text: string, buf: Buffer, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    buf[at++] = c;
  }
  return at;
}

type ErrorLike = { message: string; stack?: unknown; cause?: unknown; errors?: unknown; constructor?: unknown; name?: unknown };

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** The cause of an error, as pino-std-serializers finds it (a VError-style function included). */
function causeOf(err: ErrorLike): ErrorLike | undefined {
  const cause = typeof err.cause === 'function' ? (err.cause as () => unknown)() : err.cause;
  return isErrorLike(cause) ? cause : undefined;
}

function messageWithCauses(err: ErrorLike, seen = new Set<ErrorLike>(), skip = false): string {
  const message = skip ? '' : err.message || '';
  if (seen.has(err)) return `${message}: ...`;
  const cause = causeOf(err);
  if (cause === undefined) return message;
  seen.add(err);
  const vError = typeof err.cause === 'function';
  return message + (vError ? '' : ': ') + messageWithCauses(cause, seen, vError);
}

function stackWithCauses(err: ErrorLike, seen = new Set<ErrorLike>()): string {
  const stack = typeof err.stack === 'string' ? err.stack : '';
  if (seen.has(err)) return `${stack}\ncauses have become circular...`;
  const cause = causeOf(err);
  if (cause === undefined) return stack;
  seen.add(err);
  return `${stack}\ncaused by: ${stackWithCauses(cause, seen)}`;
}

/**
 * An error as pino's standard `err` serializer (pino-std-serializers) writes it: `type`,
 * `message` and `stack` (with their causes), `aggregateErrors`, then its other enumerable
 * properties (`code`, `errno`, `syscall`, `path` of a system error). Checked against pino in
 * `test/unit/log.test.ts`.
 */
export function serializeError(err: ErrorLike, seen = new Set<object>()): Record<string, unknown> {
  seen.add(err);
  const out: Record<string, unknown> = {
    type: typeof err.constructor === 'function' ? (err.constructor as { name: string }).name : err.name,
    message: messageWithCauses(err),
    stack: stackWithCauses(err),
  };
  if (Array.isArray(err.errors)) out.aggregateErrors = err.errors.map((e: unknown) => (isErrorLike(e) ? serializeError(e, seen) : e));
  for (const key in err) {
    // (pino's own `raw`, and what is set already, are not overwritten)
    if (key === 'raw' || out[key] !== undefined) continue;
    const value = (err as Record<string, unknown>)[key];
    if (isErrorLike(value)) {
      if (key !== 'cause' && !seen.has(value)) out[key] = serializeError(value, seen);
    } else {
      out[key] = value;
    }
  }
  seen.delete(err);
  return out;
}

/**
 * A modification time as the log shows it: ISO 8601, or, for one outside the range of a
 * JavaScript date (±273,790 years; a file can carry one: `touch -d @-10000000000000`), its raw
 * seconds since the epoch, so the line is still written and the file still handled.
 */
export function mtimeText(mtimeMs: number): string {
  if (Number.isFinite(mtimeMs) && Math.abs(mtimeMs) <= 8.64e15) return isoString(mtimeMs);
  return `@${Math.trunc(mtimeMs / 1000)}`;
}

const LEVEL_NAME: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the readable form shows in its own place. */
const SHOWN_APART = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'path']);

/**
 * JSON log lines made readable for a person at a terminal: `14:03:07 INFO  cleanup: deleted
 * /srv/v/offline_incidents/x.txt size=10 mtime=…`. Control characters are escaped (the text goes
 * to a terminal). A line that is not JSON passes as it is.
 */
export function readableLines(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out += `${line}\n`;
      continue;
    }
    const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
    const level = (LEVEL_NAME[record.level as number] ?? String(record.level)).padEnd(5);
    let extra = '';
    for (const [key, value] of Object.entries(record)) {
      if (!SHOWN_APART.has(key)) extra += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    }
    const where = typeof record.path === 'string' ? ` ${record.path}` : '';
    out += `${escapeControl(`${time} ${level} ${String(record.msg ?? '')}${where}${extra}`)}\n`;
  }
  return out;
}
