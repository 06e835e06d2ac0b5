import fs from 'node:fs';
import type { LogLevel } from './config.js';
import { errnoCode, usageError } from './errors.js';
import { type LevelName, LineFormat, readableLines } from './log-line.js';
import { LogWriter } from './log-writer.js';

/** A log method as pino's: `(fields, msg)`, or `(msg)`. */
export type LogMethod = (fieldsOrMsg: object | string, msg?: string) => void;

/** The run's own lines: what our code calls of a pino logger, writing pino's lines without pino. */
export type RunLogger = Readonly<Record<LevelName, LogMethod>>;

/**
 * Lines in pino's format (LineFormat: `test/unit/log.test.ts` compares them with pino's), through
 * `writer`. pino itself is not loaded: importing it cost about 28 ms of the program's start-up.
 */
export function runLogger(writer: LogWriter, format: LineFormat): RunLogger {
  const method =
    (level: LevelName): LogMethod =>
    (fieldsOrMsg, msg) => {
      if (!format.enabled(level)) return;
      writer.write(typeof fieldsOrMsg === 'string' ? format.line(level, {}, fieldsOrMsg) : format.line(level, fieldsOrMsg, msg));
    };
  return { fatal: method('fatal'), error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug'), trace: method('trace') };
}

/** Our own log: a logger for the run's own lines, and the one writer every line goes through. */
export interface LogSink {
  readonly logger: RunLogger;
  readonly writer: LogWriter;
  readonly format: LineFormat;
  readonly level: LogLevel;
  /**
   * Writes what is queued (one more try after a failure) and closes the file if this sink opened
   * it. Resolves with the failure that kept lines from being written, if any.
   */
  close(): Promise<NodeJS.ErrnoException | undefined>;
}

/**
 * Opens the log destination: a file opened for appending, or standard error. A file that cannot
 * be opened is a configuration error (nothing is deleted without a log).
 */
export function openLogSink(options: {
  file?: string | undefined;
  level: LogLevel;
  mode?: LogWriter['mode'];
  /** Standard error is a terminal a person watches: lines in a readable form, not JSON. */
  readable?: boolean | undefined;
}): LogSink {
  let fd = 2;
  const owned = options.file !== undefined;
  if (options.file !== undefined) {
    try {
      fd = fs.openSync(options.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NONBLOCK, 0o644);
    } catch (err) {
      throw usageError(`cannot open the log file ${options.file} (${errnoCode(err)}): give --log-file or VIGINT_LOG_FILE a writable path`);
    }
  }
  const writer = new LogWriter(fd, options.file ?? 'standard error', options.mode, options.file === undefined && options.readable ? readableLines : undefined);
  const format = new LineFormat(options.level);
  return {
    logger: runLogger(writer, format),
    writer,
    format,
    level: options.level,
    async close() {
      await writer.retry();
      writer.stop();
      if (owned) {
        try {
          fs.closeSync(fd);
        } catch {
          // nothing more to write to it
        }
      }
      return writer.unwritten > 0 || writer.queuedBytes > 0 ? (writer.failure ?? Object.assign(new Error('lines left unwritten'), { code: 'EIO' })) : undefined;
    },
  };
}
