import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CleanupError, EXIT, usageError } from './errors.js';
import { escapeControl, formatDecimal } from './format.js';

/** Ends our one line; everything else in the crontab is the user's and is kept byte for byte. */
export const CRON_MARKER = '# vigint-cleanup';
export const DEFAULT_CRON_TIME = '03:00';
export const DEFAULT_CRON_LOG = '/tmp/vigint_cleanup.log';

export interface CronJob {
  readonly hour: number;
  readonly minute: number;
  /**
   * Absolute paths: cron runs with PATH=/usr/bin:/bin in the home folder. The job changes to the
   * base folder first, so the `.env` it reads is the base folder's, wherever cron starts it.
   */
  readonly node: string;
  readonly program: string;
  readonly baseDir: string;
  readonly days: number;
  readonly logFile: string;
}

/** "03:00", "3:00", "23:59" → hour and minute; anything else is a usage error. */
export function parseCronTime(raw: string): { hour: number; minute: number } {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(raw.trim());
  if (!m) throw usageError(`invalid --time '${raw}': expected HH:MM on a 24-hour clock, such as 03:00 or 23:30`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/**
 * Quotes a word for sh, and escapes `%`, which cron turns into a newline in a command.
 * Plain words (letters, digits, / . _ - + : =) stay as they are, for a readable line.
 */
export function cronWord(word: string): string {
  const quoted = /^[\w/.+:=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '\\%');
}

/**
 * The crontab line, marked as ours:
 * `M H * * * (cd BASE && NODE PROG --base-dir BASE --days N) >> LOG 2>&1 # vigint-cleanup`.
 * The retention is written as --days reads it back (no exponent).
 */
export function cronLine(job: CronJob): string {
  const run = [job.node, job.program, '--base-dir', job.baseDir, '--days', formatDecimal(job.days)].map(cronWord).join(' ');
  return `${job.minute} ${job.hour} * * * (cd ${cronWord(job.baseDir)} && ${run}) >> ${cronWord(job.logFile)} 2>&1 ${CRON_MARKER}`;
}

/** Ours: an active line (not a comment) ending with our marker. A commented-out copy is the user's. */
const isOurs = (line: string): boolean => !line.trimStart().startsWith('#') && line.trimEnd().endsWith(CRON_MARKER);

/**
 * A path the cron line will hold. A line break would end the line in the middle of the command
 * (crontab then refuses the whole file, or worse, runs half of it): refused, exit 2.
 */
export function checkCronPath(value: string, what: string): string {
  if (/[\n\r]/.test(value)) {
    throw usageError(`${what} '${escapeControl(value)}' contains a line break, which a crontab line cannot hold: use a path without one`);
  }
  return value;
}

/**
 * Where the job appends its output, checked as the cleanup checks its log file: not a folder, in
 * an existing folder, writable by this user (who is the one cron runs the job as).
 */
export function checkCronLogFile(logFile: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(logFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw logError(logFile, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
  if (stat?.isDirectory()) throw usageError(`cannot use ${logFile} as the cron log file: it is a folder; give a file path with --log-file`);
  const target = stat === undefined ? path.dirname(logFile) : logFile;
  try {
    if (stat === undefined && !fs.statSync(target).isDirectory()) throw logError(logFile, 'ENOTDIR');
    fs.accessSync(target, fs.constants.W_OK);
  } catch (err) {
    if (err instanceof CleanupError) throw err;
    throw logError(logFile, (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
}

const logError = (logFile: string, code: string): CleanupError =>
  usageError(`cannot use ${logFile} as the cron log file (${code}): give --log-file a writable file in an existing folder`);

/** The crontab with our line (if any) taken out; every other byte unchanged. */
export function withoutOurLine(crontab: string): string {
  return crontab
    .split(/(?<=\n)/)
    .filter((line) => !isOurs(line))
    .join('');
}

/** The crontab with our line replaced (or added at the end). */
export function withOurLine(crontab: string, line: string): string {
  const rest = withoutOurLine(crontab);
  const sep = rest === '' || rest.endsWith('\n') ? '' : '\n';
  return `${rest}${sep}${line}\n`;
}

export function findOurLine(crontab: string): string | undefined {
  return crontab.split('\n').find(isOurs);
}

/** The program as cron must call it: this package's bin, by absolute path. */
export function programPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'vigint-cleanup.js');
}

/** Finds `crontab` on PATH (cron's own package puts it in /usr/bin). */
export function findCrontab(envPath: string | undefined): string {
  for (const dir of (envPath ?? '/usr/bin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'crontab');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new CleanupError(
    'the crontab program was not found on PATH: install the cron package (Debian, Ubuntu: apt-get install cron; Fedora, RHEL: dnf install cronie) and run again; your crontab was not changed',
    EXIT.partial,
    'ENOCRONTAB',
  );
}

/** The current user's crontab through the real program; `crontab -l` exits 1 when there is none. */
export class Crontab {
  constructor(private readonly bin: string) {}

  read(): string {
    const r = spawnSync(this.bin, ['-l'], { encoding: 'utf8' });
    if (r.error) throw this.failed('-l', r.error.message);
    if (r.status === 0) return r.stdout;
    if (/no crontab for/i.test(r.stderr)) return '';
    throw this.failed('-l', r.stderr.trim());
  }

  write(content: string): void {
    const r = content === '' ? spawnSync(this.bin, ['-r'], { encoding: 'utf8' }) : spawnSync(this.bin, ['-'], { input: content, encoding: 'utf8' });
    if (r.error) throw this.failed(content === '' ? '-r' : '-', r.error.message);
    if (r.status !== 0 && !(content === '' && /no crontab for/i.test(r.stderr))) {
      throw this.failed(content === '' ? '-r' : '-', r.stderr.trim());
    }
  }

  private failed(args: string, why: string): CleanupError {
    return new CleanupError(`${this.bin} ${args} failed: ${why}`, EXIT.partial, 'ECRONTAB');
  }
}
