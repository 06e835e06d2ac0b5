import type { FileSystemSpace } from './mounts.js';
import { type SizeTarget, formatBytes, targetBytes } from './size.js';
import type { StateRead } from './state.js';

/** Nagios plugin exit statuses. */
export const CHECK = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
export type CheckStatus = (typeof CHECK)[keyof typeof CHECK];
const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
/** Worst wins: a CRITICAL found is not hidden by something the check could not see (UNKNOWN). */
const RANK: Readonly<Record<CheckStatus, number>> = { 0: 0, 1: 1, 3: 2, 2: 3 };

/** Everything the check decides on; gathered by check-command.ts, so that this stays pure. */
export interface CheckInput {
  readonly nowMs: number;
  readonly statePath: string;
  readonly state: StateRead;
  readonly maxAgeHours: number;
  readonly retentionDays: number;
  /** Files whose modification time is more than a day past the retention. */
  readonly pastRetention: { files: number; bytes: number; oldest?: { path: string; mtimeMs: number } | undefined };
  /** Files or folders that could not be read, and the first of them. */
  readonly unreadable: { count: number; first?: string | undefined };
  readonly filesystems: readonly Pick<FileSystemSpace, 'mount' | 'sizeBytes' | 'freeBytes'>[];
  readonly minFree?: { readonly raw: string; readonly target: SizeTarget } | undefined;
}

export interface CheckOutcome {
  readonly status: CheckStatus;
  /** The plugin's one line: `VIGINT-CLEANUP <STATE> - <text> | <perfdata>`. */
  readonly line: string;
}

const HOUR = 3_600_000;
const hours = (ms: number): string => {
  const h = ms / HOUR;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (h < 1) return `${Math.round(ms / 60_000)} min`;
  return h < 48 ? `${h.toFixed(h < 10 ? 1 : 0)}h` : `${(h / 24).toFixed(1)} days`;
};

/** A state file this far ahead of the clock is suspect (a little: clocks of two hosts). */
const FUTURE_SLACK_MS = 5 * 60_000;

/** The one line of an UNKNOWN outcome (bad usage, or the check itself failed). */
export function unknownLine(message: string): string {
  return `VIGINT-CLEANUP UNKNOWN - ${message.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '/')}`;
}

