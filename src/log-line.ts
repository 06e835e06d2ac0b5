import os from 'node:os';
import type { LogLevel } from './config.js';
import { isoString } from './iso.js';

/** pino's numbers for the levels we write. */
export const LEVEL_NUMBER = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** The levels a sweep writes at. */
export type SweepLevel = 'info' | 'warn';

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

  enabled(level: SweepLevel): boolean {
    return LEVEL_NUMBER[level] >= this.min;
  }

  /** One line for `{ ...fields, msg }` at `level`, ending with a newline. */
  line(level: SweepLevel, fields: object, msg: string): string {
    let body = '';
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) body += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    }
    return `{"level":${LEVEL_NUMBER[level]},"time":"${isoString(Date.now())}"${this.head}${body},"msg":${JSON.stringify(msg)}}\n`;
  }

  /** The line of one file of the sweep: `{ path, size, mtime[, dryRun][, reason] }`, at info. */
  fileLine(msg: string, path: string, size: number, mtime: string, dryRun: boolean, extra = ''): string {
    return `{"level":30,"time":"${isoString(Date.now())}"${this.head},"path":${JSON.stringify(path)},"size":${size},"mtime":${JSON.stringify(mtime)}${dryRun ? ',"dryRun":true' : ''}${extra},"msg":${JSON.stringify(msg)}}\n`;
  }
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
    out += `${time} ${level} ${String(record.msg ?? '')}${where}${extra}`.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) + '\n';
  }
  return out;
}
