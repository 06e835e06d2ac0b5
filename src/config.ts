import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type CategoryId } from './categories.js';
import { errorMessage, usageError } from './errors.js';
import { parseHoldPattern } from './hold-pattern.js';
import { type SizeTarget, parseSize } from './size.js';
import { readRegularFile } from './read-file.js';

/** Variables read from the environment (and `.env`), with their built-in defaults. */
export const DEFAULTS = {
  INCIDENT_RETENTION_DAYS: 30,
  VIGINT_BASE_DIR: '.',
  LOG_LEVEL: 'info',
  CLEANUP_INTERVAL_HOURS: 24,
  VIGINT_KEEP_NEWEST_DAYS: 1,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The largest accepted retention: keeps the cutoff a valid date (about 2,700 years). */
export const MAX_DAYS = 1_000_000;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment as the program sees it: `<cwd>/.env` under the process environment, which
 * always wins (dotenv's rule: a file never overrides a variable already set). process.env is not
 * modified, so a library host's environment stays its own. A `.env` that exists but cannot be
 * read (permissions, a folder of that name) is passed to `warn` and otherwise ignored: the
 * environment and the flags still hold, and a cleanup must not stop for it. No current folder
 * (`cwd` undefined: it was deleted): no `.env`.
 */
export function loadEnv(cwd: string | undefined, processEnv: Env, warn: (message: string) => void = () => {}): Env {
  if (cwd === undefined) return processEnv;
  const file = path.join(cwd, '.env');
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') warn(`cannot read ${file} (${code ?? String(err)}); going on without it`);
    return processEnv;
  }
  // dotenv only now, that there is a file (synchronously: it is CommonJS): about 19 ms of start-up
  const dotenv = createRequire(import.meta.url)('dotenv') as typeof import('dotenv');
  return { ...dotenv.parse(text), ...processEnv };
}

/**
 * A path from a flag or a variable, made absolute. A relative one needs the current folder:
 * when that was deleted (`cwd` undefined), a usage error that says what to give instead.
 */
export function absolutePath(value: string, cwd: string | undefined, what: string): string {
  if (path.isAbsolute(value)) return path.resolve(value);
  if (cwd === undefined) {
    throw usageError(
      value === DEFAULTS.VIGINT_BASE_DIR && what === 'base folder'
        ? 'the current folder no longer exists, and the base folder defaults to it: give an absolute --base-dir (or VIGINT_BASE_DIR)'
        : `the current folder no longer exists, so ${what} '${value}' (relative to it) cannot be used: give an absolute path`,
    );
  }
  return path.resolve(cwd, value);
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

/** Base folder: flag, else VIGINT_BASE_DIR, else the current folder; absolute. */
export function resolveBaseDir(flag: string | undefined, env: Env, cwd: string | undefined): string {
  const [value, what] =
    nonEmpty(flag) !== undefined
      ? [flag as string, '--base-dir']
      : nonEmpty(env.VIGINT_BASE_DIR) !== undefined
        ? [env.VIGINT_BASE_DIR as string, 'VIGINT_BASE_DIR']
        : [DEFAULTS.VIGINT_BASE_DIR, 'base folder'];
  return absolutePath(value, cwd, what);
}

/** Where the JSON log lines go: an absolute file path, or undefined for standard error. */
export function resolveLogFile(flag: string | undefined, env: Env, cwd: string | undefined): string | undefined {
  if (nonEmpty(flag) !== undefined) return absolutePath(flag as string, cwd, '--log-file');
  const file = nonEmpty(env.VIGINT_LOG_FILE);
  return file === undefined ? undefined : absolutePath(file, cwd, 'VIGINT_LOG_FILE');
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

/** What disk pressure needs (pressure.ts `DiskPressureOptions`). */
export interface DiskPressureConfig {
  readonly target: SizeTarget;
  readonly text: string;
  readonly keepNewestDays: number;
}

/**
 * The free-space target: `--min-free`, else VIGINT_MIN_FREE (empty: off), else off; with it, the
 * youngest files never deleted for space: `--keep-newest`, else VIGINT_KEEP_NEWEST_DAYS, else 1
 * (0 allowed). A `--keep-newest` without a target is refused: it would do nothing.
 */
export function resolveDiskPressure(flags: { minFree?: string | undefined; keepNewest?: string | undefined }, env: Env): DiskPressureConfig | undefined {
  const [raw, what] = flags.minFree !== undefined ? [flags.minFree, '--min-free'] : [nonEmpty(env.VIGINT_MIN_FREE), 'VIGINT_MIN_FREE'];
  const keepRaw = flags.keepNewest ?? nonEmpty(env.VIGINT_KEEP_NEWEST_DAYS);
  const keepWhat = flags.keepNewest !== undefined ? '--keep-newest' : 'VIGINT_KEEP_NEWEST_DAYS';
  const keepNewestDays = keepRaw === undefined ? DEFAULTS.VIGINT_KEEP_NEWEST_DAYS : parseNonNegative(keepRaw, keepWhat);
  if (raw === undefined) {
    if (flags.keepNewest !== undefined) throw usageError('--keep-newest applies to the disk-pressure pass: give --min-free (or VIGINT_MIN_FREE) with it');
    return undefined;
  }
  return { target: parseSize(raw, what), text: raw.trim(), keepNewestDays };
}

function parseNonNegative(raw: string, what: string): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= MAX_DAYS)) {
    throw usageError(`invalid ${what} '${raw}': expected a number of days, 0 or more, such as 1, 7 or 0.5`);
  }
  return value;
}

/**
 * The run's excludes: every `--exclude`, then VIGINT_EXCLUDE's comma-separated globs (both
 * apply). Each is checked as a hold pattern is (hold-pattern.ts): a bad one is a usage error.
 */
export function resolveExcludes(flags: readonly string[] | undefined, env: Env): string[] {
  const fromEnv = (nonEmpty(env.VIGINT_EXCLUDE) ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
  const all = [...(flags ?? []), ...fromEnv];
  for (const glob of all) checkHoldPattern(glob, flags?.includes(glob) ? '--exclude' : 'VIGINT_EXCLUDE');
  return all;
}

/** A glob of --exclude or VIGINT_EXCLUDE, checked as a hold pattern (hold-pattern.ts). */
function checkHoldPattern(glob: string, what: string): void {
  try {
    parseHoldPattern(glob);
  } catch (err) {
    throw usageError(`invalid ${what}: ${errorMessage(err).replace(/^invalid hold pattern /, '')}`);
  }
}
