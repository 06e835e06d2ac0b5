import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, spawnCapture } from '../helpers/cli.js';
import { makeTree, tempDir } from '../helpers/tree.js';

/** The built modules (dist/*.js) a run of the program loads, through a resolve hook. */
async function loadedModules(args: string[]): Promise<string[]> {
  const dir = tempDir('vigint-hook-');
  fs.writeFileSync(
    path.join(dir, 'hook.mjs'),
    "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/')) process.stderr.write(`LOADED ${r.url.replace(/.*\\/dist\\//, '')}\\n`); return r; }\n",
  );
  fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hook.mjs')).href)});\n`);
  const r = await spawnCapture(process.execPath, ['--import', path.join(dir, 'register.mjs'), BIN, ...args], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1] as string);
}

const MONITORING = ['check-command.js', 'check.js', 'systemd-command.js', 'systemd.js', 'metrics.js', 'mounts.js', 'size.js'];

describe('start-up: the monitoring code is loaded only by the commands that use it', () => {
  it('a plain cleanup loads none of it; check and systemd load theirs', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 1 } });
    const plain = await loadedModules(['--dry-run', '--base-dir', base]);
    expect(plain).toContain('cleanup.js'); // the hook works
    for (const m of MONITORING) expect(plain).not.toContain(m);
    const check = await loadedModules(['check', '--base-dir', base]);
    expect(check).toContain('check-command.js');
    expect(check).not.toContain('systemd-command.js');
    const systemd = await loadedModules(['systemd', 'show']);
    expect(systemd).toContain('systemd-command.js');
    expect(systemd).not.toContain('check-command.js');
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
