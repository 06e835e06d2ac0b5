/**
 * A worker thread's share of a cleanup. For each category the main thread names, it sweeps its
 * share of the folder's names (see `inShard`) and answers with the counters. Its log lines go to
 * the main thread, the one writer of the log, in batches; the shared Control says how many of
 * its deletions have their lines written, and whether to stop.
 */
import path from 'node:path';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { type CategoryId, categoryById } from './categories.js';
import type { LogLevel } from './config.js';
import { type Control, STOP, batchesSlot, deletionsSlot } from './control.js';
import { sweepCategory } from './delete.js';
import { compileGuard } from './guard.js';
import { type HoldRules, NO_FOLLOWER } from './hold-follow.js';
import { PortFollower } from './hold-port.js';
import { LineFormat, type SweepLevel, mtimeText } from './log-line.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS } from './result.js';
import type { DiskPressureOptions, PressurePass } from './pressure.js';
import type { Shard } from './scan.js';
import { type CategoryStatus, measureFolder } from './figures.js';
import { type SweepLog, fileFields } from './sweep-log.js';

export interface WorkerTask {
  readonly baseDir: string;
  readonly cutoff: number;
  readonly startMs: number;
  readonly dryRun: boolean;
  readonly shard: Shard;
  readonly concurrency?: number | undefined;
  /** The main thread changes into each folder before naming it: use bare names. */
  readonly fromCwd: boolean;
  /** `lines`: JSON lines for our own log, at this level; `records`: for a host's logger. */
  readonly log: { readonly kind: 'lines'; readonly level: LogLevel } | { readonly kind: 'records' };
  readonly control: SharedArrayBuffer;
  /** This worker's index in the control. */
  readonly index: number;
  /** Deletions of this worker that may lack their written line at once (its part of UNLOGGED_MAX). */
  readonly allowance: number;
  /** The holds and excludes at the start, and the port newer ones come on (see hold-follow.ts). */
  readonly holds?: { readonly rules: HoldRules; readonly generation: number; readonly port: MessagePort } | undefined;
}

export type LogRecord = [level: SweepLevel, obj: object, msg: string];

/** Main thread → worker. */
export type WorkerCommand =
  /** `share` and `fromCwd` override the task's (`'whole'`: the whole folder). */
  | { readonly type: 'sweep'; readonly id: CategoryId; readonly share?: Shard | 'whole'; readonly fromCwd?: boolean }
  | { readonly type: 'measure'; readonly id: CategoryId }
  /** The disk-pressure pass (pressure.ts), here: a worker's heap is capped, the main thread's is not. */
  | { readonly type: 'pressure'; readonly options: DiskPressureOptions; readonly categories: readonly CategoryId[] }
  | { readonly type: 'end' };

/** Worker → main thread. */
export type WorkerMessage =
  | { readonly type: 'log'; readonly lines?: string; readonly records?: LogRecord[]; readonly deletions: number }
  /** Waiting for the main thread (lines to be written); says so once per wait. */
  | { readonly type: 'stalled' }
  | { readonly type: 'progress'; readonly id: CategoryId; readonly result: CategoryResult }
  | { readonly type: 'swept'; readonly result: CategoryResult; readonly errors: FailureRecord[] }
  | { readonly type: 'measured'; readonly figures: CategoryStatus; readonly errors: FailureRecord[] }
  | { readonly type: 'pressured'; readonly pass: PressurePass; readonly errors: FailureRecord[] }
  | { readonly type: 'ended' };

/** A batch goes to the main thread at this many characters of lines or records... */
const BATCH_CHARS = 64 << 10;
const BATCH_RECORDS = 256;
/** ...and batches the main thread has not taken care of, before the sweep waits. */
const MAX_UNACKED = 8;
const PROGRESS_MS = 200;
const WAIT_MS = 100;

/** The sweep's log in a worker: batches to the main thread, bounded by what it has written. */
class WorkerLog implements SweepLog {
  private lines = '';
  private records: LogRecord[] = [];
  private deletions = 0;
  /** Deletions logged (batched or posted), in all. */
  private logged = 0;
  private posted = 0;
  private readonly format: LineFormat | undefined;
  private readonly infoOn: boolean;
  private readonly warnOn: boolean;
  /** Post at this many deletions: half the allowance, so the next batch is written meanwhile. */
  private readonly every: number;

  constructor(
    private readonly task: WorkerTask,
    private readonly control: Control,
    private readonly port: MessagePort,
  ) {
    this.format = task.log.kind === 'lines' ? new LineFormat(task.log.level) : undefined;
    this.infoOn = this.format?.enabled('info') ?? true;
    this.warnOn = this.format?.enabled('warn') ?? true;
    this.every = Math.max(1, Math.floor(task.allowance / 2));
  }

  file(msg: string, path: string, size: number, mtimeMs: number, dryRun: boolean, deleted: boolean, reason?: string): void {
    if (deleted) {
      this.logged++;
      this.deletions++;
    }
    if (this.format) {
      // a deleted file's line is the audit trail: written whatever LOG_LEVEL says
      if (this.infoOn || deleted) {
        this.lines += this.format.fileLine(msg, path, size, mtimeText(mtimeMs), dryRun, reason);
      }
    } else {
      this.records.push(['info', fileFields(path, size, mtimeMs, dryRun, reason), msg]);
    }
    if (this.deletions >= this.every || this.lines.length >= BATCH_CHARS || this.records.length >= BATCH_RECORDS) this.post();
  }

