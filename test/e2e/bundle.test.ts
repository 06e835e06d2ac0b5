import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT, spawnCapture } from '../helpers/cli.js';
import { makeTree, tempDir } from '../helpers/tree.js';

/**
 * The program is bundle/cli.cjs, loaded by bin/load.js with V8's code cache (cli.cjs.cache). The
 * cache only speeds the start: it is used only with the very source it was made from, and a
 * cache that is missing, damaged, not a file, or of another source changes nothing of what the
 * program does.
 */
function copyOfProgram(): string {
  const dir = tempDir('vigint-program-');
  for (const part of ['bin', 'bundle', 'package.json']) fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Whether the copy's loader gives V8 the cache (and V8 takes it). */
function cacheUsed(program: string): boolean {
  const url = pathToFileURL(path.join(program, 'bin', 'load.js')).href;
  return execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); process.stdout.write(String(m.loadProgram().cacheUsed));`], { encoding: 'utf8', timeout: 10_000 }) === 'true';
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
  it('is used by a copy whose files have new times (as npm install leaves them), and is strict code', () => {
    const program = copyOfProgram();
    const stamp = new Date('1985-10-26T08:15:00Z');
    fs.utimesSync(path.join(program, 'bundle', 'cli.cjs.cache'), stamp, stamp);
    expect(cacheUsed(program)).toBe(true);
    // the sources are ES modules, strict: so must the bundle be
    expect(fs.readFileSync(path.join(ROOT, 'bundle', 'cli.cjs'), 'utf8').startsWith("'use strict';")).toBe(true);
  });

  it('a missing, damaged, FIFO or other-source cache changes nothing but the start-up time', async () => {
    const base = tempDir();
    makeTree(base, {
      'offline_incidents/offline_incident_1.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_2.txt': { ageDays: 2 },
      'mock_sparse_ai_cloud/a.mp4': { ageDays: 90 },
    });
    const program = copyOfProgram();
    const cache = path.join(program, 'bundle', 'cli.cjs.cache');
    const original = fs.readFileSync(cache);
    const expected = await dryRun(program, base);
    expect(expected.code).toBe(0);
    expect(expected.stderr).toBe('');
    expect((expected.report as { totals: { toDelete: number } }).totals.toDelete).toBe(2);

    fs.writeFileSync(cache, original.subarray(0, 5_000)); // cut short
    expect(await dryRun(program, base)).toEqual(expected);
    fs.writeFileSync(cache, Buffer.alloc(200_000, 0x5a)); // not a cache at all
    expect(await dryRun(program, base)).toEqual(expected);
    fs.rmSync(cache); // none
    expect(await dryRun(program, base)).toEqual(expected);
    execFileSync('mkfifo', [cache]); // a FIFO: never read (it would wait for a writer)
    expect(await dryRun(program, base)).toEqual(expected);
    expect(cacheUsed(program)).toBe(false);
    fs.rmSync(cache);

    // The bundle changed in place, same length, same times: V8 alone would run the cached
    // (old) program. The cache is of another source now: not used; the program on disk runs.
    fs.writeFileSync(cache, original);
    const bundle = path.join(program, 'bundle', 'cli.cjs');
    const text = fs.readFileSync(bundle, 'utf8');
    const from = 'Files to be deleted:';
    expect(text).toContain(from);
    fs.writeFileSync(bundle, text.replace(from, 'Files TO BE deleted:'));
    const stamp = new Date('1985-10-26T08:15:00Z');
    for (const f of [bundle, cache]) fs.utimesSync(f, stamp, stamp);
    expect(cacheUsed(program)).toBe(false);
    const r = await spawnCapture(process.execPath, [path.join(program, 'bin', 'vigint-cleanup.js'), '--dry-run', '--base-dir', base, '--log-file', path.join(base, 'c.log')], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(r.stdout).toContain('Files TO BE deleted:');
  });
});
