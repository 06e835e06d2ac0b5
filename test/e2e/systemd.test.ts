import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, spawnCapture } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

const systemdRuns = fs.existsSync('/run/systemd/system');

/** Runs the program with a given node binary (its path lands in ExecStart) and a bare environment. */
function run(node: string, args: string[], env: Record<string, string> = {}, cwd = '/') {
  return spawnCapture(node, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...env } });
}

function verify(...files: string[]): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * Splits a command line as systemd does for ExecStart= (systemd.service(5), "Command lines"):
 * words split at whitespace, double or single quotes, backslash escapes; `%%` is `%`, and in the
 * arguments (not the program's path) `$$` is `$`. Path lists (`command` false) have no variables.
 */
function execArgv(line: string, command = true): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\') {
      const next = line[++i] as string;
      word = (word ?? '') + (({ n: '\n', t: '\t' } as Record<string, string>)[next] ?? next);
    } else if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quote !== undefined) throw new Error(`unterminated quote in ${line}`);
  if (word !== undefined) words.push(word);
  return words.map((w, i) => (i === 0 || !command ? w : w.replace(/\$\$/g, '$')).replace(/%%/g, '%'));
}

const setting = (unit: string, key: string): string | undefined =>
  unit
    .split('\n')
    .find((l) => l.startsWith(`${key}=`))
    ?.slice(key.length + 1);

/** A folder whose name needs every kind of quoting systemd has: space, %, $, quotes, a backslash. */
function awkwardFolder(): string {
  const dir = path.join(tempDir(), `data 100% $HOME 'q' "d" back\\slash`);
  fs.mkdirSync(dir);
  return dir;
}

/** node under an awkward path too, so that systemd-analyze verify checks the quoting of ExecStart's program. */
function awkwardNode(): string {
  const dir = path.join(tempDir(), 'node bin 5% $x');
  fs.mkdirSync(dir);
  const node = path.join(dir, 'node');
  try {
    fs.linkSync(process.execPath, node);
  } catch {
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
  }
  return node;
}

