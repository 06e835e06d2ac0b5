import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chownTree, isRoot, runCli, runCliOnTerminal, unprivilegedIds } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

/** 2 old and 1 recent incident, 1 old video pair. */
function tree(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_a.txt': { ageDays: 40 },
    'offline_incidents/offline_incident_b.txt': { ageDays: 35 },
    'offline_incidents/offline_incident_c.txt': { ageDays: 5 },
    'mock_sparse_ai_cloud/old.mp4': { ageDays: 40 },
    'mock_sparse_ai_cloud/old.json': { ageDays: 40 },
  });
  return base;
}

/** A usage error: exit 2, one line on stderr starting with the program's name, no trace, nothing on stdout. */
function expectUsage(r: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^vigint-cleanup: /);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

const noTrace = (stderr: string): void => {
  expect(stderr).not.toMatch(/\n\s+at |Unhandled|uv_cwd/);
};

describe('options before a subcommand', () => {
  it('--base-dir B --days 7 --json status: honoured as if given after it', async () => {
    const base = tree();
    const r = await runCli(['--base-dir', base, '--days', '7', '--json', 'status'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ baseDir: base, retentionDays: 7, totals: { files: 5 } });
  });

  it('mixed before and after: --base-dir B status --days 7', async () => {
    const base = tree();
    const r = await runCli(['--base-dir', base, 'status', '--days', '7', '--json'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ baseDir: base, retentionDays: 7 });
  });

  it.each([
    ['--dry-run status', ['--dry-run', 'status'], /--dry-run does not apply to 'status'/],
    ['--log-file before status', ['--log-file', '/tmp/x.log', 'status'], /--log-file does not apply to 'status'/],
    ['--time before status', ['--time', '03:00', 'status'], /--time does not apply to 'status'/],
  ])('%s: refused with exit 2, naming the option', async (_label, args, message) => {
    const base = tree();
    expectUsage(await runCli(args, { cwd: base }), message);
  });

  it('the same option twice with different values is refused; the same value twice is fine', async () => {
    const base = tree();
    const before = listTree(base);
    expectUsage(await runCli(['--days', '7', '--days', '90'], { cwd: base }), /--days given twice, as '7' and '90': give it once/);
    expectUsage(await runCli(['--base-dir', base, 'status', '--base-dir', '/srv'], { cwd: base }), /--base-dir given twice/);
    expect(listTree(base)).toEqual(before);
    const same = await runCli(['--days', '30', '--dry-run', '--days', '30', '--json'], { cwd: base });
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ retentionDays: 30 });
  });
});

