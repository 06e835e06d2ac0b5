import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { inThreadMaxEntries } from '../../src/thread-choice.js';
import { BIN, ROOT, chownTree, runCli, scannerEnv, spawnCapture, unprivilegedIds } from '../helpers/cli.js';
import { makeTree, tempDir } from '../helpers/tree.js';

/**
 * The built modules (dist/*.js) a run of the program loads, through a resolve hook. The program
 * that users run is one bundle (bundle/cli.cjs, scripts/bundle.js, loaded by bin/load.js), where
 * a module that is not used is code that is never run; what is loaded lazily is seen in dist/,
 * the same sources as separate modules, run here through dist/cli.js. Packages are seen in both.
 */
async function loadedModules(args: string[], program: 'dist' | 'bin' = 'dist', env: Record<string, string> = {}): Promise<string[]> {
  const dir = tempDir('vigint-hook-');
  fs.writeFileSync(
    path.join(dir, 'run.mjs'),
    `import { main } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'cli.js')).href)};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'hook.mjs'),
    // (written to fd 2 at once: the hooks run in a thread of their own, whose process.stderr
    // writes could still be queued when the program exits: lost once under load)
    "import { writeSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); const m = /\\/(dist|bin)\\/([^/]+)$/.exec(r.url); if (m) writeSync(2, `LOADED ${m[1] === 'bin' ? 'bin/' : ''}${m[2]}\\n`); return r; }\n",
  );
  // and, at exit, the packages loaded through require (CommonJS: pino, dotenv, picomatch)
  fs.writeFileSync(
    path.join(dir, 'register.mjs'),
    `import { writeSync } from 'node:fs';\nimport { createRequire, register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hook.mjs')).href)});\n` +
      "process.on('exit', () => { for (const k of Object.keys(createRequire(import.meta.url).cache)) { const m = /node_modules\\/([^/]+)\\//.exec(k); if (m) writeSync(2, `LOADED package:${m[1]}\\n`); } });\n",
  );
  const r = await spawnCapture(process.execPath, ['--import', path.join(dir, 'register.mjs'), program === 'bin' ? BIN : path.join(dir, 'run.mjs'), ...args], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...scannerEnv(), ...env } });
  return [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1] as string);
}

// (size.js is not here: the cleanup's --min-free parses with it)
const MONITORING = ['check-command.js', 'check.js', 'systemd-command.js', 'systemd.js', 'metrics.js', 'mounts.js', 'pressure.js'];
/** What else a plain cleanup does without: other commands, workers, pino, dotenv (no .env), picomatch (no holds). */
const NOT_FOR_A_PLAIN_RUN = ['cron.js', 'cron-command.js', 'status.js', 'status-report.js', 'parallel.js', 'package:pino', 'package:dotenv', 'package:picomatch'];

describe('start-up: the monitoring code is loaded only by the commands that use it', () => {
  it('a plain cleanup loads none of it; check and systemd load theirs', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 1 } });
    const plain = await loadedModules(['--dry-run', '--base-dir', base]);
    expect(plain).toContain('cleanup.js'); // the hook works
    for (const m of MONITORING) expect(plain).not.toContain(m);
    expect(plain).toContain('package:commander'); // the exit hook works
    for (const m of NOT_FOR_A_PLAIN_RUN) expect(plain).not.toContain(m);
    // an exclude needs picomatch: loaded then
    expect(await loadedModules(['--dry-run', '--base-dir', base, '--exclude', 'cam3_*'])).toContain('package:picomatch');
    // the program users run: one bundle, read by bin/load.js, and still none of these packages
    const bundled = await loadedModules(['--dry-run', '--base-dir', base], 'bin');
    expect(bundled).toContain('bin/load.js'); // the hook works
    expect(bundled.filter((m) => !m.startsWith('bin/'))).toEqual([]);
    const check = await loadedModules(['check', '--base-dir', base]);
    expect(check).toContain('check-command.js');
    expect(check).not.toContain('systemd-command.js');
    const systemd = await loadedModules(['systemd', 'show']);
    expect(systemd).toContain('systemd-command.js');
    expect(systemd).not.toContain('check-command.js');
  });
});

