import { LineFormat, mtimeText } from './log-line.js';
import type { LogWriter } from './log-writer.js';

/**
 * What the sweep needs of a log. Every deleted file gets its line (`file`), and the sweep asks
 * `room()` before each unlink: the number of further deletions that may start while earlier ones
 * still wait for their lines to reach the operating system. At 0 it calls `makeRoom()`: the lines
 * are written (or the write tried again after a failure); `'stop'` means the log cannot be
 * written, and the sweep deletes nothing more.
 */
export interface SweepLog {
  /**
   * The line of one file, `name` in `folder` (its path: folder + name; folder ends with its
   * slash): deleted (`deleted`: counts toward the bound), or would be (dry run).
   */
  file(msg: string, folder: string, name: string, size: number, mtimeMs: number, dryRun: boolean, deleted: boolean, reason?: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  room(): number;
  makeRoom(): 'go' | 'stop' | Promise<'go' | 'stop'>;
  /**
   * True when too many lines wait to be written (a dry run's can outrun the disk): the sweep
   * awaits `drained()` before its next file. (A log that waits in place, a worker's, says false.)
   */
  backlog(): boolean;
  drained(): Promise<void>;
}

/** At most this many deleted files may lack their line in the log at any moment (CONTRACT.md). */
export const UNLOGGED_MAX = 256;

/** Bytes the log may hold in memory before the sweep waits for the destination to catch up. */
export const HIGH_WATER = 1 << 20;

/** The sweep's log in the thread that owns the writer (the built-in cleanup without workers). */
export function writerLog(writer: LogWriter, format: LineFormat): SweepLog {
  const infoOn = format.enabled('info');
  const warnOn = format.enabled('warn');
  return {
    file(msg, folder, name, size, mtimeMs, dryRun, deleted, reason) {
      // a deleted file's line is the audit trail: written whatever LOG_LEVEL says
      if (infoOn || deleted) writer.writeFileLine(format, msg, folder, name, size, mtimeMs, dryRun, reason, deleted ? 1 : 0);
    },
    info(fields, msg) {
      if (infoOn) writer.write(format.line('info', fields, msg));
    },
    warn(fields, msg) {
      if (warnOn) writer.write(format.line('warn', fields, msg));
    },
    room: () => UNLOGGED_MAX - writer.unwritten,
    // Paused: try the write again (deletions may just have freed the space it needed).
    makeRoom: async () => ((await writer.retry()) ? 'go' : 'stop'),
    backlog: () => writer.queuedBytes > HIGH_WATER,
    drained: () => writer.drained(),
  };
}

/** The fields of one file's line, for a host's logger: `{ path, size, mtime[, dryRun] }`. */
export function fileFields(path: string, size: number, mtimeMs: number, dryRun: boolean, reason?: string): object {
  const fields: Record<string, unknown> = { path, size, mtime: mtimeText(mtimeMs) };
  if (dryRun) fields.dryRun = true;
  if (reason !== undefined) fields.reason = reason;
  return fields;
}

/**
 * Hands a line to a host's logger. A logger that throws must neither stop the cleanup nor reach
 * the host: the line counts as handed over.
 */
export function toHost<L extends string>(logger: { [K in L]: (fields: object, msg: string) => void }, level: L, fields: object, msg: string): void {
  try {
    logger[level](fields, msg);
  } catch {
    // ignored
  }
}

/** The sweep's log through a host's logger: lines handed to it count as written. */
export function loggerLog(logger: { info(o: object, m: string): void; warn(o: object, m: string): void }): SweepLog {
  return {
    file(msg, folder, name, size, mtimeMs, dryRun, _deleted, reason) {
      toHost(logger, 'info', fileFields(folder + name, size, mtimeMs, dryRun, reason), msg);
    },
    info: (fields, msg) => toHost(logger, 'info', fields, msg),
    warn: (fields, msg) => toHost(logger, 'warn', fields, msg),
    room: () => UNLOGGED_MAX,
    makeRoom: () => 'go',
    backlog: () => false,
    drained: () => Promise.resolve(),
  };
}