  info(fields: object, msg: string): void {
    this.add('info', fields, msg, this.infoOn);
  }

  warn(fields: object, msg: string): void {
    this.add('warn', fields, msg, this.warnOn);
  }

  room(): number {
    return this.task.allowance - (this.logged - Atomics.load(this.control, deletionsSlot(this.task.index)));
  }

  makeRoom(): 'go' | 'stop' {
    this.post();
    return this.waitUntil(deletionsSlot(this.task.index), () => this.room() > 0);
  }

  backpressure(): undefined {
    if (this.posted - Atomics.load(this.control, batchesSlot(this.task.index)) > MAX_UNACKED) {
      this.waitUntil(batchesSlot(this.task.index), () => this.posted - Atomics.load(this.control, batchesSlot(this.task.index)) <= MAX_UNACKED);
    }
    return undefined;
  }

  /** Sends what is batched to the main thread. */
  post(): void {
    if (this.lines === '' && this.records.length === 0 && this.deletions === 0) return;
    const message: WorkerMessage = this.format
      ? { type: 'log', lines: this.lines, deletions: this.deletions }
      : { type: 'log', records: this.records, deletions: this.deletions };
    this.port.postMessage(message);
    this.posted++;
    this.lines = '';
    this.records = [];
    this.deletions = 0;
  }

  private add(level: SweepLevel, fields: object, msg: string, on: boolean): void {
    if (!on) return;
    if (this.format) this.lines += this.format.line(level, fields, msg);
    else this.records.push([level, fields, msg]);
    if (this.lines.length >= BATCH_CHARS || this.records.length >= BATCH_RECORDS) this.post();
  }

  /** Blocks this thread until `ok()` (or the run stops), telling the main thread once. */
  private waitUntil(slot: number, ok: () => boolean): 'go' | 'stop' {
    let told = false;
    for (;;) {
      if (Atomics.load(this.control, STOP) !== 0) return 'stop';
      const seen = Atomics.load(this.control, slot);
      if (ok()) return 'go';
      if (!told) {
        this.port.postMessage({ type: 'stalled' } satisfies WorkerMessage);
        told = true;
      }
      Atomics.wait(this.control, slot, seen, WAIT_MS);
    }
  }
}

function serve(task: WorkerTask, port: MessagePort): void {
  const control = new Int32Array(task.control);
  const log = new WorkerLog(task, control, port);
  const shouldStop = (): boolean => Atomics.load(control, STOP) !== 0;
  const holds = task.holds && new PortFollower(task.holds.rules, compileGuard, task.startMs, task.holds.port, control, task.index, task.holds.generation);
  let lastProgress = 0;
  port.on('message', (command: WorkerCommand) => {
    if (command.type === 'end') {
      port.postMessage({ type: 'ended' } satisfies WorkerMessage);
    } else if (command.type === 'pressure') {
      const errors: FailureRecord[] = [];
      if (holds) holds.busy = true;
      void import('./pressure.js')
        .then(({ relievePressure }) =>
          relievePressure({
            options: command.options,
            baseDir: task.baseDir,
            categories: command.categories,
            dryRun: task.dryRun,
            startMs: task.startMs,
            ageCutoff: task.cutoff,
            log,
            holds: holds ?? NO_FOLLOWER,
            shouldStop,
            onFailure: (record) => {
              if (errors.length < MAX_ERRORS) errors.push(record);
            },
          }),
        )
        .then((pass) => {
          if (holds) holds.busy = false;
          log.post();
          port.postMessage({ type: 'pressured', pass, errors } satisfies WorkerMessage);
        });
    } else if (command.type === 'measure') {
      const category = categoryById(command.id);
      void measureFolder(category, path.join(task.baseDir, category.folder), {
        startMs: task.startMs,
        cutoff: task.cutoff,
        shard: task.shard,
        fromCwd: task.fromCwd,
        shouldStop,
        guard: holds?.guard,
      }).then(({ figures, errors }) => port.postMessage({ type: 'measured', figures, errors } satisfies WorkerMessage));
    } else {
      const { id } = command;
      const share = command.share ?? task.shard;
      const category = categoryById(id);
      const errors: FailureRecord[] = [];
      if (holds) {
        holds.busy = true;
        if (holds.changed()) holds.adopt();
      }
      void sweepCategory(category, path.join(task.baseDir, category.folder), {
        cutoff: task.cutoff,
        startMs: task.startMs,
        dryRun: task.dryRun,
        log,
        shard: share === 'whole' ? undefined : share,
        fromCwd: command.fromCwd ?? task.fromCwd,
        concurrency: task.concurrency,
        shouldStop,
        holds,
        onFailure: (record) => {
          if (errors.length < MAX_ERRORS) errors.push(record);
        },
        onProgress: (result) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_MS) return;
          lastProgress = now;
          port.postMessage({ type: 'progress', id, result } satisfies WorkerMessage);
        },
      }).then((result) => {
        if (holds) {
          holds.busy = false;
          if (holds.changed()) holds.adopt();
        }
        log.post();
        port.postMessage({ type: 'swept', result, errors } satisfies WorkerMessage);
      });
    }
  });
}

if (parentPort) serve(workerData as WorkerTask, parentPort);
