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