describe('start-up: small folders are swept and measured without worker threads', () => {
  it('a dry run, a real run and status of a small tree load no worker code; a large tree does', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 }, 'mock_sparse_ai_cloud/a.mp4': { ageDays: 1 } });
    const log = path.join(tempDir(), 'c.log');
    for (const args of [['--dry-run'], ['--log-file', log], ['status']]) {
      const loaded = await loadedModules([...args, '--base-dir', base]);
      expect(loaded).toContain(args[0] === 'status' ? 'status.js' : 'cleanup.js'); // the hook works
      expect(loaded).not.toContain('parallel.js');
    }
    expect(fs.existsSync(path.join(base, 'offline_incidents/offline_incident_1.txt'))).toBe(false);
    // inThreadMaxEntries() entries in all (150,000 with the native scanner, 8,000 without): a
    // real run, a dry run and status take workers; one fewer: none.
    const big = tempDir();
    fs.mkdirSync(path.join(big, 'offline_incidents'));
    let made = 0;
    const makeUpTo = (n: number): void => {
      for (; made < n; made++) fs.closeSync(fs.openSync(path.join(big, 'offline_incidents', `offline_incident_${made}.txt`), 'w'));
    };
    const parallel = async (args: string[], env: Record<string, string> = {}): Promise<boolean> =>
      (await loadedModules([...args, '--base-dir', big], 'dist', env)).includes('parallel.js');
    const all = [[], ['--dry-run'], ['status']];
    const max = inThreadMaxEntries();
    makeUpTo(max - 1);
    // (the files are new: a real run deletes none of them)
    for (const args of all) expect(await parallel(args)).toBe(false);
    makeUpTo(max);
    for (const args of all) expect(await parallel(args)).toBe(true);
    expect(fs.readdirSync(path.join(big, 'offline_incidents'))).toHaveLength(max);
    // VIGINT_CLEANUP_WORKERS_FROM moves the line: at or under the entries, workers; above, none
    for (const args of all) {
      expect(await parallel(args, { VIGINT_CLEANUP_WORKERS_FROM: String(max) })).toBe(true);
      expect(await parallel(args, { VIGINT_CLEANUP_WORKERS_FROM: String(max + 1) })).toBe(false);
      expect(await parallel(args, { VIGINT_CLEANUP_WORKERS_FROM: '0' })).toBe(true);
    }
  });

  it('VIGINT_CLEANUP_WORKERS_FROM that is not a whole number: a usage error, exit 2, nothing read or deleted', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } });
    for (const bad of ['lots', '-1', '1.5', '1e5', ' ', '9999999999999999']) {
      for (const args of [[], ['status']]) {
        const r = await runCli([...args, '--base-dir', base], { env: { VIGINT_CLEANUP_WORKERS_FROM: bad } });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`invalid VIGINT_CLEANUP_WORKERS_FROM '${bad}': expected a whole number of entries, 0 or more`);
        expect(r.stdout).toBe('');
      }
    }
    expect(fs.existsSync(path.join(base, 'offline_incidents/offline_incident_1.txt'))).toBe(true);
    // empty: unset, as every other variable
    const r = await runCli(['--base-dir', base, '--dry-run'], { env: { VIGINT_CLEANUP_WORKERS_FROM: '' } });
    expect(r.code).toBe(0);
  });
});

describe('--metrics-file', () => {
  it('is accepted, and a dry run writes no metrics', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } });
    const out = tempDir('vigint-metrics-');
    const r = await runCli(['--dry-run', '--base-dir', base, '--metrics-file', path.join(out, 'v.prom')]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out)).toEqual([]);
    const help = await runCli(['--help']);
    expect(help.stdout).toContain('--metrics-file <path>');
  });
});

