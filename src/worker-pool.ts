/**
 * The one worker driver: starts the worker threads of a job (sweep or status), hands their log
 * batches to the one writer, and ends them (`withWorkers`): every job's workers start, stop on a
 * failure, and leave the working directory as they found it, in one place.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { LogLevel } from './config.js';
import { type Control, STOP_REASON, acknowledge, requestStop } from './control.js';
import type { HoldsBroadcast } from './hold-follow.js';
import type { LogWriter } from './log-writer.js';
import type { Shard } from './scan.js';
import { UNLOGGED_MAX, toHost } from './sweep-log.js';
import type { LogRecord, WorkerCommand, WorkerMessage, WorkerTask } from './sweep-worker.js';
import { nativeScanner } from './native-scan.js';
import { returnTo } from './working-dir.js';

/**
 * The bundled worker (scripts/bundle.js: one file to load, not two dozen modules), found from
 * src/ (tests), dist/ (the library) and bundle/ (the program) alike. A worker's heap is kept
 * small: what it holds at once is a directory block and the log lines not yet written.
 */
const WORKER_URL = new URL('../bundle/sweep-worker.js', import.meta.url);
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 };

/** What the main thread does with the workers' lines. */
export type WorkersLog =
  | { readonly kind: 'lines'; readonly writer: LogWriter; readonly level: LogLevel }
  | { readonly kind: 'records'; readonly logger: HostLogger };

/** What the built-in cleanup needs of a host's logger (a pino Logger fits). */
export interface HostLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BatchHandler {
  batch(worker: number, message: Extract<WorkerMessage, { type: 'log' }>): void;
  stalled(): void;
}

/** Handles the workers' log batches, in arrival order, and acknowledges them in the Control. */
export function logBatches(log: WorkersLog | undefined, control: Control): BatchHandler {
  if (log === undefined) return { batch: (worker, m) => acknowledge(control, worker, m.deletions), stalled: () => {} };
  if (log.kind === 'records') {
    return {
      batch: (worker, m) => {
        for (const [level, obj, msg] of m.records ?? ([] as LogRecord[])) toHost(log.logger, level, obj, msg);
        acknowledge(control, worker, m.deletions);
      },
      stalled: () => {},
    };
  }
  const { writer } = log;
  writer.onWritten = (source, deletions) => {
    if (source >= 0) acknowledge(control, source, deletions);
  };
  return {
    batch: (worker, m) => writer.write(m.lines ?? '', m.deletions, worker, true),
    // A worker waits for its lines. If the log failed, this is the pause, and the write's one
    // more try: deletions may have freed the space it needed. Failing again, the run stops.
    stalled: () => {
      if (!writer.failure) return; // a slow reader: the lines go out as it reads
      void writer.retry().then((written) => {
        if (!written) requestStop(control, STOP_REASON.log);
      });
    },
  };
}

/** One worker, driven by commands; each `request` resolves with the worker's next reply of that type. */
export class SweepWorker {
  private readonly worker: Worker;
  private pending: { type: WorkerMessage['type']; resolve: (m: WorkerMessage) => void } | undefined;
  private failure: Error | undefined;
  private onFail: ((err: Error) => void) | undefined;

  /** This end of the worker's holds channel (see hold-follow.ts). */
  private readonly holdsPort: MessagePort | undefined;

  constructor(task: WorkerTask, log: BatchHandler, onProgress: (m: Extract<WorkerMessage, { type: 'progress' }>) => void, holds?: HoldsBroadcast) {
    let transferList: MessagePort[] = [];
    if (holds) {
      const channel = new MessageChannel();
      task = { ...task, holds: { rules: holds.rules, generation: holds.latestGeneration(), port: channel.port2 } };
      transferList = [channel.port2];
      this.holdsPort = channel.port1;
      holds.addWorker(channel.port1, task.index, () => this.pending?.type !== 'swept');
    }
    // execArgv: none of the host's flags (--input-type, loaders) apply to our worker, some break it
    this.worker = new Worker(WORKER_URL, { workerData: task, transferList, resourceLimits: RESOURCE_LIMITS, execArgv: [] });
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'log') {
        log.batch(task.index, message);
      } else if (message.type === 'stalled') {
        log.stalled();
      } else if (message.type === 'progress') {
        onProgress(message);
      } else if (this.pending?.type === message.type) {
        const { resolve } = this.pending;
        this.pending = undefined;
        resolve(message);
      }
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.onFail?.(this.failure);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`a cleanup worker stopped (exit code ${code}) before it finished`)));
  }

  private send(command: WorkerCommand): void {
    this.worker.postMessage(command);
  }

  request<T extends WorkerMessage['type']>(command: WorkerCommand, reply: T): Promise<Extract<WorkerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.onFail = reject;
      this.pending = { type: reply, resolve: resolve as (m: WorkerMessage) => void };
      this.send(command);
    });
  }

  async end(): Promise<void> {
    await this.request({ type: 'end' }, 'ended');
    this.worker.removeAllListeners('exit');
    this.holdsPort?.close();
    await this.worker.terminate();
  }

  kill(): void {
    this.holdsPort?.close();
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}

/** What every worker of a job is told, but its index, share and log. */
export type CommonTask = Omit<WorkerTask, 'shard' | 'fromCwd' | 'index' | 'allowance' | 'control' | 'log' | 'native'>;

export function workerTask(common: CommonTask, job: { control: Control; log?: WorkersLog | undefined }, workers: number, index: number, shard: Shard, fromCwd: boolean): WorkerTask {
  return {
    ...common,
    shard,
    fromCwd,
    index,
    control: job.control.buffer as SharedArrayBuffer,
    native: nativeScanner() !== undefined,
    // the bound on deletions without their line is the run's: each worker has its part
    allowance: Math.max(1, Math.floor(UNLOGGED_MAX / workers)),
    log: job.log?.kind === 'lines' ? { kind: 'lines', level: job.log.level } : { kind: 'records' },
  };
}

/**
 * Runs `body` with `workers`, then ends them; on a failure, kills them. `home`: the working
 * directory to go back to at the end (the job changed into folders), if any.
 */
export async function withWorkers<T>(workers: readonly SweepWorker[], home: string | undefined, body: () => Promise<T>): Promise<T> {
  try {
    const out = await body();
    await Promise.all(workers.map((w) => w.end()));
    return out;
  } catch (err) {
    for (const w of workers) w.kill();
    throw err;
  } finally {
    if (home !== undefined) returnTo(home);
  }
}
