import type { CategoryId } from './categories.js';
import type { MetricsWriteFailure } from './metrics.js';
import type { CleanupResult } from './result.js';
import { EXIT } from './errors.js';
import { signalExitStatus } from './signals.js';
import { type StateWriteFailure, recordRunEnd } from './state.js';

/**
 * The exit status of a finished run (README, "Exit status"): the log failed 1; interrupted
 * 128 + the signal's number (the built-in cleanup's stop() counts as SIGTERM); failures 1.
 */
export function exitStatusOf(result: CleanupResult): number {
  if (result.holdsFailure !== undefined) return EXIT.usage;
  if (result.logFailure) return EXIT.partial;
  if (result.interrupted !== null) return signalExitStatus(result.interrupted === 'stop' ? 'SIGTERM' : result.interrupted);
  if (!result.dryRun && result.diskPressure?.filesystems.some((f) => !f.reached)) return EXIT.partial;
  return result.totals.failed > 0 ? EXIT.partial : EXIT.ok;
}

export interface RunEnd {
  /** The result of a real run (one that held the lock; not a dry run, not one refused with 75). */
  readonly result: CleanupResult;
  /** When it ended (ms) and the exit status it ends with (0, 1, 129, 130, 143). */
  readonly endMs: number;
  readonly exitStatus: number;
  /** Where the metrics go (from metrics-config.ts `resolveMetricsFile`); undefined: none. */
  readonly metricsFile?: string | undefined;
  /** The oldest file each category kept, when the run tracked it (ms). */
  readonly oldestMtimeMs?: Partial<Record<CategoryId, number | null>> | undefined;
}

/** What could not be written; each is a warning to log, never a reason to change the exit status. */
export interface RunEndFailures {
  readonly state?: StateWriteFailure | undefined;
  readonly metrics?: MetricsWriteFailure | undefined;
}

/**
 * Everything that follows a real run: its end in the state file, then the metrics file (whose
 * module is loaded only when there is one). Never throws.
 */
export async function recordRealRunEnd(end: RunEnd): Promise<RunEndFailures> {
  const state = recordRunEnd(end.result.baseDir, { startMs: end.result.startedAt.getTime(), endMs: end.endMs, exitStatus: end.exitStatus });
  if (end.metricsFile === undefined) return { state };
  try {
    const { metricsInputFromResult, writeMetricsFile } = await import('./metrics.js');
    const input = metricsInputFromResult(end.result, {
      endMs: end.endMs,
      exitStatus: end.exitStatus,
      oldestMtimeMs: end.oldestMtimeMs,
    });
    return { state, metrics: writeMetricsFile(end.metricsFile, input) };
  } catch (err) {
    return { state, metrics: { path: end.metricsFile, code: 'EUNKNOWN', message: err instanceof Error ? err.message : String(err) } };
  }
}
