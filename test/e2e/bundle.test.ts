import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, spawnCapture } from '../helpers/cli.js';
import { makeTree, tempDir } from '../helpers/tree.js';

/**
 * The program is bundle/cli.cjs, loaded by bin/load.js with V8's code cache (cli.cjs.cache). The
 * cache only speeds the start: a cache that is missing, damaged, or older than the bundle must
 * change nothing of what the program does.
 */
function copyOfProgram(): string {
  const dir = tempDir('vigint-program-');
  for (const part of ['bin', 'bundle', 'package.json']) fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true, preserveTimestamps: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

async function dryRun(program: string, base: string): Promise<{ code: number | null; report: unknown; stderr: string }> {
  const r = await spawnCapture(process.execPath, [path.join(program, 'bin', 'vigint-cleanup.js'), '--dry-run', '--json', '--base-dir', base, '--log-file', path.join(base, 'c.log')], {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const report = JSON.parse(r.stdout) as Record<string, unknown>;
  // (times differ from run to run)
  return { code: r.code, report: { ...report, startedAt: null, cutoff: null }, stderr: r.stderr };
}

describe('the code cache', () => {
  it('is made by the build, and a missing, damaged or older one changes nothing but the start-up time', async () => {
    expect(fs.statSync(path.join(ROOT, 'bundle', 'cli.cjs.cache')).size).toBeGreaterThan(10_000);
    const base = tempDir();
    makeTree(base, {
      'offline_incidents/offline_incident_1.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_2.txt': { ageDays: 2 },
      'mock_sparse_ai_cloud/a.mp4': { ageDays: 90 },
    });
    const program = copyOfProgram();
    const cache = path.join(program, 'bundle', 'cli.cjs.cache');
    const expected = await dryRun(program, base);
    expect(expected.code).toBe(0);
    expect(expected.stderr).toBe('');
    expect((expected.report as { totals: { toDelete: number } }).totals.toDelete).toBe(2);

    fs.writeFileSync(cache, fs.readFileSync(cache).subarray(0, 5_000)); // cut short
    expect(await dryRun(program, base)).toEqual(expected);
    fs.writeFileSync(cache, Buffer.alloc(200_000, 0x5a)); // not a cache at all
    expect(await dryRun(program, base)).toEqual(expected);
    fs.rmSync(cache); // none
    expect(await dryRun(program, base)).toEqual(expected);
    fs.copyFileSync(path.join(ROOT, 'bundle', 'cli.cjs.cache'), cache);
    fs.utimesSync(cache, new Date('2020-01-01'), new Date('2020-01-01')); // older than the bundle
    expect(await dryRun(program, base)).toEqual(expected);
  });
});
