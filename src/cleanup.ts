import type { CategoryId } from './categories.js';
import { STOP, STOP_REASON, newControl, requestStop, stopAsked } from './control.js';
import type { SweepOptions } from './sweep-options.js';
import { errorMessage, plainMessage } from './errors.js';
import { type HoldWatch, watchHolds } from './hold-watch.js';
import type { DiskPressureOptions, DiskPressureReport } from './pressure.js';
import { nativeScanner } from './native-scan.js';
import type { LogSink } from './log.js';
import type { HostLogger } from './parallel.js';
import { cutoffMs } from './plan.js';
import { type CategoryResult, type CleanupResult, type FailureRecord, type LogFailure, MAX_ERRORS, sumTallies } from './result.js';
import { formatDays, formatMB } from './format.js';
import { readState, writeState } from './state.js';
import { type RunPass, addPressure, pressurePass, sweepHere, sweepParallel } from './sweeps.js';

export interface CleanupOptions {
  /** Absolute folder holding `offline_incidents/` and `mock_sparse_ai_cloud/`. */
  readonly baseDir: string;
  /** Retention in days (> 0). */
  readonly days: number;
  readonly dryRun: boolean;
  /** Which categories to clean, in report order. */
  readonly categories: readonly CategoryId[];
  /**
   * Our own log (the CLI's; the built-in cleanup's default): every line goes through its one
   * writer, and a deleted file's line reaches the operating system before more than 256 further
   * deletions. If it cannot be written, the run stops deleting (`logFailure` in the result).
   */
  readonly log?: LogSink;
  /** Otherwise, a host's logger: lines handed to it count as written. */
  readonly logger?: HostLogger;
  /** The clock, read once at the start. Default Date.now. */
  readonly now?: () => number;
  readonly concurrency?: SweepOptions['concurrency'];
  readonly sliceMs?: SweepOptions['sliceMs'];
  /** Sweep in this many worker threads (0 or unset: in this thread). */
  readonly workers?: number;
  /** Change into each folder, for cheaper system calls (the CLI's own process only; see working-dir.ts). */
  readonly chdir?: boolean;
  readonly onProgress?: (categoryId: CategoryId, soFar: CategoryResult) => void;
  readonly beforeRecheck?: SweepOptions['beforeRecheck'];
  /**
   * Stops the run as a signal does: no new deletion starts (unlinks in flight finish), every
   * deleted file keeps its line, the lock is released, and the result says `interrupted`, with
   * the abort reason (a signal's name, such as 'SIGTERM').
   */
  readonly signal?: AbortSignal;
  /**
   * Real runs only: once the lock is held, and before anything is deleted, decides whether to
   * go on, given the start of the last real run (undefined: no valid record). Returning false
   * ends the run with `undefined`. The built-in cleanup uses it so that two processes that both
   * found a cleanup due do not run it one after the other.
   */
  readonly stillDue?: (lastRunStartMs: number | undefined, startMs: number) => boolean;
  /** Globs protected for this run only (`--exclude`, VIGINT_EXCLUDE), as hold patterns. */
  readonly excludes?: readonly string[];
  /** After the age pass, delete the oldest files until each file system has this much free. */
  readonly diskPressure?: DiskPressureOptions | undefined;
}

/**
 * One cleanup run: lock (real runs only), record the start, sweep each category, release.
 * Throws a CleanupError when the lock is held (exit 75) or cannot be created (exit 1); every
 * other problem is counted in the result and the run goes on.
 */
