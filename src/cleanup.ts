import path from 'node:path';
import type { Logger } from 'pino';
import { type CategoryId, categoryById } from './categories.js';
import { type SweepOptions, sweepCategory } from './delete.js';
import type { LogLevel } from './config.js';
import { acquireLock } from './lock.js';
import { sweepInWorkers } from './parallel.js';
import { cutoffMs } from './plan.js';
import { type CategoryResult, type CleanupResult, type FailureRecord, MAX_ERRORS, sumTallies } from './result.js';
import { formatDays, formatMB } from './format.js';
import { readState, writeState } from './state.js';

export interface CleanupOptions {
  /** Absolute folder holding `offline_incidents/` and `mock_sparse_ai_cloud/`. */
  readonly baseDir: string;
  /** Retention in days (> 0). */
  readonly days: number;
  readonly dryRun: boolean;
  /** Which categories to clean, in report order. */
  readonly categories: readonly CategoryId[];
  readonly logger: Logger;
  /** The clock, read once at the start. Default Date.now. */
  readonly now?: () => number;
  readonly concurrency?: SweepOptions['concurrency'];
  readonly sliceMs?: SweepOptions['sliceMs'];
  readonly logBackpressure?: SweepOptions['logBackpressure'];
  /**
   * Sweep in this many worker threads, each taking a share of every folder (0 or unset: in this
   * thread). With `logFd`, workers write their lines to that descriptor (our own log); without, they
   * send them to `logger` (a host's logger). `logDrained` lets the first line reach the log first.
   */
  readonly workers?: number;
  /** With workers: change into each folder, for cheaper system calls (the CLI's own process only). */
  readonly chdir?: boolean;
  readonly logFd?: { readonly fd: number; readonly level: LogLevel; readonly drained: () => Promise<void> };
  readonly onProgress?: (categoryId: CategoryId, soFar: CategoryResult) => void;
  readonly beforeRecheck?: SweepOptions['beforeRecheck'];
  /**
   * Real runs only: once the lock is held, and before anything is deleted, decides whether to
   * go on, given the start of the last real run (undefined: no valid record). Returning false
   * ends the run with `undefined`. The built-in cleanup uses it so that two processes that both
   * found a cleanup due do not run it one after the other.
   */
  readonly stillDue?: (lastRunStartMs: number | undefined, startMs: number) => boolean;
}

/**
 * One cleanup run: lock (real runs only), record the start, sweep each category, release.
 * Throws a CleanupError when the lock is held (exit 75) or cannot be created (exit 1); every
 * other problem is counted in the result and the run goes on.
 */
export async function runCleanup(options: CleanupOptions & { stillDue?: undefined }): Promise<CleanupResult>;
export async function runCleanup(options: CleanupOptions): Promise<CleanupResult | undefined>;
export async function runCleanup(options: CleanupOptions): Promise<CleanupResult | undefined> {
  const { baseDir, days, dryRun, logger } = options;
  const startMs = (options.now ?? Date.now)();
  const cutoff = cutoffMs(startMs, days);
  const lock = dryRun ? undefined : acquireLock(baseDir);
  try {
    if (lock && options.stillDue) {
      const state = readState(baseDir);
      if (!options.stillDue(state.kind === 'ok' ? state.lastRunStartMs : undefined, startMs)) return undefined;
    }
    logger.info(
      { baseDir, retentionDays: days, cutoff: new Date(cutoff).toISOString(), dryRun, categories: options.categories },
      `Running automatic cleanup (retention: ${formatDays(days)})`,
    );
    if (!dryRun) {
      try {
        writeState(baseDir, startMs);
      } catch (err) {
        logger.warn({ err }, 'cleanup: could not record the start of this run in the state file');
      }
    }
    const errors: FailureRecord[] = [];
    const onFailure = (record: FailureRecord): void => {
      if (errors.length < MAX_ERRORS) errors.push(record);
    };
    const categories =
      options.workers !== undefined && options.workers > 0
        ? await sweepParallel(options, options.workers, cutoff, startMs, onFailure)
        : await sweepHere(options, cutoff, startMs, onFailure);
    for (const result of Object.values(categories)) {
      if (result.future > 0) {
        logger.warn(
          { dir: result.dir, count: result.future },
          `cleanup: ${result.future} file(s) dated in the future were kept; check the system clock`,
        );
      }
    }
    const totals = sumTallies(Object.values(categories));
    logger.info(
      { ...totals, dryRun },
      dryRun
        ? `Cleanup complete (dry run): ${totals.toDelete} files would be deleted, ${formatMB(totals.bytesToDelete)} MB would be freed`
        : `Cleanup complete: ${totals.deleted} files deleted, ${formatMB(totals.bytesFreed)} MB freed` +
            (totals.failed > 0 ? `, ${totals.failed} errors` : ''),
    );
    return {
      dryRun,
      retentionDays: days,
      startedAt: new Date(startMs),
      cutoff: new Date(cutoff),
      baseDir,
      categories,
      totals,
      errors,
    };
  } finally {
    lock?.release();
  }
}

type Results = Partial<Record<CategoryId, CategoryResult>>;

async function sweepHere(options: CleanupOptions, cutoff: number, startMs: number, onFailure: (r: FailureRecord) => void): Promise<Results> {
  const categories: Results = {};
  for (const id of options.categories) {
    const category = categoryById(id);
    const onProgress = options.onProgress;
    categories[id] = await sweepCategory(category, path.join(options.baseDir, category.folder), {
      cutoff,
      startMs,
      dryRun: options.dryRun,
      logger: options.logger,
      onFailure,
      concurrency: options.concurrency,
      sliceMs: options.sliceMs,
      logBackpressure: options.logBackpressure,
      onProgress: onProgress && ((soFar) => onProgress(id, soFar)),
      beforeRecheck: options.beforeRecheck,
    });
  }
  return categories;
}

async function sweepParallel(
  options: CleanupOptions,
  workers: number,
  cutoff: number,
  startMs: number,
  onFailure: (r: FailureRecord) => void,
): Promise<Results> {
  const dirs = {} as Record<CategoryId, string>;
  for (const id of options.categories) dirs[id] = path.join(options.baseDir, categoryById(id).folder);
  // the start line first: workers write to the same log
  if (options.logFd) await options.logFd.drained();
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
    logger: options.logger,
    log: options.logFd ? { kind: 'fd', fd: options.logFd.fd, level: options.logFd.level } : { kind: 'forward' },
    onFailure,
    onProgress: options.onProgress,
  });
}
