import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadEnv,
  parseDays,
  resolveBaseDir,
  resolveCategories,
  resolveDays,
  resolveLogFile,
  resolveLogLevel,
} from '../../src/config.js';
import { CleanupError } from '../../src/errors.js';
import { formatDays, formatDecimal } from '../../src/format.js';
import { tempDir } from '../helpers/tree.js';

function usage(fn: () => unknown): CleanupError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CleanupError);
    expect((err as CleanupError).exitStatus).toBe(2);
    return err as CleanupError;
  }
  throw new Error('expected a usage error');
}

describe('parseDays', () => {
  it.each([
    ['30', 30],
    ['7', 7],
    ['0.5', 0.5],
    ['365', 365],
    ['.25', 0.25],
    [' 14 ', 14],
    ['1000000', 1_000_000],
  ])('accepts %j', (raw, value) => {
    expect(parseDays(raw, '--days')).toBe(value);
  });

  it.each(['abc', '-1', '0', '0.0', '', ' ', '30x', '1e999', 'NaN', 'Infinity', '1e3', '0x10', '1,5', '1000001'])(
    'refuses %j, saying what is accepted',
    (raw) => {
      const err = usage(() => parseDays(raw, '--days'));
      expect(err.message).toContain(`invalid --days '${raw}'`);
      expect(err.message).toContain('expected a number greater than 0');
      expect(err.message.split('\n')).toHaveLength(1);
    },
  );
});

describe('precedence: flag > environment > .env > default', () => {
  it('days', () => {
    expect(resolveDays(undefined, {})).toBe(30);
    expect(resolveDays(undefined, { INCIDENT_RETENTION_DAYS: '7' })).toBe(7);
    expect(resolveDays('3', { INCIDENT_RETENTION_DAYS: '7' })).toBe(3);
    expect(usage(() => resolveDays(undefined, { INCIDENT_RETENTION_DAYS: 'soon' })).message).toContain(
      "invalid INCIDENT_RETENTION_DAYS 'soon'",
    );
    // a good flag still wins over a bad environment value: the flag is what the user asked for
    expect(resolveDays('3', { INCIDENT_RETENTION_DAYS: 'soon' })).toBe(3);
  });

  it('.env fills in only what the environment lacks, and process.env is untouched', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '.env'), 'INCIDENT_RETENTION_DAYS=9\nVIGINT_BASE_DIR=data\nLOG_LEVEL=debug\n');
    const env = loadEnv(dir, { LOG_LEVEL: 'warn' });
    expect(env.INCIDENT_RETENTION_DAYS).toBe('9');
    expect(env.LOG_LEVEL).toBe('warn');
    expect(resolveBaseDir(undefined, env, dir)).toBe(path.join(dir, 'data'));
    expect(resolveBaseDir('/srv/x', env, dir)).toBe('/srv/x');
    expect(process.env.VIGINT_BASE_DIR).toBeUndefined();
  });

  it('no .env file is fine', () => {
    expect(loadEnv(tempDir(), { A: '1' })).toEqual({ A: '1' });
  });

  it('a .env that cannot be read is a warning, not an error: the environment still holds', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, '.env'));
    const warnings: string[] = [];
    expect(loadEnv(dir, { A: '1' }, (w) => warnings.push(w))).toEqual({ A: '1' });
    expect(warnings).toEqual([`cannot read ${dir}/.env (EISDIR); going on without it`]);
  });

  it('no current folder (deleted): no .env, and only absolute paths', () => {
    expect(loadEnv(undefined, { A: '1' })).toEqual({ A: '1' });
    expect(resolveBaseDir('/srv/x/', {}, undefined)).toBe('/srv/x');
    expect(resolveBaseDir(undefined, { VIGINT_BASE_DIR: '/srv/y' }, undefined)).toBe('/srv/y');
    expect(usage(() => resolveBaseDir(undefined, {}, undefined)).message).toContain('the base folder defaults to it: give an absolute --base-dir');
    expect(usage(() => resolveBaseDir('data', {}, undefined)).message).toContain("--base-dir 'data' (relative to it)");
    expect(usage(() => resolveLogFile(undefined, { VIGINT_LOG_FILE: 'c.log' }, undefined)).message).toContain("VIGINT_LOG_FILE 'c.log'");
  });

  it('log file and level', () => {
    expect(resolveLogFile(undefined, {}, '/w')).toBeUndefined();
    expect(resolveLogFile(undefined, { VIGINT_LOG_FILE: '' }, '/w')).toBeUndefined();
    expect(resolveLogFile(undefined, { VIGINT_LOG_FILE: 'a.log' }, '/w')).toBe('/w/a.log');
    expect(resolveLogFile('/b.log', { VIGINT_LOG_FILE: 'a.log' }, '/w')).toBe('/b.log');
    expect(resolveLogLevel({})).toBe('info');
    expect(resolveLogLevel({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(usage(() => resolveLogLevel({ LOG_LEVEL: 'loud' })).message).toContain('expected one of fatal, error');
  });
});

describe('resolveCategories', () => {
  it('both by default, one with an -only flag, never both flags', () => {
    expect(resolveCategories({})).toEqual(['incidents', 'videos']);
    expect(resolveCategories({ incidentsOnly: true })).toEqual(['incidents']);
    expect(resolveCategories({ videosOnly: true })).toEqual(['videos']);
    expect(usage(() => resolveCategories({ incidentsOnly: true, videosOnly: true })).message).toContain('exclude each other');
  });
});

describe('retentions as printed: formatDecimal', () => {
  it.each([
    [30, '30'],
    [0.5, '0.5'],
    [1e-7, '0.0000001'],
    [1e-11, '0.00000000001'],
    [1.5e-9, '0.0000000015'],
    [1_000_000, '1000000'],
    [1e21, '1000000000000000000000'],
  ])('%d → %s', (value, text) => {
    expect(formatDecimal(value)).toBe(text);
  });

  it('what it prints, --days reads back as the same number, never with an exponent', () => {
    for (const days of [1e-7, 1e-11, 5e-324, 0.1 + 0.2, 123.456, 2.5e-8, 999_999.999999]) {
      const text = formatDecimal(days);
      expect(text).not.toMatch(/e/i);
      expect(parseDays(text, '--days')).toBe(days);
    }
    expect(formatDays(1e-7)).toBe('0.0000001 days');
    expect(formatDays(1)).toBe('1 day');
  });
});
