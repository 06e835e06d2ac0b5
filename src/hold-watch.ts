import { type Control, STOP_REASON, requestStop } from './control.js';
import { errorMessage } from './errors.js';
import fs from 'node:fs';
import path from 'node:path';
import { SEEN_NAME, acknowledgeHolds, readAcknowledgement } from './hold-ack.js';
import { type HoldRules, HoldsBroadcast } from './hold-follow.js';
import { compileGuard } from './guard.js';
import { type Hold, holdsVersion, snapshotHolds } from './holds.js';

/** How often a real run looks at the hold file (one stat). `hold add` waits up to 10 s. */
const POLL_MS = 25;

export interface HoldWatch {
  readonly broadcast: HoldsBroadcast;
  /** Why the run stopped: the hold file became unusable while it ran (the file and what is wrong). */
  readonly failure: string | undefined;
  /** Acknowledges what is applied by now, and stops watching. */
  stop(): void;
}

const rulesOf = (holds: readonly Hold[], excludes: readonly string[]): HoldRules => ({
  holds: holds.map((h) => ({ pattern: h.pattern, until: h.until })),
  excludes,
});

/**
 * The holds of a run. Loads them (throws the hold file's CleanupError, exit 2, when it cannot be
 * read or parsed: nothing is deleted then). A real run (`watch`) then acknowledges that version
 * and looks at the file every POLL_MS: new holds go to every sweeping thread, and their version
 * is acknowledged once all apply them (see hold-follow.ts); a file that became unusable stops
 * the run. `onAckFailure`: the acknowledgement could not be written (`hold add` then warns).
 */
export function watchHolds(options: {
  readonly baseDir: string;
  readonly excludes: readonly string[];
  readonly startMs: number;
  readonly control: Control;
  readonly watch: boolean;
  readonly onAckFailure?: (err: unknown) => void;
}): HoldWatch {
  const { baseDir, excludes, control } = options;
  const first = snapshotHolds(baseDir);
  const broadcast = new HoldsBroadcast(rulesOf(first.holds, excludes), compileGuard, options.startMs, control);
  let failure: string | undefined;
  let current = first.version;
  let pending: { generation: number; version: string } | undefined;
  let ackFailed = false;
  let acknowledged = false;
  const acknowledge = (version: string): void => {
    if (ackFailed) return;
    try {
      acknowledgeHolds(baseDir, version);
      acknowledged = true;
    } catch (err) {
      ackFailed = true;
      options.onAckFailure?.(err);
    }
  };
  const settle = (): void => {
    if (pending && broadcast.applied(pending.generation)) {
      acknowledge(pending.version);
      pending = undefined;
    }
  };
  const tick = (): void => {
    settle();
    if (holdsVersion(baseDir) === current) return;
    let next: ReturnType<typeof snapshotHolds>;
    try {
      next = snapshotHolds(baseDir);
    } catch (err) {
      failure = errorMessage(err);
      requestStop(control, STOP_REASON.holds);
      clearInterval(timer);
      return;
    }
    current = next.version;
    pending = { generation: broadcast.send(rulesOf(next.holds, excludes)), version: next.version };
    settle();
  };
  let timer: NodeJS.Timeout | undefined;
  if (options.watch) {
    // (no hold file: nobody can be waiting for this version)
    if (first.version !== 'none') acknowledge(first.version);
    timer = setInterval(tick, POLL_MS);
    timer.unref();
  }
  return {
    broadcast,
    get failure() {
      return failure;
    },
    stop() {
      clearInterval(timer);
      settle();
      // The run is over (its lock goes next): leave nothing behind.
      if (acknowledged && readAcknowledgement(baseDir)?.pid === process.pid) {
        acknowledged = false;
        try {
          fs.unlinkSync(path.join(baseDir, SEEN_NAME));
        } catch {
          // gone already, or a folder we may no longer write: hold add then waits for the lock
        }
      }
    },
  };
}
