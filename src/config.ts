import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { type CategoryId } from './categories.js';
import { usageError } from './errors.js';

/** Variables read from the environment (and `.env`), with their built-in defaults. */
export const DEFAULTS = {
  INCIDENT_RETENTION_DAYS: 30,
  VIGINT_BASE_DIR: '.',
  LOG_LEVEL: 'info',
  CLEANUP_INTERVAL_HOURS: 24,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The largest accepted retention: keeps the cutoff a valid date (about 2,700 years). */
export const MAX_DAYS = 1_000_000;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment as the program sees it: `<cwd>/.env` under the process environment, which
 * always wins (dotenv's rule: a file never overrides a variable already set). process.env is not
 * modified, so a library host's environment stays its own.
 */
export function loadEnv(cwd: string, processEnv: Env): Env {
  const file = path.join(cwd, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return processEnv;
    throw usageError(`cannot read ${file}: ${code ?? String(err)}`);
  }
  return { ...dotenv.parse(text), ...processEnv };
}

/** A value that is unset or empty counts as unset for paths; see `parsePositive` for numbers. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * Parses a positive decimal such as `30`, `7` or `0.5`. Refuses what `Number()` would quietly
 * accept (`''`, `1e3`, `0x10`, `Infinity`), so a typo can never become a retention.
 */
export function parsePositive(raw: string, what: string, max: number): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0 && value <= max)) {
    throw usageError(
      `invalid ${what} '${raw}': expected a number greater than 0 and at most ${max.toLocaleString('en-US')}, such as 7, 30 or 0.5`,
    );
  }
  return value;
}

export function parseDays(raw: string, what: string): number {
  return parsePositive(raw, what, MAX_DAYS);
}

/** Retention in days: flag, else INCIDENT_RETENTION_DAYS, else 30. */
export function resolveDays(flag: string | undefined, env: Env): number {
  if (flag !== undefined) return parseDays(flag, '--days');
  const fromEnv = env.INCIDENT_RETENTION_DAYS;
  if (fromEnv !== undefined) return parseDays(fromEnv, 'INCIDENT_RETENTION_DAYS');
  return DEFAULTS.INCIDENT_RETENTION_DAYS;
}

export function resolveBaseDir(flag: string | undefined, env: Env, cwd: string): string {
  return path.resolve(cwd, nonEmpty(flag) ?? nonEmpty(env.VIGINT_BASE_DIR) ?? DEFAULTS.VIGINT_BASE_DIR);
}

/** Where the JSON log lines go: an absolute file path, or undefined for standard error. */
export function resolveLogFile(flag: string | undefined, env: Env, cwd: string): string | undefined {
  const file = nonEmpty(flag) ?? nonEmpty(env.VIGINT_LOG_FILE);
  return file === undefined ? undefined : path.resolve(cwd, file);
}

export function resolveLogLevel(env: Env): LogLevel {
  const raw = nonEmpty(env.LOG_LEVEL) ?? DEFAULTS.LOG_LEVEL;
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw usageError(`invalid LOG_LEVEL '${raw}': expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

export function resolveIntervalHours(value: number | undefined, env: Env): number {
  if (value !== undefined) {
    return parsePositive(String(value), 'intervalHours', 24 * 366);
  }
  const fromEnv = env.CLEANUP_INTERVAL_HOURS;
  if (fromEnv !== undefined) return parsePositive(fromEnv, 'CLEANUP_INTERVAL_HOURS', 24 * 366);
  return DEFAULTS.CLEANUP_INTERVAL_HOURS;
}

/** The categories chosen by `--incidents-only` / `--videos-only` (both: a usage error). */
export function resolveCategories(flags: { incidentsOnly?: boolean; videosOnly?: boolean }): CategoryId[] {
  if (flags.incidentsOnly && flags.videosOnly) {
    throw usageError('--incidents-only and --videos-only exclude each other: give at most one (neither cleans both)');
  }
  if (flags.incidentsOnly) return ['incidents'];
  if (flags.videosOnly) return ['videos'];
  return ['incidents', 'videos'];
}

/** The base folder must exist and be a folder; a typo must not look like "nothing to clean". */
export function checkBaseDir(baseDir: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(baseDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw usageError(`base folder ${baseDir} cannot be used (${code}): give --base-dir or VIGINT_BASE_DIR an existing folder`);
  }
  if (!stat.isDirectory()) {
    throw usageError(`base folder ${baseDir} is not a folder: give --base-dir or VIGINT_BASE_DIR an existing folder`);
  }
}
