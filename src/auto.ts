import type { Logger } from 'pino';
import { runCleanup } from './cleanup.js';
import path from 'node:path';
import { CATEGORIES } from './categories.js';
import {
  type Env,
  MAX_DAYS,
  loadEnv,
  parsePositive,
  resolveBaseDir,
  resolveDays,
  resolveDiskPressure,
  resolveIntervalHours,
  resolveLogLevel,
} from './config.js';
import { CleanupError, EXIT } from './errors.js';
import { openLogSink } from './log.js';
import { resolveMetricsFile } from './metrics-config.js';
import { toHost } from './sweep-log.js';
import { exitStatusOf, recordRealRunEnd } from './run-end.js';
import { readState, statePath } from './state.js';

export interface AutoCleanupOptions {
  /** Folder holding offline_incidents/ and mock_sparse_ai_cloud/. Default: VIGINT_BASE_DIR, else the current folder. */
  readonly baseDir?: string;
  /** Retention in days (> 0). Default: INCIDENT_RETENTION_DAYS, else 30. */
  readonly retentionDays?: number;
  /** Hours between two cleanups of the base folder, by any process. Default: CLEANUP_INTERVAL_HOURS, else 24. */
  readonly intervalHours?: number;
  /**
   * The host's pino logger (the cleanup's lines then appear in the host's log). Default: our own,
   * writing JSON lines asynchronously to standard error. Give one with an asynchronous
   * destination: a synchronous one can hold the event loop on a full pipe.
   */
  readonly logger?: Logger;
  /** Where the defaults come from. Default: process.env over ./.env (process.env is not modified). */
  readonly env?: Env;
  /** The clock (tests). Default: Date.now. */
  readonly now?: () => number;
  /**
   * Worker threads that sweep the folders (default 1): the host's thread then only writes the
   * log lines (for a host's logger) and waits. 0: sweep in the host's thread, yielding to its
   * event loop every `sliceMs`.
   */
  readonly workers?: number;
  /** With `workers: 0`: the longest stretch of synchronous work before yielding, in ms. Default 10. */
  readonly sliceMs?: number;
  /**
   * After each cleanup, write Prometheus metrics there (node_exporter's textfile collector).
   * Default: VIGINT_METRICS_FILE, else none.
   */
  readonly metricsFile?: string;
  /**
   * Free-space target (`'10%'`, `'20GB'`): after the age pass, the oldest files go until each file
   * system has this much free (README, "Disk space"); notify() also checks the free space, at most
   * once a minute, and runs a cleanup when it is under the target, even within the interval.
   * Default: VIGINT_MIN_FREE, else off.
   */
  readonly minFree?: string;
  /** Never delete files younger than this for space, in days. Default: VIGINT_KEEP_NEWEST_DAYS, else 1. */
  readonly keepNewestDays?: number;
}

export interface AutoCleanup {
  /**
   * Call whenever the host sends an alert: starts a cleanup in the background if one is due.
   * Returns at once; never throws; does nothing while a cleanup is under way.
   */
  notify(): void;
  /** Resolves once no cleanup is running and its log lines are written (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * For the host's shutdown: stops a cleanup under way as a signal stops the CLI (no new
   * deletion; unlinks in flight finish; every deleted file logged; the lock released) and
   * resolves once it has stopped, within 2 seconds. Later notify() calls do nothing.
   */
  stop(): Promise<void>;
}

const HOUR = 3_600_000;
/** After a failed attempt (unwritable folder, lock held), wait this long before the next one. */
const RETRY_MS = 5 * 60_000;
/** Free space is looked at no more often than this (a statfs per folder). */
const SPACE_CHECK_MS = 60_000;
/** stop() resolves within this, whatever the log's destination does. */
const STOP_WAIT_MS = 1_800;

/**
 * The built-in cleanup for the alerting service. A cleanup is due when `intervalHours` have
 * passed since the last real run of the base folder by any process (the CLI from cron
 * included), as recorded in `<base>/.vigint-cleanup-state.json`; no valid record means due.
 * Runs take the same lock as the CLI. Invalid options or environment values throw here, at
 * start-up, rather than at the first alert.
 */