describe('empty values', () => {
  it.each([
    ['--base-dir ""', ['--base-dir', ''], /invalid --base-dir '': expected a folder/],
    ['--log-file ""', ['--log-file', ''], /invalid --log-file '': expected a file path/],
    ['--days ""', ['--days', ''], /invalid --days ''/],
    ['status --base-dir ""', ['status', '--base-dir', ''], /invalid --base-dir ''/],
    ['--base-dir= ""', ['--base-dir='], /invalid --base-dir ''/],
  ])('%s: a usage error, nothing deleted', async (_label, args, message) => {
    const base = tree();
    const before = listTree(base);
    expectUsage(await runCli(args, { cwd: base }), message);
    expect(listTree(base)).toEqual(before);
  });

  it('an empty VIGINT_BASE_DIR or VIGINT_LOG_FILE counts as unset (README, Configuration)', async () => {
    const base = tree();
    const r = await runCli(['--dry-run', '--json'], { cwd: base, env: { VIGINT_BASE_DIR: '', VIGINT_LOG_FILE: '', LOG_LEVEL: 'silent' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ baseDir: base });
  });
});

describe('run from a folder that was deleted', () => {
  it('--help works', async () => {
    const r = await runCli(['--help'], { deletedCwd: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: vigint-cleanup');
    expect(r.stderr).toBe('');
  });

  it('an absolute --base-dir works: a real run deletes, status reports', async () => {
    const base = tree();
    const run = await runCli(['--base-dir', base, '--json', '--log-file', path.join(base, 'c.log')], { deletedCwd: true });
    noTrace(run.stderr);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ totals: { deleted: 4 } });
    expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual(['offline_incident_c.txt']);
    const status = await runCli(['status', '--base-dir', base], { deletedCwd: true });
    noTrace(status.stderr);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Base folder: ${base}`);
  });

  it.each([
    ['no --base-dir (the default is the current folder)', ['--dry-run'], /the current folder no longer exists, and the base folder defaults to it: give an absolute --base-dir/],
    ['a relative --base-dir', ['status', '--base-dir', 'data'], /the current folder no longer exists, so --base-dir 'data' \(relative to it\) cannot be used/],
    ['a relative --log-file', ['--base-dir', '/tmp', '--log-file', 'c.log'], /--log-file 'c.log' \(relative to it\)/],
  ])('%s: a clear usage error', async (_label, args, message) => {
    const r = await runCli(args, { deletedCwd: true });
    noTrace(r.stderr);
    expectUsage(r, message);
  });
});

describe('standard output closed or full', () => {
  it('closed by its reader (| true): no trace, no message, the run itself done, its exit status', async () => {
    const base = tree();
    const r = await runCli(['--json', '--log-file', path.join(base, 'c.log')], { cwd: base, stdout: 'closed' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual(['offline_incident_c.txt']);
    for (const args of [['status'], ['--help'], ['--dry-run', '--log-file', '/dev/null']]) {
      const again = await runCli(args, { cwd: base, stdout: 'closed' });
      expect({ args, code: again.code, stderr: again.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
    // a usage error keeps its own status
    expect(await runCli(['--days', 'x'], { cwd: base, stdout: 'closed' })).toMatchObject({ code: 2 });
  });

  it('full (> /dev/full): one line on stderr, exit 1; the run itself done', async () => {
    const base = tree();
    const r = await runCli(['--json', '--log-file', path.join(base, 'c.log')], { cwd: base, stdout: 'full' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vigint-cleanup: cannot write to standard output: ENOSPC: no space left on device, write\n$/);
    expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual(['offline_incident_c.txt']);
    for (const args of [['status'], ['--help']]) {
      const again = await runCli(args, { cwd: base, stdout: 'full' });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^vigint-cleanup: cannot write to standard output: ENOSPC[^\n]*\n$/);
    }
  });
});

describe('retentions as --days accepts them', () => {
  it('--days 0.0000001: the reports say 0.0000001 days, never an exponent', async () => {
    const base = tree();
    const run = await runCli(['--days', '0.0000001', '--dry-run'], { cwd: base, env: { LOG_LEVEL: 'silent' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('DRY RUN: AUTOMATIC CLEANUP - Retention: 0.0000001 days\n');
    const status = await runCli(['status', '--days', '0.00000000001'], { cwd: base });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('STORAGE STATUS - Retention: 0.00000000001 days\n');
    expect(status.stdout).not.toMatch(/\de-\d/);
  });
});

describe('control characters in names, and colour', () => {
  const evil = 'offline_incident_\u001b[2J\u0007x.txt';

  it('status escapes them: a name holding ESC[2J does not clear the terminal', async () => {
    const base = tempDir();
    makeTree(base, { [`offline_incidents/${evil}`]: { ageDays: 40 } });
    const r = await runCli(['status', '--incidents-only'], { cwd: base });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('offline_incident_\\x1b[2J\\x07x.txt');
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it.skipIf(!isRoot)('the cleanup\'s "first: <path>" line on stderr escapes them', async () => {
    const base = tempDir();
    makeTree(base, { [`offline_incidents/${evil}`]: { ageDays: 40 } });
    // the user owns the base folder (for the lock) but may not delete inside offline_incidents/
    fs.chownSync(base, unprivilegedIds().uid, unprivilegedIds().gid);
    const r = await runCli(['--incidents-only', '--log-file', '/dev/null'], { cwd: base, asUser: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`first: ${base}/offline_incidents/offline_incident_\\x1b[2J\\x07x.txt: EACCES`);
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  const colours = /\u001b\[3\dm/;
  it.each([
    ['a terminal', {}, true],
    ['NO_COLOR=1', { NO_COLOR: '1' }, false],
    ['NO_COLOR set but empty', { NO_COLOR: '' }, true],
    ['TERM=dumb', { TERM: 'dumb' }, false],
  ])('status colours on %s: %s', async (_label, env, coloured) => {
    const base = tree();
    const r = await runCliOnTerminal(['status'], { cwd: base, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('STORAGE STATUS');
    expect(colours.test(r.stdout)).toBe(coloured);
  });

  it('no colour through a pipe', async () => {
    const r = await runCli(['status'], { cwd: tree() });
    expect(r.stdout).not.toContain('\u001b');
  });
});

describe('an unreadable .env', () => {
  it('a .env that is a folder: one warning line, the run goes on', async () => {
    const base = tree();
    fs.mkdirSync(path.join(base, '.env'));
    const r = await runCli(['--dry-run', '--json'], { cwd: base, env: { LOG_LEVEL: 'silent' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`vigint-cleanup: warning: cannot read ${base}/.env (EISDIR); going on without it\n`);
    expect(JSON.parse(r.stdout)).toMatchObject({ totals: { toDelete: 4 } });
  });

  it.skipIf(!isRoot)('a .env the user may not read: one warning line, the run goes on', async () => {
    const base = tree();
    fs.writeFileSync(path.join(base, '.env'), 'INCIDENT_RETENTION_DAYS=1\n', { mode: 0o600 });
    chownTree(path.join(base, 'offline_incidents'), unprivilegedIds());
    const r = await runCli(['status', '--json'], { cwd: base, asUser: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`vigint-cleanup: warning: cannot read ${base}/.env (EACCES); going on without it\n`);
    expect(JSON.parse(r.stdout)).toMatchObject({ retentionDays: 30 });
  });
});

describe('log lines for a person at a terminal', () => {
  it('are readable (time, level, message, path) on a terminal, JSON in a pipe and in a file', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_old.txt': { ageDays: 40 } });
    const file = path.join(base, 'offline_incidents', 'offline_incident_old.txt');
    const tty = await runCliOnTerminal(['--dry-run'], { cwd: base });
    expect(tty.code).toBe(0);
    // script(1) merges the terminal's output on its stdout
    expect(tty.stdout).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d INFO  cleanup: would delete \\(dry run\\) ${file} size=\\d+ mtime=\\S+ dryRun=true\\r?\\n`));
    expect(tty.stdout).not.toContain('"msg":');
    const piped = await runCli(['--dry-run'], { cwd: base });
    const line = piped.stderr.split('\n').find((l) => l.includes('would delete'));
    expect(JSON.parse(line as string)).toMatchObject({ msg: 'cleanup: would delete (dry run)', path: file, level: 30 });
    const dumb = await runCliOnTerminal(['--dry-run'], { cwd: base, env: { TERM: 'dumb' } });
    expect(dumb.stdout).toContain('"msg":"cleanup: would delete (dry run)"');
  });
});