/** Sample lines as name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    // the label that matters here (category or mount), without base_dir
    const label = /(category|mount)="([^"]*)"/.exec(m[2] as string);
    out.set(label ? `${m[1]}{${label[2]}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

describe('--metrics-file after a real run', () => {
  it('the CLI writes the figures of its JSON report, valid for promtool, and the run end in the state file', async () => {
    const base = tempDir();
    makeTree(base, {
      'offline_incidents/offline_incident_old.txt': { ageDays: 40, size: 300 },
      'offline_incidents/offline_incident_new.txt': { ageDays: 3, size: 5 },
      'mock_sparse_ai_cloud/a.mp4': { ageDays: 50, size: 1000 },
      'mock_sparse_ai_cloud/a.json': { ageDays: 50, size: 20 },
      'mock_sparse_ai_cloud/b.mp4': { ageDays: 12, size: 7000 },
    });
    const out = tempDir('vigint-metrics-');
    const file = path.join(out, 'vigint_cleanup.prom');
    const before = Date.now();
    const r = await runCli(['--base-dir', base, '--json', '--metrics-file', file, '--log-file', path.join(out, 'c.log')]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['c.log', 'vigint_cleanup.prom']); // no temporary file left
    const text = fs.readFileSync(file, 'utf8');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
    const report = JSON.parse(r.stdout) as { categories: Record<string, { deleted: number; bytesFreed: number; failed: number; held: number }> };
    const m = samples(text);
    for (const id of ['incidents', 'videos']) {
      const c = report.categories[id] as { deleted: number; bytesFreed: number; failed: number; held: number };
      expect(m.get(`vigint_cleanup_deleted_files{${id}}`)).toBe(c.deleted);
      expect(m.get(`vigint_cleanup_freed_bytes{${id}}`)).toBe(c.bytesFreed);
      expect(m.get(`vigint_cleanup_failed{${id}}`)).toBe(c.failed);
      expect(m.get(`vigint_cleanup_held_files{${id}}`)).toBe(c.held);
    }
    expect(m.get('vigint_cleanup_deleted_files{incidents}')).toBe(1);
    expect(m.get('vigint_cleanup_deleted_files{videos}')).toBe(2);
    expect(m.get('vigint_cleanup_freed_bytes{videos}')).toBe(1020);
    // what is left: one file of each folder, and how old the oldest is (3 and 12 days)
    expect(m.get('vigint_cleanup_files{incidents}')).toBe(1);
    expect(m.get('vigint_cleanup_bytes{videos}')).toBe(7000);
    expect(Math.round((m.get('vigint_cleanup_oldest_file_age_seconds{incidents}') as number) / 3600)).toBe(72);
    expect(Math.round((m.get('vigint_cleanup_oldest_file_age_seconds{videos}') as number) / 3600)).toBe(12 * 24);
    expect(m.get('vigint_cleanup_last_run_exit_code')).toBe(0);
    const lastSuccess = m.get('vigint_cleanup_last_success_timestamp_seconds') as number;
    expect(lastSuccess * 1000).toBeGreaterThanOrEqual(before - 1000);
    const state = JSON.parse(fs.readFileSync(path.join(base, '.vigint-cleanup-state.json'), 'utf8')) as Record<string, unknown>;
    expect(state.lastExitStatus).toBe(0);
    expect(state.lastSuccessStart).toBe(state.lastRunStart);
  });

  it('a metrics file that cannot be written is a warning: the cleanup is done, exit 0', async () => {
    // the metrics folder is read-only for the user running the cleanup (root ignores modes:
    // as root, the CLI runs as the unprivileged test user, who owns the base folder)
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_old.txt': { ageDays: 40 } });
    chownTree(base, unprivilegedIds());
    const out = tempDir('vigint-metrics-');
    fs.chmodSync(out, 0o555);
    const file = path.join(out, 'v.prom');
    try {
      const r = await runCli(['--base-dir', base, '--metrics-file', file, '--log-file', path.join(base, 'c.log')], { asUser: true });
      expect(r.stderr).toContain(`vigint-cleanup: warning: cannot write the metrics file ${file}: EACCES`);
      expect(r.code).toBe(0);
      expect(fs.existsSync(path.join(base, 'offline_incidents/offline_incident_old.txt'))).toBe(false);
      expect(fs.readdirSync(out)).toEqual([]);
    } finally {
      fs.chmodSync(out, 0o755);
    }
  });

  it('the built-in cleanup writes it too (metricsFile)', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_old.txt': { ageDays: 40, size: 10 } });
    const file = path.join(tempDir('vigint-metrics-'), 'v.prom');
    const script = `
      import { createAutoCleanup } from ${JSON.stringify(pathToFileURL(path.join(path.dirname(BIN), '..', 'dist', 'index.js')).href)};
      const auto = createAutoCleanup({ baseDir: ${JSON.stringify(base)}, metricsFile: ${JSON.stringify(file)}, env: { LOG_LEVEL: 'silent' } });
      auto.notify();
      await new Promise((r) => setTimeout(r, 50));
      await auto.idle();
    `;
    const r = await spawnCapture(process.execPath, ['--input-type=module', '-e', script], { cwd: base, env: { PATH: process.env.PATH ?? '' } });
    // LOG_LEVEL silent: only the audit trail (the deleted file's line), nothing else
    expect(r.stderr.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['cleanup: deleted']);
    expect(r.code).toBe(0);
    const m = samples(fs.readFileSync(file, 'utf8'));
    expect(m.get('vigint_cleanup_deleted_files{incidents}')).toBe(1);
    expect(m.get('vigint_cleanup_freed_bytes{incidents}')).toBe(10);
    expect(m.get('vigint_cleanup_last_run_exit_code')).toBe(0);
  });
});
