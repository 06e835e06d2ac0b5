import os from 'node:os';

/** The signals that stop a run early (cron, systemd and `kill` send SIGTERM; Ctrl-C, SIGINT). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How long a run may take to stop after the first signal before the process ends anyway. */
const STOP_GRACE_MS = 1500;

/** 128 + the signal's number: the exit status of a process a signal stopped (130, 143, 129). */
export function signalExitStatus(name: string): number {
  return 128 + (os.constants.signals[name as NodeJS.Signals] ?? 0);
}

export interface SignalGuard {
  /** Aborted, with the signal's name as the reason, by the first stop signal. */
  readonly signal: AbortSignal;
  /** Removes the handlers and the timer. */
  dispose(): void;
}

/**
 * While a run is under way: the first SIGINT, SIGTERM or SIGHUP aborts `signal` (the run stops
 * starting deletions, writes every line, releases the lock and reports). A second signal, or a
 * run still going STOP_GRACE_MS later (a log destination that never drains), ends the process at
 * once, after `lastWords` (one attempt to write out the log).
 */
export function guardSignals(lastWords: () => void): SignalGuard {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const force = (name: string): void => {
    try {
      lastWords();
    } finally {
      // the one place the program ends itself: a person or a supervisor asked twice
      process.exit(signalExitStatus(name));
    }
  };
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) return force(String(controller.signal.reason));
    controller.abort(name);
    timer = setTimeout(() => force(name), STOP_GRACE_MS);
    timer.unref();
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      for (const name of STOP_SIGNALS) process.off(name, onSignal);
    },
  };
}