describe('FIFOs planted at the names the program reads', () => {
  it('never hang a run: .env warns, the hold file is exit 2, a state file is replaced, a log FIFO with no reader is exit 2', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_old.txt': { ageDays: 40 } });
    const fifo = (name: string): string => {
      const p = path.join(base, name);
      execFileSync('mkfifo', [p]);
      return p;
    };
    fifo('.env');
    fifo('.vigint-cleanup-state.json');
    const log = path.join(base, 'c.log');
    const holds = fifo('.vigint-holds.json');
    let r = await runCli(['--log-file', log], { cwd: base });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the hold file ${holds} cannot be read (EINVAL)`);
    expect(r.stderr).toContain(`cannot read ${path.join(base, '.env')} (EINVAL)`);
    fs.rmSync(holds);
    r = await runCli(['--log-file', fifo('fifo.log')], { cwd: base });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(ENXIO)');
    r = await runCli(['--log-file', log], { cwd: base });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(base, 'offline_incidents/offline_incident_old.txt'))).toBe(false);
    expect(fs.lstatSync(path.join(base, '.vigint-cleanup-state.json')).isFile()).toBe(true);
    r = await runCli(['check'], { cwd: base });
    expect(r.code).toBe(0);
  });
});

describe('control characters in what stderr messages quote', () => {
  it('a lock naming a host with ESC[2J: the message escapes it', async () => {
    const base = tempDir();
    fs.symlinkSync(`vcl1:1:abcdefgh:${Date.now()}:00000000:\u001b[2Jevil`, path.join(base, '.vigint-cleanup.lock'));
    const r = await runCli(['--base-dir', base]);
    expect(r.code).toBe(75);
    expect(r.stderr).toContain('\\x1b[2Jevil');
    expect(r.stderr).not.toContain('\u001b');
  });
});
