/**
 * A worker thread's share of a cleanup. For each category the main thread names, it sweeps its
 * share of the folder's names (see `inShard`) and answers with the counters. Its log lines go
 * straight to the shared descriptor, or, for a host's own logger, back to the main thread.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type CategoryId, categoryById } from './categories.js';
import type { LogLevel } from './config.js';
import { type SweepLogger, sweepCategory } from './delete.js';
import type { Shard } from './scan.js';
import { openLogSink } from './log.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS } from './result.js';
import { type CategoryStatus, measureFolder } from './status.js';

export interface WorkerTask {
  readonly baseDir: string;
  readonly cutoff: number;
  readonly startMs: number;
  readonly dryRun: boolean;
  readonly shard: Shard;
  readonly concurrency?: number | undefined;
  /** The main thread changes into each folder before naming it: use bare names. */
  readonly fromCwd: boolean;
  /** `fd`: write JSON lines to this descriptor (shared with the main thread); `forward`: post them. */
  readonly log: { readonly kind: 'fd'; readonly fd: number; readonly level: LogLevel } | { readonly kind: 'forward' };
}

export type LogRecord = [level: 'info' | 'warn', obj: object, msg: string];

/** Main thread → worker. */
export type WorkerCommand =
  /** `share` and `fromCwd` override the task's (`'whole'`: the whole folder). */
  | { readonly type: 'sweep'; readonly id: CategoryId; readonly share?: Shard | 'whole'; readonly fromCwd?: boolean }
  | { readonly type: 'measure'; readonly id: CategoryId }
  | { readonly type: 'end' }
  | { readonly type: 'ack' };

/** Worker → main thread. */
export type WorkerMessage =
  | { readonly type: 'log'; readonly records: LogRecord[] }
  | { readonly type: 'progress'; readonly id: CategoryId; readonly result: CategoryResult }
  | { readonly type: 'swept'; readonly result: CategoryResult; readonly errors: FailureRecord[] }
  | { readonly type: 'measured'; readonly figures: CategoryStatus; readonly errors: FailureRecord[] }
  | { readonly type: 'ended' };

const BATCH = 512;
/** Forwarded batches the main thread has not yet logged, before the sweep waits. */
const MAX_UNACKED = 8;
const PROGRESS_MS = 200;

function logTo(task: WorkerTask, port: NonNullable<typeof parentPort>) {
  if (task.log.kind === 'fd') {
    const sink = openLogSink({ fd: task.log.fd, level: task.log.level });
    return { logger: sink.logger as SweepLogger, fileLog: sink.fileLog, backpressure: sink.backpressure, finish: sink.drained, onAck: () => {} };
  }
  let records: LogRecord[] = [];
  let unacked = 0;
  let acked: (() => void) | undefined;
  const send = (): void => {
    if (records.length === 0) return;
    port.postMessage({ type: 'log', records } satisfies WorkerMessage);
    records = [];
    unacked++;
  };
  const push = (record: LogRecord): void => {
    records.push(record);
    if (records.length >= BATCH) send();
  };
  const waitAck = (): Promise<void> => new Promise((resolve) => (acked = resolve));
  return {
    logger: { info: (obj, msg) => push(['info', obj, msg]), warn: (obj, msg) => push(['warn', obj, msg]) } as SweepLogger,
    fileLog: undefined,
    backpressure: () => (unacked > MAX_UNACKED ? waitAck() : undefined),
    finish: async () => {
      send();
      while (unacked > 0) await waitAck();
    },
    onAck: () => {
      unacked--;
      const a = acked;
      acked = undefined;
      a?.();
    },
  };
}

function serve(task: WorkerTask, port: NonNullable<typeof parentPort>): void {
  const log = logTo(task, port);
  let lastProgress = 0;
  port.on('message', (command: WorkerCommand) => {
    if (command.type === 'ack') {
      log.onAck();
    } else if (command.type === 'end') {
      void log.finish().then(() => port.postMessage({ type: 'ended' } satisfies WorkerMessage));
    } else if (command.type === 'measure') {
      const category = categoryById(command.id);
      void measureFolder(category, path.join(task.baseDir, category.folder), {
        startMs: task.startMs,
        cutoff: task.cutoff,
        shard: task.shard,
        fromCwd: task.fromCwd,
      }).then(({ figures, errors }) => port.postMessage({ type: 'measured', figures, errors } satisfies WorkerMessage));
    } else {
      const { id } = command;
      const share = command.share ?? task.shard;
      const category = categoryById(id);
      const errors: FailureRecord[] = [];
      void sweepCategory(category, path.join(task.baseDir, category.folder), {
        cutoff: task.cutoff,
        startMs: task.startMs,
        dryRun: task.dryRun,
        logger: log.logger,
        fileLog: log.fileLog,
        shard: share === 'whole' ? undefined : share,
        fromCwd: command.fromCwd ?? task.fromCwd,
        concurrency: task.concurrency,
        logBackpressure: log.backpressure,
        onFailure: (record) => {
          if (errors.length < MAX_ERRORS) errors.push(record);
        },
        onProgress: (result) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_MS) return;
          lastProgress = now;
          port.postMessage({ type: 'progress', id, result } satisfies WorkerMessage);
        },
      }).then((result) => port.postMessage({ type: 'swept', result, errors } satisfies WorkerMessage));
    }
  });
}

if (parentPort) serve(workerData as WorkerTask, parentPort);
