import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CleanupError, EXIT, usageError } from './errors.js';

/** Ends our one line; everything else in the crontab is the user's and is kept byte for byte. */
export const CRON_MARKER = '# vigint-cleanup';
export const DEFAULT_CRON_TIME = '03:00';
export const DEFAULT_CRON_LOG = '/tmp/vigint_cleanup.log';

export interface CronJob {
  readonly hour: number;
  readonly minute: number;
  /** Absolute paths: cron runs with PATH=/usr/bin:/bin, cwd = home, and no .env. */
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

/** The crontab line, marked as ours. */
export function cronLine(job: CronJob): string {
  const command = [job.node, job.program, '--base-dir', job.baseDir, '--days', String(job.days)].map(cronWord).join(' ');
  return `${job.minute} ${job.hour} * * * ${command} >> ${cronWord(job.logFile)} 2>&1 ${CRON_MARKER}`;
}

const isOurs = (line: string): boolean => line.trimEnd().endsWith(CRON_MARKER);

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
