import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, logLines, runCli, spawnCapture } from '../helpers/cli.js';
import { makeTree, tempDir } from '../helpers/tree.js';

/** Runs a small host program that imports the package by its name, as the alerting service does. */
function host(source: string, env: Record<string, string> = {}) {
  return spawnCapture(process.execPath, ['--input-type=module', '-e', source], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
}

const HOST = `
import { createAutoCleanup } from 'vigint-cleanup';
const auto = createAutoCleanup({ baseDir: process.env.BASE });
for (let i = 0; i < 3; i++) auto.notify();   // three alerts
await auto.idle();
console.log(JSON.stringify({ ok: true }));
`;

describe("import { createAutoCleanup } from 'vigint-cleanup'", () => {
  it('a cleanup run by the CLI (cron) counts: the host does not clean again within the interval', async () => {
    const base = tempDir();
    const cli = await runCli(['--base-dir', base, '--json']);
    expect(cli.code).toBe(0);
    const afterCli = { 'offline_incidents/offline_incident_late.txt': { ageDays: 60 } };
    makeTree(base, afterCli);

    const notDue = await host(HOST, { BASE: base });
    expect(notDue.code).toBe(0);
    expect(notDue.stdout.trim()).toBe('{"ok":true}');
    expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_late.txt'))).toBe(true);
    expect(logLines(notDue.stderr).map((l) => l.msg)).not.toContain('Running automatic cleanup (retention: 30 days)');

    // with an interval shorter than the time since the CLI's run, it is due: one run, logged
    await new Promise((resolve) => setTimeout(resolve, 400));
    const due = await host(HOST, { BASE: base, CLEANUP_INTERVAL_HOURS: '0.0001' });
    expect(due.code).toBe(0);
    expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_late.txt'))).toBe(false);
    const msgs = logLines(due.stderr).map((l) => l.msg);
    expect(msgs.filter((m) => m === 'Running automatic cleanup (retention: 30 days)')).toHaveLength(1);
    expect(msgs).toContain('Cleanup complete: 1 files deleted, 0.00 MB freed');
  });

  it('a bad CLEANUP_INTERVAL_HOURS is refused at start-up with a clear message', async () => {
    const r = await host(
      `import { createAutoCleanup } from 'vigint-cleanup';
       try { createAutoCleanup({ baseDir: '/tmp' }); } catch (e) { console.log(e.name + ': ' + e.message); }`,
      { CLEANUP_INTERVAL_HOURS: 'twice a day' },
    );
    expect(r.stdout.trim()).toMatch(/^CleanupError: invalid CLEANUP_INTERVAL_HOURS 'twice a day': expected a number greater than 0/);
  });
});

describe('auto.stop() when the host\'s standard error takes nothing (a full pipe nobody reads)', () => {
  it('resolves within 2 s', async () => {
    const base = tempDir();
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir);
    const then = new Date(Date.now() - 40 * 86_400_000);
    for (let i = 0; i < 20_000; i++) {
      const f = path.join(dir, `offline_incident_${i}.txt`);
      fs.closeSync(fs.openSync(f, 'w'));
      fs.utimesSync(f, then, then);
    }
    const host = `
      import { createAutoCleanup } from ${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))};
      const auto = createAutoCleanup({ baseDir: ${JSON.stringify(base)}, env: {} });
      auto.notify();
      setTimeout(async () => {
        const t = Date.now();
        await auto.stop();
        process.stdout.write(String(Date.now() - t));
        process.exit(0);
      }, 1000);
    `;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--input-type=module', '-e', host], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    // standard error is never read: the pipe fills and stays full
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(Number(out)).toBeLessThan(2_000);
    fs.rmSync(base, { recursive: true, force: true });
  }, 120_000);
});
