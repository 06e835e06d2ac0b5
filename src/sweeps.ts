/**
 * The two passes of a run over the category folders: the age pass (in this thread, or in worker
 * threads) and the disk-pressure pass (here, or in a worker of its own), and where their lines go.
 */
import path from 'node:path';
import { type CategoryId, categoryById } from './categories.js';
import type { CleanupOptions } from './cleanup.js';
import { type Control, STOP_REASON, requestStop, stopAsked } from './control.js';
import { sweepCategory } from './delete.js';
import type { HoldsBroadcast } from './hold-follow.js';
import type { DiskPressureOptions, PressurePass } from './pressure.js';
import type { HostLogger, WorkersLog } from './parallel.js';
import type { CategoryResult, FailureRecord } from './result.js';
import { type SweepLog, loggerLog, writerLog } from './sweep-log.js';
import { enter, returnTo } from './working-dir.js';

export type Results = Partial<Record<CategoryId, CategoryResult>>;

/** Where workers' lines go: our own log's writer, or the host's logger. */
function workersLog(options: CleanupOptions): WorkersLog {
  return options.log ? { kind: 'lines', writer: options.log.writer, level: options.log.level } : { kind: 'records', logger: options.logger as HostLogger };
}

/** The log of a sweep in this thread: our own log's writer, or the host's logger. */
function threadLog(options: CleanupOptions): SweepLog {
  return options.log ? writerLog(options.log.writer, options.log.format) : loggerLog(options.logger as HostLogger);
}

/** Adds the disk-pressure pass's deletions (and what it kept or failed on) into the age pass's. */
export function addPressure(into: Results, pressure: Results): void {
  for (const [id, r] of Object.entries(pressure) as [CategoryId, CategoryResult][]) {
    const c = into[id];
    if (c === undefined) continue;
    for (const key of ['toDelete', 'bytesToDelete', 'deleted', 'bytesFreed', 'failed', 'skipped', 'held', 'bytesHeld'] as const) c[key] += r[key];
    // the pressure pass saw every file left after both passes
    c.oldestMtimeMs = r.oldestMtimeMs;
  }
}

/** What each pass of a run is given. */
export interface RunPass {
  readonly options: CleanupOptions;
  /** Worker threads of the age pass (0: this thread). */
  readonly workers: number;
  readonly control: Control;
  readonly cutoff: number;
  readonly startMs: number;
  readonly onFailure: (r: FailureRecord) => void;
  /** The holds as they change during the run. */
  readonly holds: HoldsBroadcast;
}

/** The age pass in this thread. */
export async function sweepHere({ options, control, cutoff, startMs, onFailure, holds: broadcast }: RunPass): Promise<Results> {
  const categories: Results = {};
  const holds = broadcast.local();
  const log = threadLog(options);
  const writer = options.log?.writer;
  // (the CLI only: bare names, as its workers use; the working directory is put back at the end)
  const home = options.chdir === true ? process.cwd() : undefined;
  // (made once for every folder: a function made per folder, called per file, has V8 throw away
  // the sweep's compiled code when the second folder starts)
  const shouldStop = (): boolean => stopAsked(control);
  const onProgress = options.onProgress;
  const progress = onProgress && ((soFar: CategoryResult): void => onProgress(soFar.id, soFar));
  try {
    for (const id of options.categories) {
      const category = categoryById(id);
      const dir = path.join(options.baseDir, category.folder);
      categories[id] = await sweepCategory(category, dir, {
        fromCwd: home !== undefined && enter(dir),
        cutoff,
        startMs,
        dryRun: options.dryRun,
        log,
        onFailure,
        concurrency: options.concurrency,
        sliceMs: options.sliceMs,
        shouldStop,
        onProgress: progress,
        beforeRecheck: options.beforeRecheck,
        holds,
      });
      // the sweep stopped deleting because the log could not be written: the run stops there
      if (writer?.failure && writer.unwritten > 0 && !writer.flush()) requestStop(control, STOP_REASON.log);
    }
  } finally {
    if (home !== undefined) returnTo(home);
  }
  return categories;
}

/** The age pass in worker threads. */
export async function sweepParallel({ options, workers, control, cutoff, startMs, onFailure, holds }: RunPass): Promise<Results> {
  const dirs = {} as Record<CategoryId, string>;
  for (const id of options.categories) dirs[id] = path.join(options.baseDir, categoryById(id).folder);
  const log = workersLog(options);
  // loaded only here: a sweep in this thread has no use for it (start-up time)
  const { sweepInWorkers } = await import('./parallel.js');
  return sweepInWorkers({
    baseDir: options.baseDir,
    categories: options.categories,
    dirs,
    cutoff,
    startMs,
    dryRun: options.dryRun,
    workers,
    concurrency: options.concurrency,
    chdir: options.chdir === true,
    mainLog: threadLog(options),
    log,
    control,
    onFailure,
    onProgress: options.onProgress,
    holds,
  });
}

/** The disk-pressure pass: in a worker of its own when the run has workers, else in this thread. */
export async function pressurePass(pass: RunPass, diskPressure: DiskPressureOptions): Promise<PressurePass> {
  const { options, workers, control, cutoff, startMs, onFailure, holds } = pass;
  const { baseDir, dryRun } = options;
  if (workers > 0) {
    // in a worker: its heap is capped (in this thread its scans grew the heap past 96 MB)
    const { pressureInWorker } = await import('./parallel.js');
    const done = await pressureInWorker({
      baseDir,
      categories: options.categories,
      cutoff,
      startMs,
      dryRun,
      control,
      log: workersLog(options),
      holds,
      index: workers,
      options: diskPressure,
    });
    for (const record of done.errors) onFailure(record);
    return done.pass;
  }
  const { relievePressure } = await import('./pressure.js');
  return relievePressure({
    options: diskPressure,
    baseDir,
    categories: options.categories,
    dryRun,
    startMs,
    ageCutoff: cutoff,
    log: threadLog(options),
    holds: holds.local(),
    shouldStop: () => stopAsked(control),
    onFailure,
    sliceMs: options.sliceMs,
  });
}
