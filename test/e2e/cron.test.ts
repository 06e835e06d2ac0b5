import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_MARKER } from '../../src/cron.js';
import { isRoot, programForOthers, runCli } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

/**
 * The cron commands edit the crontab of whoever runs them, so these tests run them as a
 * throwaway user created here (root only): never the crontab of the person running the tests.
 */
const user = `vct${crypto.randomBytes(3).toString('hex')}`;
const home = `/home/${user}`;

function whyCannotRun(): string | undefined {
  if (!isRoot) return 'needs root to create a throwaway user (never touches your own crontab)';
  try {
    execFileSync('sh', ['-c', 'command -v crontab'], { stdio: 'ignore' });
  } catch {
    return 'no crontab program: .ci/run installs the Debian package cron';
  }
  return undefined;
}
const skipReason = whyCannotRun();
if (skipReason) console.warn(`cron tests skipped: ${skipReason}`);

const asUser = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { asUser: user, cwd: home, env: { HOME: home, LOGNAME: user, USER: user, ...env } });

function crontab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('crontab', ['-u', user, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const setCrontab = (content: string): void => void execFileSync('crontab', ['-u', user, '-'], { input: content });

/** Runs a crontab line's command as cron does: its own bare environment, sh -c, in the home folder, as the user. */
function runAsCron(line: string): { status: number | null; stdout: string; stderr: string } {
  const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
  const env = ['/usr/bin/env', '-i', `HOME=${home}`, `LOGNAME=${user}`, 'PATH=/usr/bin:/bin', 'SHELL=/bin/sh'];
  const r = spawnSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', ...env, '/bin/sh', '-c', command], { cwd: home, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Our one active line in the user's crontab. */
function ourLine(): string {
  const ours = crontab('-l').stdout.split('\n').filter((l) => l.endsWith(CRON_MARKER) && !l.startsWith('#'));
  expect(ours).toHaveLength(1);
  return ours[0] as string;
}

/** A base folder the user owns, with one old and one recent incident. */
function userBase(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_old.txt': { ageDays: 10 },
    'offline_incidents/offline_incident_new.txt': { ageDays: 2 },
  });
  execFileSync('chown', ['-R', `${user}:${user}`, base]);
  return base;
}

describe.skipIf(skipReason !== undefined)('vigint-cleanup cron (real crontab, throwaway user)', () => {
  beforeAll(() => {
    execFileSync('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', user]);
    // The user must be able to run the program from this checkout.
    // (a checkout under a private folder: the user runs a readable copy of the built program)
    const check = spawnSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', process.execPath, programForOthers(), '--version']);
    if (check.status !== 0) throw new Error(`${user} cannot run ${programForOthers()}: ${check.stderr}`);
  });
  afterAll(() => {
    spawnSync('crontab', ['-u', user, '-r']);
    spawnSync('userdel', ['--remove', user]);
  });

  const theirs = '# backups\nMAILTO=""\nSHELL=/bin/sh\n30 2 * * * /usr/bin/true   # nightly, spacing kept\n\n';

  it('install puts one line, runnable as cron runs it; reinstall replaces it; remove restores the crontab', async () => {
    setCrontab(theirs);
    const base = tempDir();
    makeTree(base, {
      'offline_incidents/offline_incident_old.txt': { ageDays: 10 },
      'offline_incidents/offline_incident_new.txt': { ageDays: 2 },
      'mock_sparse_ai_cloud/old.mp4': { ageDays: 40 },
      'mock_sparse_ai_cloud/old.json': { ageDays: 40 },
    });
    execFileSync('chown', ['-R', `${user}:${user}`, base]);
    const logFile = path.join(home, 'cleanup.log');

    const first = await asUser(['cron', 'install', '--base-dir', base, '--time', '04:15', '--days', '7', '--log-file', logFile]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Installed in the crontab of ${user}`);
    const second = await asUser(['cron', 'install', '--base-dir', base, '--days', '7', '--log-file', logFile]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Replaced in');

    const installed = crontab('-l').stdout;
    const ours = installed.split('\n').filter((l) => l.endsWith(CRON_MARKER));
    expect(ours).toHaveLength(1);
    const line = ours[0] as string;
    expect(installed).toBe(`${theirs}${line}\n`);
    expect(line).toBe(`0 3 * * * (cd ${base} && ${process.execPath} ${programForOthers()} --base-dir ${base} --days 7) >> ${logFile} 2>&1 ${CRON_MARKER}`);

    const show = await asUser(['cron', 'show']);
    expect(show).toMatchObject({ code: 0, stdout: `${line}\n` });

    // The job reads the base folder's .env, not the one in the home folder cron starts in.
    fs.writeFileSync(path.join(home, '.env'), `VIGINT_LOG_FILE=${home}/wrong.log\n`);
    fs.writeFileSync(path.join(base, '.env'), 'VIGINT_LOG_FILE=job.log\n');
    const ran = runAsCron(line);
    expect(ran.status).toBe(0);
    expect(listTree(base)).toEqual(['.env', '.vigint-cleanup-state.json', 'job.log', 'mock_sparse_ai_cloud/', 'offline_incidents/', 'offline_incidents/offline_incident_new.txt']);
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toContain('AUTOMATIC CLEANUP - Retention: 7 days');
    expect(log).toContain('Files deleted: 3');
    expect(fs.readFileSync(path.join(base, 'job.log'), 'utf8')).toContain('"msg":"Cleanup complete: 3 files deleted, 0.00 MB freed"');
    expect(fs.existsSync(path.join(home, 'wrong.log'))).toBe(false);
    fs.rmSync(path.join(home, '.env'));

    const removed = await asUser(['cron', 'remove']);
    expect(removed.code).toBe(0);
    expect(crontab('-l').stdout).toBe(theirs);
    expect((await asUser(['cron', 'remove'])).stdout).toContain('nothing changed');
    expect((await asUser(['cron', 'show'])).stderr).toContain(`no vigint-cleanup line in the crontab of ${user}`);
  });

  it('a user without a crontab: install, then remove, leaves no crontab', async () => {
    crontab('-r');
    expect((await asUser(['cron', 'install'])).code).toBe(0);
    expect(crontab('-l').stdout).toMatch(new RegExp(`^0 3 \\* \\* \\* \\(cd ${home} && .* --base-dir ${home} --days 30\\) >> /tmp/vigint_cleanup.log 2>&1 # vigint-cleanup\\n$`));
    expect((await asUser(['cron', 'remove'])).code).toBe(0);
    expect(crontab('-l').status).toBe(1);
  });

  it('the configured retention is the default: INCIDENT_RETENTION_DAYS from the environment', async () => {
    crontab('-r');
    expect((await asUser(['cron', 'install'], { INCIDENT_RETENTION_DAYS: '90' })).code).toBe(0);
    expect(crontab('-l').stdout).toContain(' --days 90) >> ');
    crontab('-r');
  });

  it.each([
    ['--time 25:00', ['cron', 'install', '--time', '25:00'], /invalid --time '25:00'/, 2],
    ['--time 3', ['cron', 'install', '--time', '3'], /invalid --time '3'/, 2],
    ['--days 0', ['cron', 'install', '--days', '0'], /invalid --days '0'/, 2],
    ['an unknown action', ['cron', 'frobnicate'], /unknown cron action/, 2],
    ['no action', ['cron'], /cron needs an action/, 2],
    ['a base folder that does not exist', ['cron', 'install', '--base-dir', '/nonexistent/x'], /base folder \/nonexistent\/x cannot be used/, 2],
    ['an empty --log-file', ['cron', 'install', '--log-file', ''], /invalid --log-file ''/, 2],
    ['an empty --base-dir', ['cron', 'install', '--base-dir', ''], /invalid --base-dir ''/, 2],
    ['an empty --days', ['cron', 'install', '--days', ''], /invalid --days ''/, 2],
    ['an empty --time', ['cron', 'install', '--time', ''], /invalid --time ''/, 2],
    ['a log file that is a folder', ['cron', 'install', '--log-file', '/tmp'], /cannot use \/tmp as the cron log file: it is a folder/, 2],
    ['a log file in a folder that does not exist', ['cron', 'install', '--log-file', '/nonexistent/c.log'], /cannot use \/nonexistent\/c.log as the cron log file \(ENOENT\)/, 2],
    ['a log file the user cannot write', ['cron', 'install', '--log-file', '/etc/vigint.log'], /cannot use \/etc\/vigint.log as the cron log file \(EACCES\)/, 2],
    ['a base folder with a line break', ['cron', 'install', '--base-dir', '/tmp/a\nb'], /the base folder '\/tmp\/a\\x0ab' contains a line break/, 2],
    ['--dry-run before cron remove', ['--dry-run', 'cron', 'remove'], /--dry-run does not apply to 'cron remove': it takes no options/, 2],
    ['--json before cron install', ['--json', 'cron', 'install'], /--json does not apply to 'cron install'/, 2],
    ['--days given twice', ['--days', '7', 'cron', 'install', '--days', '8'], /--days given twice, as '7' and '8'/, 2],
  ])('%s: refused, the crontab untouched', async (_label, args, message, code) => {
    setCrontab(theirs);
    const r = await asUser(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(crontab('-l').stdout).toBe(theirs);
  });

  it('a base folder whose name holds a line break: refused before crontab sees it', async () => {
    setCrontab(theirs);
    const base = path.join(tempDir(), 'a\nb');
    fs.mkdirSync(base);
    const r = await asUser(['cron', 'install', '--base-dir', base]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('contains a line break');
    expect(crontab('-l').stdout).toBe(theirs);
  });

  it('--dry-run before cron remove is refused and removes nothing', async () => {
    crontab('-r');
    expect((await asUser(['cron', 'install'])).code).toBe(0);
    const before = crontab('-l').stdout;
    const r = await asUser(['--dry-run', 'cron', 'remove']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vigint-cleanup: --dry-run does not apply to 'cron remove'/);
    expect(crontab('-l').stdout).toBe(before);
    crontab('-r');
  });

  it('options before "cron install" are honoured as if given after it', async () => {
    crontab('-r');
    const base = userBase();
    const logFile = path.join(home, 'before.log');
    const r = await asUser(['--base-dir', base, '--days', '90', '--log-file', logFile, 'cron', 'install', '--time', '05:30']);
    expect(r.code).toBe(0);
    expect(ourLine()).toBe(`30 5 * * * (cd ${base} && ${process.execPath} ${programForOthers()} --base-dir ${base} --days 90) >> ${logFile} 2>&1 ${CRON_MARKER}`);
    crontab('-r');
  });

  it('a tiny --days is installed as --days accepts it, and the job runs with it', async () => {
    crontab('-r');
    const base = userBase();
    const logFile = path.join(home, 'tiny.log');
    const r = await asUser(['cron', 'install', '--base-dir', base, '--days', '0.0000001', '--log-file', logFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('older than 0.0000001 days are deleted');
    const line = ourLine();
    expect(line).toContain(' --days 0.0000001) >> ');
    expect(runAsCron(line).status).toBe(0);
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toContain('AUTOMATIC CLEANUP - Retention: 0.0000001 days\n');
    expect(log).toContain('Files deleted: 2');
    crontab('-r');
  });

  it('show exits 1 when no line is installed; a commented-out line is not ours', async () => {
    crontab('-r');
    const none = await asUser(['cron', 'show']);
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toBe(`vigint-cleanup: no vigint-cleanup line in the crontab of ${user}\n`);

    const commented = `${theirs}# 0 3 * * * (cd /srv && /usr/bin/node /x --base-dir /srv --days 30) >> /tmp/x.log 2>&1 ${CRON_MARKER}\n`;
    setCrontab(commented);
    expect((await asUser(['cron', 'show'])).code).toBe(1);
    const removed = await asUser(['cron', 'remove']);
    expect(removed).toMatchObject({ code: 0, stdout: expect.stringContaining('nothing changed') });
    expect(crontab('-l').stdout).toBe(commented);
    expect((await asUser(['cron', 'install'])).code).toBe(0);
    const installed = crontab('-l').stdout;
    expect(installed.startsWith(commented)).toBe(true);
    expect((await asUser(['cron', 'show'])).stdout).toBe(`${ourLine()}\n`);
    expect((await asUser(['cron', 'remove'])).code).toBe(0);
    expect(crontab('-l').stdout).toBe(commented);
  });

  it('no crontab program: a clear error naming the package, the crontab untouched', async () => {
    setCrontab(theirs);
    const r = await asUser(['cron', 'install'], { PATH: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the crontab program was not found on PATH: install the cron package (Debian, Ubuntu: apt-get install cron');
    expect(crontab('-l').stdout).toBe(theirs);
  });
});
