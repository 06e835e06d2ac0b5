import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_NAME } from '../../src/lock.js';
import { STATE_NAME, recordRunEnd, writeState } from '../../src/state.js';
import { runCli } from '../helpers/cli.js';
import { DAY, HOUR, listTree, makeTree, tempDir } from '../helpers/tree.js';

/** A base folder with recent files only (nothing past the retention). */
function freshTree(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_1.txt': { ageDays: 3 },
    'mock_sparse_ai_cloud/a.mp4': { ageDays: 10, size: 1000 },
  });
  return base;
}

/** What a finished real run leaves in the state file. */
function ran(base: string, agoMs: number, exitStatus = 0): void {
  const start = Date.now() - agoMs;
  writeState(base, start);
  recordRunEnd(base, { startMs: start, endMs: start + 2000, exitStatus });
}

const PLUGIN_LINE = /^VIGINT-CLEANUP (OK|WARNING|CRITICAL) - [^|\n]+ \| last_run_age=(\d+s|U) last_success_age=(\d+s|U);;\d+;0; files_past_retention=(\d+);;0;0; free=(\d+)B;;(\d+:)?;0;\d+\n$/;

async function check(base: string, ...args: string[]): Promise<{ code: number | null; state: string; line: string; pastRetention: number }> {
  const r = await runCli(['check', '--base-dir', base, ...args]);
  const m = PLUGIN_LINE.exec(r.stdout);
  if (!m) throw new Error(`not a plugin line: ${JSON.stringify(r.stdout)} (stderr ${r.stderr})`);
  return { code: r.code, state: m[1] as string, line: r.stdout, pastRetention: Number(m[4]) };
}

