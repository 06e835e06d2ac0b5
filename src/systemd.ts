import path from 'node:path';
import { usageError } from './errors.js';

export const UNIT = 'vigint-cleanup';
export const SERVICE_FILE = `${UNIT}.service`;
export const TIMER_FILE = `${UNIT}.timer`;
/** First line of both units: a file without it is someone else's, and is never replaced or removed. */
export const UNIT_MARKER = '# Written by `vigint-cleanup systemd install`; `vigint-cleanup systemd remove` removes it.';

export interface SystemdJob {
  readonly hour: number;
  readonly minute: number;
  /** Absolute paths: a service gets no PATH worth relying on, and no shell. */
  readonly node: string;
  readonly program: string;
  readonly baseDir: string;
  readonly days: number;
  readonly logFile?: string | undefined;
  readonly metricsFile?: string | undefined;
  /** Other folders the run deletes in (category folders that are links to another disk). */
  readonly extraWritable?: readonly string[] | undefined;
}

/** A path that a unit file cannot hold: control characters (a newline would end the setting). */
export function checkUnitPath(p: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(p)) {
    throw usageError(`${what} ${JSON.stringify(p)} holds a newline or another control character, which a systemd unit cannot hold: use another folder`);
  }
}

/**
 * One word of a command line (ExecStart=) or of a path list (ReadWritePaths=). Plain words stay
 * as they are; others are double-quoted with `\\` and `\"` escaped. `%` starts a specifier
 * everywhere, so it is doubled; `$` starts a variable only in a command's arguments (`arg`), where
 * it is doubled too (systemd.service(5), "Command lines"; systemd.unit(5), "Specifiers").
 */
export function unitWord(word: string, arg: boolean): string {
  let escaped = word.replace(/%/g, '%%');
  if (arg) escaped = escaped.replace(/\$/g, '$$$$');
  return /^[\w/.+:=,@%$-]+$/.test(word) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A single-path setting (WorkingDirectory=): taken as written, up to the end of the line, with
 * specifiers, but no quotes or escapes. Whitespace at either end would be trimmed and a final
 * backslash would join the next line, so those paths are refused.
 */
export function unitPathValue(p: string, what: string): string {
  checkUnitPath(p, what);
  if (/\s$|\\$/.test(p)) throw usageError(`${what} ${JSON.stringify(p)} ends with a space or a backslash, which a systemd unit cannot hold: use another folder`);
  return p.replace(/%/g, '%%');
}

const isUnder = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);

/** The folders the service may write, each once (a folder inside another listed one is left out). */
export function writableFolders(job: SystemdJob): { required: string[]; optional: string[] } {
  const required = [job.baseDir, ...[job.logFile, job.metricsFile].filter((f): f is string => f !== undefined).map((f) => path.dirname(f))];
  const all: string[] = [];
  for (const p of required) if (!all.some((q) => isUnder(p, q))) all.splice(0, all.length, ...all.filter((q) => !isUnder(q, p)), p);
  const optional = (job.extraWritable ?? []).filter((p) => !all.some((q) => isUnder(p, q)));
  return { required: all, optional };
}

/** /tmp and /var/tmp are what PrivateTmp= replaces: a folder there must stay visible. */
const inTmp = (p: string): boolean => isUnder(p, '/tmp') || isUnder(p, '/var/tmp');

export function serviceUnit(job: SystemdJob): string {
  for (const [p, what] of [
    [job.node, 'node'],
    [job.program, 'the program'],
    [job.logFile, '--log-file'],
    [job.metricsFile, '--metrics-file'],
  ] as const) {
    if (p !== undefined) checkUnitPath(p, what);
  }
  const argv = [job.node, job.program, '--base-dir', job.baseDir, '--days', String(job.days)];
  if (job.logFile !== undefined) argv.push('--log-file', job.logFile);
  if (job.metricsFile !== undefined) argv.push('--metrics-file', job.metricsFile);
  const { required, optional } = writableFolders(job);
  const writable = [...required.map((p) => unitWord(p, false)), ...optional.map((p) => `-${unitWord(p, false)}`)];
  const privateTmp = ![...required, ...optional].some(inTmp);
  return [
    UNIT_MARKER,
    '[Unit]',
    'Description=Delete old Vigint offline incidents and fallback videos (vigint-cleanup)',
    '',
    '[Service]',
    'Type=oneshot',
    `WorkingDirectory=${unitPathValue(job.baseDir, '--base-dir')}`,
    // The program's own path is not searched for variables, only its arguments are.
    `ExecStart=${argv.map((w, i) => unitWord(w, i > 0)).join(' ')}`,
    '# 75: another cleanup of the folder (cron, the built-in one) was running; it will do the work.',
    'SuccessExitStatus=75',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${writable.join(' ')}`,
    ...(privateTmp ? ['PrivateTmp=yes'] : ['# PrivateTmp= is off: the base folder, the log or the metrics are under /tmp or /var/tmp.']),
    '',
  ].join('\n');
}

export function timerUnit(job: Pick<SystemdJob, 'hour' | 'minute'>): string {
  const hhmm = `${String(job.hour).padStart(2, '0')}:${String(job.minute).padStart(2, '0')}`;
  return [
    UNIT_MARKER,
    '[Unit]',
    `Description=Daily vigint-cleanup run at ${hhmm}`,
    '',
    '[Timer]',
    `OnCalendar=*-*-* ${hhmm}:00`,
    '# A run missed while the machine was off happens at the next boot.',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}