/** Decides OK, WARNING or CRITICAL, and says why, worst first. */
export function evaluateCheck(input: CheckInput): CheckOutcome {
  const problems: { status: CheckStatus; text: string }[] = [];
  const problem = (status: CheckStatus, text: string): void => {
    problems.push({ status, text });
  };
  const maxAgeMs = input.maxAgeHours * HOUR;
  const age = (ms: number): number => Math.max(0, input.nowMs - ms);
  const { state } = input;
  let lastRunAge: number | undefined;
  let lastSuccessAge: number | undefined;

  if (state.kind === 'none') {
    problem(CHECK.warning, `no real cleanup recorded yet (no ${input.statePath}): has it ever run?`);
  } else if (state.kind === 'invalid' && state.reason.startsWith('unreadable')) {
    // Not a fact about the cleanup: the check cannot see (run it as a user who can read the folder).
    problem(CHECK.unknown, `cannot read the state file ${input.statePath}: ${state.reason}`);
  } else if (state.kind === 'invalid') {
    problem(CHECK.warning, `the state file ${input.statePath} is not valid (${state.reason})`);
  } else {
    // A record dated in the future (a clock that ran ahead) would read as "just now" until that
    // date, hiding every missed run: say so.
    const ahead = Math.max(state.lastRunStartMs, state.lastSuccessStartMs ?? 0) - input.nowMs;
    if (ahead > FUTURE_SLACK_MS) {
      problem(CHECK.warning, `the state file ${input.statePath} records a run ${hours(ahead)} in the future: check the clock; the last run's age cannot be trusted`);
    }
    lastRunAge = age(state.lastRunStartMs);
    if (state.lastSuccessStartMs !== undefined) lastSuccessAge = age(state.lastSuccessStartMs);
    const max = hours(maxAgeMs);
    if (lastSuccessAge !== undefined && lastSuccessAge <= maxAgeMs) {
      // fine
    } else if (lastSuccessAge !== undefined) {
      problem(CHECK.critical, `no successful cleanup for ${hours(lastSuccessAge)} (max ${max})`);
    } else if (state.lastFinished === undefined && lastRunAge <= maxAgeMs) {
      // A run under way, or a record by a version that did not write ends: not yet a failure.
      problem(CHECK.warning, `the last run started ${hours(lastRunAge)} ago and its end is not recorded`);
    } else {
      problem(CHECK.critical, `no successful cleanup recorded (last run started ${hours(lastRunAge)} ago; max ${max})`);
    }
    const last = state.lastFinished;
    if (last !== undefined && last.exitStatus !== 0) {
      const why = last.exitStatus > 128 ? 'it was interrupted' : 'some files could not be read or deleted; see its log';
      problem(CHECK.warning, `the last run (${hours(age(last.startMs))} ago) ended with exit status ${last.exitStatus}: ${why}`);
    }
  }

  const past = input.pastRetention;
  if (past.files > 0) {
    const oldest = past.oldest ? ` (oldest ${(age(past.oldest.mtimeMs) / (24 * HOUR)).toFixed(0)} days: ${past.oldest.path})` : '';
    problem(
      CHECK.critical,
      `${past.files} file(s), ${formatBytes(past.bytes)}, more than a day past the ${input.retentionDays}-day retention${oldest}: the cleanup is not working`,
    );
  }
  if (input.unreadable.count > 0) {
    problem(CHECK.warning, `${input.unreadable.count} file(s) or folder(s) could not be read${input.unreadable.first ? ` (first: ${input.unreadable.first})` : ''}`);
  }

  let tightest: { free: number; target: number | undefined; size: number } | undefined;
  for (const f of input.filesystems) {
    const target = input.minFree && targetBytes(input.minFree.target, f.sizeBytes);
    if (target !== undefined && f.freeBytes < target) {
      problem(CHECK.critical, `${formatBytes(f.freeBytes)} free on ${f.mount}, under --min-free ${input.minFree?.raw} (${formatBytes(target)})`);
    }
    if (tightest === undefined || f.freeBytes - (target ?? 0) < tightest.free - (tightest.target ?? 0)) tightest = { free: f.freeBytes, target, size: f.sizeBytes };
  }

  const status = problems.reduce<CheckStatus>((worst, p) => (RANK[p.status] > RANK[worst] ? p.status : worst), CHECK.ok);
  let text: string;
  if (problems.length > 0) {
    text = problems
      .sort((a, b) => RANK[b.status] - RANK[a.status])
      .map((p) => p.text)
      .join('; ');
  } else {
    const free = input.filesystems.map((f) => `${formatBytes(f.freeBytes)} free on ${f.mount}`).join(', ');
    text = `last successful cleanup ${hours(lastSuccessAge ?? 0)} ago, no file more than a day past the ${input.retentionDays}-day retention${free ? `, ${free}` : ''}`;
  }
  const seconds = (ms: number | undefined): string => (ms === undefined ? 'U' : `${Math.round(ms / 1000)}s`);
  const perf = [
    `last_run_age=${seconds(lastRunAge)}`,
    `last_success_age=${seconds(lastSuccessAge)};;${Math.round(maxAgeMs / 1000)};0;`,
    `files_past_retention=${past.files};;0;0;`,
    tightest === undefined ? 'free=U' : `free=${tightest.free}B;;${tightest.target === undefined ? '' : `${tightest.target}:`};0;${tightest.size}`,
  ];
  return { status, line: `VIGINT-CLEANUP ${NAMES[status]} - ${text.replace(/\|/g, '/')} | ${perf.join(' ')}` };
}