describe('vigint-cleanup systemd', () => {
  it('install writes a service and a timer that systemd-analyze verify accepts, for awkward paths', async () => {
    const unitDir = tempDir();
    const base = awkwardFolder();
    const node = awkwardNode();
    const logDir = awkwardFolder();
    const r = await run(node, ['systemd', 'install', '--base-dir', base, '--days', '7', '--time', '4:05', '--log-file', path.join(logDir, 'c.log')], {
      VIGINT_SYSTEMD_DIR: unitDir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('systemctl enable --now vigint-cleanup.timer');
    expect(fs.readdirSync(unitDir).sort()).toEqual(['vigint-cleanup.service', 'vigint-cleanup.timer']);
    const service = fs.readFileSync(path.join(unitDir, 'vigint-cleanup.service'), 'utf8');
    const timer = fs.readFileSync(path.join(unitDir, 'vigint-cleanup.timer'), 'utf8');
    const v = verify(path.join(unitDir, 'vigint-cleanup.service'), path.join(unitDir, 'vigint-cleanup.timer'));
    expect(v.output).toBe('');
    expect(v.status).toBe(0);

    expect(setting(service, 'Type')).toBe('oneshot');
    expect(execArgv(setting(service, 'ExecStart') ?? '')).toEqual([node, BIN, '--base-dir', base, '--days', '7', '--log-file', path.join(logDir, 'c.log')]);
    expect(setting(service, 'WorkingDirectory')).toBe(base.replace(/%/g, '%%'));
    expect(execArgv(setting(service, 'ReadWritePaths') ?? '', false).sort()).toEqual([base, logDir].sort());
    expect(setting(service, 'NoNewPrivileges')).toBe('yes');
    expect(setting(service, 'ProtectSystem')).toBe('strict');
    // the base folder and the log are under /tmp, which PrivateTmp= would hide
    expect(setting(service, 'PrivateTmp')).toBeUndefined();
    expect(setting(timer, 'OnCalendar')).toBe('*-*-* 04:05:00');
    expect(setting(timer, 'Persistent')).toBe('true');
    expect(setting(timer, 'WantedBy')).toBe('timers.target');
  });

  it('systemd-analyze verify does reject a unit whose program path is quoted wrong (the check above can fail)', () => {
    const dir = tempDir();
    const node = awkwardNode();
    fs.writeFileSync(path.join(dir, 'x.service'), `[Service]\nType=oneshot\nExecStart=${node} --version\n`);
    expect(verify(path.join(dir, 'x.service')).status).not.toBe(0);
  });

  it("the service's ExecStart, run with an empty environment from /, really cleans the folder", async () => {
    const unitDir = tempDir();
    const base = awkwardFolder();
    makeTree(base, {
      'offline_incidents/offline_incident_old.txt': { ageDays: 10 },
      'offline_incidents/offline_incident_new.txt': { ageDays: 1 },
      'mock_sparse_ai_cloud/old.mp4': { ageDays: 9 },
      'mock_sparse_ai_cloud/new.json': { ageDays: 2 },
    });
    const install = await run(process.execPath, ['systemd', 'install', '--base-dir', base, '--days', '5'], { VIGINT_SYSTEMD_DIR: unitDir });
    expect(install.code).toBe(0);
    const [cmd, ...args] = execArgv(setting(fs.readFileSync(path.join(unitDir, 'vigint-cleanup.service'), 'utf8'), 'ExecStart') ?? '');
    const r = spawnSync('env', ['-i', cmd as string, ...args], { cwd: '/', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Files deleted: 2');
    expect(listTree(base).filter((p) => !p.startsWith('.'))).toEqual([
      'mock_sparse_ai_cloud/',
      'mock_sparse_ai_cloud/new.json',
      'offline_incidents/',
      'offline_incidents/offline_incident_new.txt',
    ]);
  });

  it('installing again replaces the pair; show prints both; remove leaves nothing', async () => {
    const unitDir = tempDir();
    const base = tempDir();
    const env = { VIGINT_SYSTEMD_DIR: unitDir };
    expect((await run(process.execPath, ['systemd', 'show'], env)).code).toBe(1);
    expect((await run(process.execPath, ['systemd', 'install', '--base-dir', base, '--time', '01:00'], env)).code).toBe(0);
    const again = await run(process.execPath, ['systemd', 'install', '--base-dir', base, '--time', '02:30', '--days', '12'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Replaced /);
    expect(fs.readdirSync(unitDir).sort()).toEqual(['vigint-cleanup.service', 'vigint-cleanup.timer']);

    const show = await run(process.execPath, ['systemd', 'show'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`# ${path.join(unitDir, 'vigint-cleanup.service')}\n`);
    expect(show.stdout).toContain('OnCalendar=*-*-* 02:30:00\n');
    expect(show.stdout).not.toContain('01:00');
    expect(show.stdout).toContain(' --days 12\n');

    const removed = await run(process.execPath, ['systemd', 'remove'], env);
    expect(removed.code).toBe(0);
    expect(fs.readdirSync(unitDir)).toEqual([]);
    const twice = await run(process.execPath, ['systemd', 'remove'], env);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('nothing changed');
  });

  it('a unit file that is not ours is neither replaced nor removed (exit 1)', async () => {
    const unitDir = tempDir();
    const theirs = '[Service]\nExecStart=/bin/true\n';
    fs.writeFileSync(path.join(unitDir, 'vigint-cleanup.service'), theirs);
    const env = { VIGINT_SYSTEMD_DIR: unitDir };
    const install = await run(process.execPath, ['systemd', 'install', '--base-dir', tempDir()], env);
    expect(install.code).toBe(1);
    expect(install.stderr).toContain('not written by vigint-cleanup');
    expect((await run(process.execPath, ['systemd', 'remove'], env)).code).toBe(1);
    expect(fs.readdirSync(unitDir)).toEqual(['vigint-cleanup.service']);
    expect(fs.readFileSync(path.join(unitDir, 'vigint-cleanup.service'), 'utf8')).toBe(theirs);
  });

  it.each([
    [['--time', '25:00']],
    [['--time', '']],
    [['--days', '0']],
    [['--days', '']],
    [['--base-dir', '/nonexistent/vigint']],
    [['--base-dir', '']],
    [['--log-file', '/nonexistent/vigint/c.log']],
    [['--bogus']],
  ])('bad usage %j: exit 2, nothing written', async (args) => {
    const unitDir = tempDir();
    const r = await run(process.execPath, ['systemd', 'install', ...args], { VIGINT_SYSTEMD_DIR: unitDir }, tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vigint-cleanup: /);
    expect(fs.readdirSync(unitDir)).toEqual([]);
  });

  it('a base folder whose name holds a newline: exit 2, nothing written', async () => {
    const unitDir = tempDir();
    const base = path.join(tempDir(), 'a\nb');
    fs.mkdirSync(base);
    const r = await run(process.execPath, ['systemd', 'install', '--base-dir', base], { VIGINT_SYSTEMD_DIR: unitDir });
    expect(r.code).toBe(2);
    expect(fs.readdirSync(unitDir)).toEqual([]);
  });

  it('systemd without an action, or with an unknown one: exit 2', async () => {
    expect((await run(process.execPath, ['systemd'])).code).toBe(2);
    const r = await run(process.execPath, ['systemd', 'start']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown systemd action 'start'");
  });

  it.skipIf(systemdRuns)('--user: into $XDG_CONFIG_HOME/systemd/user, with the systemctl --user commands to run', async () => {
    const config = tempDir();
    const r = await run(process.execPath, ['systemd', 'install', '--user', '--base-dir', tempDir()], { XDG_CONFIG_HOME: config });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('systemctl --user enable --now vigint-cleanup.timer');
    const dir = path.join(config, 'systemd', 'user');
    expect(fs.readdirSync(dir).sort()).toEqual(['vigint-cleanup.service', 'vigint-cleanup.timer']);
    expect(verify(path.join(dir, 'vigint-cleanup.service'), path.join(dir, 'vigint-cleanup.timer')).status).toBe(0);
    expect((await run(process.execPath, ['systemd', 'remove', '--user'], { XDG_CONFIG_HOME: config })).code).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
