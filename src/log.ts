import fs from 'node:fs';
import os from 'node:os';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { errnoCode, usageError } from './errors.js';
import { isoString, isoTimestamp } from './iso.js';
import { LineSink } from './line-sink.js';

/** Bytes the log may hold in memory before the cleanup waits for the disk or pipe to catch up. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

/** pino's options for every logger of ours (the CLI's, its workers', the library's default). */
export function loggerOptions(level: LogLevel): pino.LoggerOptions {
  return { name: 'vigint-cleanup', level, timestamp: isoTimestamp };
}

/**
 * Logs one file of the sweep (a deletion, or a would-be deletion in a dry run) at level info:
 * `{ path, size, mtime[, dryRun] }` with `msg`.
 */
export type FileLog = (msg: string, path: string, size: number, mtimeMs: number, dryRun: boolean) => void;

/** A pino logger on an asynchronous destination, with its backpressure made visible. */
export interface LogSink {
  readonly logger: Logger;
  /**
   * The same line as `logger.info({ path, size, mtime, dryRun? }, msg)`, byte for byte, written
   * straight to the destination: the sweep logs one per file, and pino's general path cost
   * 5-9 µs a line in the workers (measured), the most expensive part of a dry run.
   */
  readonly fileLog: FileLog;
  /** The file descriptor written to (workers write their lines to it too). */
  readonly fd: number;
  /** A promise to await when too much is waiting to be written; undefined otherwise. */
  readonly backpressure: () => Promise<void> | undefined;
  /** Resolves once every line given so far is written. */
  drained(): Promise<void>;
  /** Resolves once every line is written, and closes the file if this sink opened it. */
  close(): Promise<void>;
}

/**
 * Opens the log destination: a file opened for appending, a descriptor already open (shared with
 * the main thread), or standard error. Lines go through a LineSink: asynchronous writes, never the
 * synchronous destination that sleeps 100 ms at a time on a full pipe; the producer awaits
 * `backpressure()`, so memory stays bounded whatever the reader's speed. A file that cannot be
 * opened is a configuration error.
 */
export function openLogSink(options: { file?: string | undefined; fd?: number | undefined; level: LogLevel }): LogSink {
  let fd = options.fd ?? 2;
  const owned = options.file !== undefined;
  if (options.file !== undefined) {
    try {
      fd = fs.openSync(options.file, 'a', 0o644);
    } catch (err) {
      throw usageError(`cannot open the log file ${options.file} (${errnoCode(err)}): give --log-file or VIGINT_LOG_FILE a writable path`);
    }
  }
  const sink = new LineSink(fd);
  const logger = pino(loggerOptions(options.level), sink);
  const head = `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())},"name":"vigint-cleanup","path":`;
  const fileLog: FileLog = logger.isLevelEnabled('info')
    ? (msg, path, size, mtimeMs, dryRun) =>
        sink.write(
          `{"level":30,"time":"${isoString(Date.now())}"${head}${JSON.stringify(path)},"size":${size},"mtime":"${isoString(mtimeMs)}"${dryRun ? ',"dryRun":true' : ''},"msg":${JSON.stringify(msg)}}\n`,
        )
    : () => {};
  return {
    logger,
    fileLog,
    fd,
    backpressure: () => (sink.pending > HIGH_WATER ? sink.waitUntil(LOW_WATER) : undefined),
    drained: async () => sink.waitUntil(0),
    async close() {
      await sink.waitUntil(0);
      if (owned) fs.closeSync(fd);
    },
  };
}
