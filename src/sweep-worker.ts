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
import { stopAsked } from './control.js';
import { sweepCategory } from './delete.js';
import { compileGuard } from './guard.js';
import { type HoldRules, NO_FOLLOWER } from './hold-follow.js';
import { PortFollower } from './hold-port.js';
import type { SweepLevel } from './log-line.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS } from './result.js';
import type { DiskPressureOptions, PressurePass } from './pressure.js';
import type { Shard } from './scan.js';
import { type CategoryStatus, measureFolder } from './figures.js';
import { useNative } from './native-scan.js';
import { WorkerLog } from './worker-log.js';

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
  /** Scan with the native scanner (as the main thread does: the shares of a folder must hash alike). */
  readonly native: boolean;
  /** This worker's index in the control. */
  readonly index: number;
  /** Deletions of this worker that may lack their written line at once (its part of UNLOGGED_MAX). */
  readonly allowance: number;
  /** The holds and excludes at the start, and the port newer ones come on (see hold-follow.ts). */
  readonly holds?: { readonly rules: HoldRules; readonly generation: number; readonly port: MessagePort } | undefined;
}

/** How often a worker tells the main thread how far it is, at most (ms). */
const PROGRESS_MS = 200;

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

function serve(task: WorkerTask, port: MessagePort): void {
  useNative(task.native);
  const control = new Int32Array(task.control);
  const log = new WorkerLog(task, control, port);
  const shouldStop = (): boolean => stopAsked(control);
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