describe('vigint-cleanup check (Nagios plugin conventions)', () => {
  it('never ran (no state file): WARNING, exit 1', async () => {
    const r = await check(freshTree());
    expect(r).toMatchObject({ code: 1, state: 'WARNING' });
    expect(r.line).toContain(STATE_NAME);
    expect(r.line).toContain('last_run_age=U');
  });

  it('ran fine 3 hours ago: OK, exit 0, with the ages in the perfdata', async () => {
    const base = freshTree();
    ran(base, 3 * HOUR);
    const r = await check(base);
    expect(r).toMatchObject({ code: 0, state: 'OK', pastRetention: 0 });
    const age = Number(/last_success_age=(\d+)s/.exec(r.line)?.[1]);
    expect(age).toBeGreaterThanOrEqual(3 * 3600);
    expect(age).toBeLessThan(3 * 3600 + 60);
  });

  it('files on hold past the retention are kept on purpose: not counted as a cleanup that does not work', async () => {
    const base = freshTree();
    makeTree(base, {
      'offline_incidents/offline_incident_case7.txt': { ageDays: 90 },
      'mock_sparse_ai_cloud/case7.mp4': { ageDays: 90, size: 4096 },
      'mock_sparse_ai_cloud/other.mp4': { ageDays: 90, size: 1000 },
    });
    ran(base, 3 * HOUR);
    expect(await check(base)).toMatchObject({ code: 2, state: 'CRITICAL', pastRetention: 3 });
    const hold = await runCli(['hold', 'add', '*case7*', '--base-dir', base]);
    expect(hold.code).toBe(0);
    const r = await check(base);
    expect(r).toMatchObject({ code: 2, state: 'CRITICAL', pastRetention: 1 });
    expect(r.line).toContain('1 file(s), 1000 B');
    await runCli(['hold', 'add', 'other.mp4', '--base-dir', base]);
    expect(await check(base)).toMatchObject({ code: 0, state: 'OK', pastRetention: 0 });
  });

  it('the last success is older than --max-age (default 48 h): CRITICAL, exit 2; a larger --max-age or CLEANUP_INTERVAL_HOURS: OK', async () => {
    const base = freshTree();
    ran(base, 50 * HOUR);
    expect(await check(base)).toMatchObject({ code: 2, state: 'CRITICAL' });
    expect(await check(base, '--max-age', '51')).toMatchObject({ code: 0, state: 'OK' });
    const r = await runCli(['check', '--base-dir', base], { env: { CLEANUP_INTERVAL_HOURS: '26' } });
    expect(r.code).toBe(0);
  });

  it('runs after the last success failed: CRITICAL once it is too old, WARNING while it is recent', async () => {
    const base = freshTree();
    ran(base, 60 * HOUR, 0);
    ran(base, 2 * HOUR, 1);
    const critical = await check(base);
    expect(critical).toMatchObject({ code: 2, state: 'CRITICAL' });
    expect(critical.line).toContain('exit status 1');
    const base2 = freshTree();
    ran(base2, 20 * HOUR, 0);
    ran(base2, 2 * HOUR, 1);
    expect(await check(base2)).toMatchObject({ code: 1, state: 'WARNING' });
  });

  it('a state file of the first format (start only): WARNING while recent, CRITICAL once older than --max-age', async () => {
    const base = freshTree();
    fs.writeFileSync(path.join(base, STATE_NAME), JSON.stringify({ lastRunStart: new Date(Date.now() - HOUR).toISOString(), pid: 1 }));
    expect(await check(base)).toMatchObject({ code: 1, state: 'WARNING' });
    expect(await check(base, '--max-age', '0.5')).toMatchObject({ code: 2, state: 'CRITICAL' });
  });

  it('files more than a day past the retention: CRITICAL; past it by less than a day: not; and nothing is deleted, no lock taken', async () => {
    const base = freshTree();
    ran(base, HOUR);
    makeTree(base, { 'offline_incidents/offline_incident_late.txt': { ageMs: 30 * DAY + 12 * HOUR } });
    expect(await check(base, '--days', '30')).toMatchObject({ code: 0, state: 'OK', pastRetention: 0 });
    makeTree(base, { 'mock_sparse_ai_cloud/old.mp4': { ageDays: 32, size: 2048 } });
    const before = listTree(base);
    const r = await check(base, '--days', '30');
    expect(r).toMatchObject({ code: 2, state: 'CRITICAL', pastRetention: 1 });
    expect(r.line).toContain('old.mp4');
    expect(listTree(base)).toEqual(before);
    expect(fs.existsSync(path.join(base, LOCK_NAME))).toBe(false);
    // the retention comes from the configuration too
    const viaEnv = await runCli(['check', '--base-dir', base], { env: { INCIDENT_RETENTION_DAYS: '40' } });
    expect(viaEnv.code).toBe(0);
  });

  it('free space under --min-free: CRITICAL (100% of a file system is never free); a small target: OK', async () => {
    const base = freshTree();
    ran(base, HOUR);
    const low = await check(base, '--min-free', '100%');
    expect(low).toMatchObject({ code: 2, state: 'CRITICAL' });
    expect(low.line).toMatch(/free on \/\S*, under --min-free 100%/);
    expect(await check(base, '--min-free', '1MB')).toMatchObject({ code: 0, state: 'OK' });
    const viaEnv = await runCli(['check', '--base-dir', base], { env: { VIGINT_MIN_FREE: '100%' } });
    expect(viaEnv.code).toBe(2);
  });

  it.each([
    [['--days', '0']],
    [['--max-age', 'two']],
    [['--min-free', '500']],
    [['--bogus']],
    [['extra']],
    [['--base-dir', '/nonexistent/vigint']],
    [['--base-dir', '']],
  ])('bad usage %j: UNKNOWN, exit 3 (not 2)', async (args) => {
    const r = await runCli(['check', ...args], { cwd: freshTree() });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^VIGINT-CLEANUP UNKNOWN - \S.*\n$/);
  });

  it.each([[['--json', 'check']], [['--dry-run', 'check']]])('an option of another command before check %j: UNKNOWN, exit 3', async (args) => {
    const r = await runCli(args, { cwd: freshTree() });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^VIGINT-CLEANUP UNKNOWN - unknown option '--(json|dry-run)'/);
  });

  it('--help: the options, exit 0', async () => {
    const r = await runCli(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--max-age <hours>');
    expect(r.stdout).toContain('--min-free <size>');
  });
});