export function createAutoCleanup(options: AutoCleanupOptions = {}): AutoCleanup {
  const env = options.env ?? loadEnv(process.cwd(), process.env);
  const baseDir = resolveBaseDir(options.baseDir, env, process.cwd());
  const days =
    options.retentionDays !== undefined ? parsePositive(String(options.retentionDays), 'retentionDays', MAX_DAYS) : resolveDays(undefined, env);
  const intervalMs = resolveIntervalHours(options.intervalHours, env) * HOUR;
  const metricsFile = resolveMetricsFile(options.metricsFile, env, process.cwd());
  const diskPressure = resolveDiskPressure(
    { minFree: options.minFree, keepNewest: options.keepNewestDays === undefined ? undefined : String(options.keepNewestDays) },
    env,
  );
  // our own log writes with fs.write: a full blocking pipe must not hold the host's event loop
  const sink = options.logger ? undefined : openLogSink({ level: resolveLogLevel(env), mode: 'async' });
  const logger = (options.logger ?? sink?.logger) as Logger;
  const clock = options.now ?? Date.now;
  const sliceMs = options.sliceMs ?? 10;
  const workers = options.workers ?? 1;

  let running: Promise<void> | undefined;
  /** Aborts the cleanup under way (stop()). */
  let current: AbortController | undefined;
  let stopped = false;
  /** No attempt before this instant (ms): the next due time as last known, or a retry delay. */
  let notBefore = Number.NEGATIVE_INFINITY;

  const due = (last: number | undefined, now: number): boolean => last === undefined || last > now || now - last >= intervalMs;
  /** When free space was last looked at (ms): at most once a minute. */
  let spaceCheckedAt = Number.NEGATIVE_INFINITY;
  /** True when a file system holding a folder has less free space than the target. */
  const spaceShort = async (now: number): Promise<boolean> => {
    if (diskPressure === undefined || now - spaceCheckedAt < SPACE_CHECK_MS) return false;
    spaceCheckedAt = now;
    const { fileSystemsOf } = await import('./mounts.js');
    const { targetBytes } = await import('./size.js');
    const dirs = CATEGORIES.map((c) => path.join(baseDir, c.folder));
    return fileSystemsOf(dirs).some((f) => f.freeBytes < targetBytes(diskPressure.target, f.sizeBytes));
  };

  async function cycle(): Promise<void> {
    const now = clock();
    if (stopped) return;
    // not due yet; with a free-space target, the space is still looked at once a minute
    if (now < notBefore && (diskPressure === undefined || now - spaceCheckedAt < SPACE_CHECK_MS)) return;
    const state = readState(baseDir);
    if (state.kind === 'invalid') {
      logger.warn({ path: statePath(baseDir), reason: state.reason }, 'cleanup: the state file is not valid; a cleanup is due');
    }
    const last = state.kind === 'ok' ? state.lastRunStartMs : undefined;
    if (last !== undefined && last > now) {
      logger.warn({ lastRunStart: new Date(last).toISOString() }, 'cleanup: the last run is recorded in the future (clock problem); a cleanup is due');
    }
    const short = !due(last, now) && (await spaceShort(now));
    if (!due(last, now) && !short) {
      notBefore = (last as number) + intervalMs;
      return;
    }
    if (short) logger.info({ baseDir, minFree: diskPressure?.text }, 'cleanup: free space is under the target; cleaning up before the interval is over');
    current = new AbortController();
    try {
      const result = await runCleanup({
        baseDir,
        days,
        dryRun: false,
        categories: ['incidents', 'videos'],
        ...(sink ? { log: sink } : { logger }),
        now: clock,
        sliceMs,
        workers,
        signal: current.signal,
        // free space short: run even if another process cleaned within the interval
        stillDue: short ? (): boolean => true : due,
        diskPressure,
      });
      if (result !== undefined) {
        const failures = await recordRealRunEnd({ result, endMs: clock(), exitStatus: exitStatusOf(result), metricsFile });
        if (failures.state) logger.warn({ path: failures.state.path, code: failures.state.code }, 'cleanup: could not record the end of this run in the state file');
        if (failures.metrics) logger.warn({ path: failures.metrics.path, code: failures.metrics.code, err: failures.metrics.message }, 'cleanup: could not write the metrics file');
      }
      const after = readState(baseDir);
      notBefore = after.kind === 'ok' ? after.lastRunStartMs + intervalMs : clock() + RETRY_MS;
      if (result === undefined) logger.debug('cleanup: another process has just run it; not due any more');
      else if (result.logFailure) {
        notBefore = clock() + RETRY_MS;
        const f = result.logFailure;
        process.emitWarning(`vigint-cleanup: cannot write the log (${f.destination}): ${f.code} ${f.message}; stopped after ${f.deleted} deletions`);
      }
    } catch (err) {
      notBefore = clock() + RETRY_MS;
      if (err instanceof CleanupError && err.exitStatus === EXIT.locked) {
        logger.info({ baseDir }, 'cleanup: skipped, another cleanup of this folder is running');
      } else {
        logger.error({ err, baseDir }, 'cleanup: automatic cleanup failed; the host goes on');
      }
    } finally {
      current = undefined;
    }
  }

  return {
    notify() {
      try {
        if (running || stopped) return;
        running = new Promise<void>((resolve) => setImmediate(resolve))
          .then(cycle)
          .catch((err: unknown) => toHost(logger, 'error', { err }, 'cleanup: automatic cleanup failed; the host goes on'))
          .finally(() => {
            running = undefined;
          });
      } catch {
        // notify() never throws
      }
    },
    async idle() {
      while (running) await running;
      await sink?.writer.drained();
    },
    async stop() {
      stopped = true;
      current?.abort('stop');
      const settled = (async (): Promise<void> => {
        while (running) await running;
        await sink?.writer.drained();
      })();
      // A destination that takes nothing (a full pipe nobody reads) must not hold the host's
      // shutdown: after STOP_WAIT_MS, stop() resolves; what is left is written if it can be.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}