export async function runCleanup(options: CleanupOptions & { stillDue?: undefined }): Promise<CleanupResult>;
export async function runCleanup(options: CleanupOptions): Promise<CleanupResult | undefined>;
export async function runCleanup(options: CleanupOptions): Promise<CleanupResult | undefined> {
  const { baseDir, days, dryRun } = options;
  const logger = options.log?.logger ?? options.logger;
  if (logger === undefined) throw new TypeError('runCleanup needs a log or a logger');
  const startMs = (options.now ?? Date.now)();
  const cutoff = cutoffMs(startMs, days);
  const workers = options.workers ?? 0;
  // (one more slot than the sweep's workers: the disk-pressure pass's own worker)
  const control = newControl(workers + 1);
  const stop = (): void => requestStop(control, STOP_REASON.interrupted);
  options.signal?.addEventListener('abort', stop);
  if (options.signal?.aborted) stop();
  // (lock.js only for real runs: a dry run takes no lock, and starts sooner without it)
  const lock = dryRun ? undefined : await (await import('./lock.js')).acquireLock(baseDir);
  let holds: HoldWatch | undefined;
  try {
    if (lock && options.stillDue) {
      const state = readState(baseDir);
      if (!options.stillDue(state.kind === 'ok' ? state.lastRunStartMs : undefined, startMs)) return undefined;
    }
    logger.info(
      // scanner: which way folders are read (native/scan.c, or Node's fs where it is not built);
      // workers: worker threads sweeping (0: this thread)
      {
        baseDir,
        retentionDays: days,
        cutoff: new Date(cutoff).toISOString(),
        dryRun,
        categories: options.categories,
        scanner: nativeScanner() ? 'native' : 'fs',
        workers,
      },
      `Running automatic cleanup (retention: ${formatDays(days)})`,
    );
    if (!dryRun) {
      try {
        writeState(baseDir, startMs);
      } catch (err) {
        logger.warn({ err }, 'cleanup: could not record the start of this run in the state file');
      }
    }
    // The holds, read once the lock is held (a hold file that cannot be read: nothing is deleted).
    holds = watchHolds({
      baseDir,
      excludes: options.excludes ?? [],
      startMs,
      control,
      watch: !dryRun,
      onAckFailure: (err) => logger.warn({ err: errorMessage(err) }, 'cleanup: could not acknowledge the holds; hold add will warn'),
    });
    // the start line first: the workers' lines follow it
    options.log?.writer.flush();
    const errors: FailureRecord[] = [];
    const onFailure = (record: FailureRecord): void => {
      if (errors.length < MAX_ERRORS) errors.push(record);
    };
    const pass: RunPass = { options, workers, control, cutoff, startMs, onFailure, holds: holds.broadcast };
    const categories = workers > 0 ? await sweepParallel(pass) : await sweepHere(pass);
    let diskPressure: DiskPressureReport | null = null;
    if (options.diskPressure && !stopAsked(control)) {
      const relieved = await pressurePass(pass, options.diskPressure);
      addPressure(categories, relieved.results);
      diskPressure = relieved.report;
      for (const f of relieved.report.filesystems) {
        if (!f.reached) {
          logger.warn(
            { mount: f.mount, freeBytes: f.freeAfter, targetBytes: f.targetBytes, dryRun },
            `cleanup: the free-space target (${relieved.report.target}) ${dryRun ? 'would not be' : 'could not be'} reached on ${f.mount}: nothing old enough is left to delete`,
          );
        }
      }
    }
    holds.stop();
    for (const result of Object.values(categories)) {
      if (result.future > 0) {
        logger.warn(
          { dir: result.dir, count: result.future },
          `cleanup: ${result.future} file(s) dated in the future were kept; check the system clock`,
        );
      }
    }
    const totals = sumTallies(Object.values(categories));
    const reason = Atomics.load(control, STOP);
    const interrupted = reason === STOP_REASON.interrupted ? String(options.signal?.reason ?? 'stop') : null;
    if (interrupted !== null) {
      logger.warn({ ...totals, dryRun, signal: interrupted }, `cleanup: interrupted by ${interrupted}`);
    }
    const logFailure = failureOf(options.log, reason, totals.deleted);
    if (logFailure) {
      logger.warn({ code: logFailure.code, deleted: totals.deleted }, `cleanup: cannot write the log; stopped after ${totals.deleted} deletions`);
    }
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
      interrupted,
      logFailure,
      holdsFailure: holds.failure,
      diskPressure,
    };
  } finally {
    holds?.stop();
    options.signal?.removeEventListener('abort', stop);
    lock?.release();
  }
}

/** The log's failure, if it kept the run from going on or lines are still unwritten after one more try. */
function failureOf(log: LogSink | undefined, reason: number, deleted: number): LogFailure | undefined {
  if (log === undefined) return undefined;
  const { writer } = log;
  if (reason !== STOP_REASON.log && (writer.flush() || !writer.failure)) return undefined;
  const err = writer.failure;
  return { destination: writer.name, code: err?.code ?? 'EIO', message: err ? plainMessage(err) : 'the log could not be written', deleted };
}
