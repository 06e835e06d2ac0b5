import fs from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { usageError, errnoCode } from './errors.js';

/** Bytes the log may hold in memory before the cleanup waits for the disk or pipe to catch up. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

/** A pino logger on an asynchronous destination, with its backpressure made visible. */
export interface LogSink {
  readonly logger: Logger;
  /** A promise to await when too much is waiting to be written; undefined otherwise. */
  readonly backpressure: () => Promise<void> | undefined;
  /** Resolves once every line given so far is written. */
  drained(): Promise<void>;
  /** Resolves once every line is written (and the file, if any, is closed). */
  close(): Promise<void>;
}

/**
 * Opens the log destination: a file opened for appending, or standard error. Writes are
 * asynchronous (sonic-boom with sync: false), never the synchronous destination, which sleeps
 * 100 ms at a time when a pipe is full; instead, the producer awaits `backpressure()`, so memory
 * stays bounded whatever the reader's speed. A file that cannot be opened is a configuration error.
 */
export function openLogSink(options: { file?: string | undefined; level: LogLevel }): LogSink {
  let fd = 2;
  if (options.file !== undefined) {
    try {
      fd = fs.openSync(options.file, 'a', 0o644);
    } catch (err) {
      throw usageError(`cannot open the log file ${options.file} (${errnoCode(err)}): give --log-file or VIGINT_LOG_FILE a writable path`);
    }
  }
  const sonic = pino.destination({ fd, sync: false, minLength: 0, maxWrite: 64 * 1024 });
  let pending = 0;
  let broken = false;
  let waiters: { limit: number; resolve: () => void }[] = [];
  const wake = (): void => {
    if (waiters.length === 0) return;
    const still = [];
    for (const w of waiters) {
      if (broken || pending <= w.limit) w.resolve();
      else still.push(w);
    }
    waiters = still;
  };
  sonic.on('write', (n: number) => {
    pending -= n;
    wake();
  });
  sonic.on('error', () => {
    // A reader that went away (EPIPE) must not stop the cleanup: drop the rest of the log.
    broken = true;
    wake();
  });
  const stream = {
    write(line: string): void {
      if (broken) return;
      pending += Buffer.byteLength(line);
      sonic.write(line);
    },
  };
  const logger = pino(
    { name: 'vigint-cleanup', level: options.level, timestamp: pino.stdTimeFunctions.isoTime },
    stream,
  );
  const waitUntil = (limit: number): Promise<void> | undefined =>
    pending > limit && !broken ? new Promise<void>((resolve) => waiters.push({ limit, resolve })) : undefined;
  return {
    logger,
    backpressure: () => (pending > HIGH_WATER ? waitUntil(LOW_WATER) : undefined),
    drained: async () => waitUntil(0),
    async close() {
      await waitUntil(0);
      if (fd !== 2) fs.closeSync(fd);
    },
  };
}
