import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DAY, tempDir } from '../helpers/tree.js';

/**
 * A base folder whose path is near PATH_MAX (4,096 bytes): the largest folder is swept from the
 * working directory with bare names, by both workers (the smaller folder's worker helps with it),
 * so a path too long to name whole must not fail there.
 */
function longBase(length = 4_032, files = 600): { root: string; base: string } {
  const root = tempDir('vigint-long-');
  let base = root;
  // segments of at most 250 characters, up to exactly `length` characters in all
  while (base.length < length) base = path.join(base, 'd'.repeat(Math.min(250, length - base.length - 1)));
  fs.mkdirSync(base, { recursive: true });
  const old = new Date(Date.now() - 40 * DAY);
  // made from inside the folder: a file's whole path may be too long for the system calls
  const make = (folder: string, names: string[]): void => {
    fs.mkdirSync(path.join(base, folder));
    execFileSync('/bin/sh', ['-c', 'cd "$1" && xargs touch -d "$0"', old.toISOString(), path.join(base, folder)], { input: names.join('\n') });
  };
  make('offline_incidents', Array.from({ length: files }, (_, i) => `offline_incident_${i}.txt`));
  make('mock_sparse_ai_cloud', Array.from({ length: 100 }, (_, i) => `v${i}.mp4`));
  return { root, base };
}

/** A dry run, then a real run: every old file (`old` of them) found, then deleted, no failure. */
async function dryThenReal(root: string, base: string, old: number, env: Record<string, string> = {}, workers = 0, dryWorkers = workers): Promise<void> {
  // (with VIGINT_CLEANUP_NATIVE=0 for the tests, the scanner may not be built: see scan.test.ts)
  const scanner = env.VIGINT_CLEANUP_NATIVE === '0' || process.env.VIGINT_CLEANUP_NATIVE === '0' ? 'fs' : 'native';
  const log = path.join(root, 'c.log');
  const dry = await runCli(['--base-dir', base, '--dry-run', '--json', '--log-file', log], { cwd: '/', env });
  expect(dry.code).toBe(0);
  expect((JSON.parse(dry.stdout) as { totals: { toDelete: number } }).totals.toDelete).toBe(old);
  const real = await runCli(['--base-dir', base, '--json', '--log-file', log], { cwd: '/', env });
  const doc = JSON.parse(real.stdout) as { totals: { deleted: number; failed: number }; errors: unknown[] };
  expect(doc.errors).toEqual([]);
  expect(doc.totals).toMatchObject({ deleted: old, failed: 0 });
  expect(real.code).toBe(0);
  expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual([]);
  expect(fs.readdirSync(path.join(base, 'mock_sparse_ai_cloud'))).toEqual([]);
  // each run says in its log how it read the folders, and with how many worker threads
  const starts = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('Running automatic cleanup'))
    .map((l) => JSON.parse(l) as { scanner: string; workers: number })
    .map((l) => [l.scanner, l.workers]);
  expect(starts).toEqual([
    [scanner, dryWorkers],
    [scanner, workers],
  ]);
}

describe('base folders with paths near PATH_MAX (4,096 bytes)', () => {
  // with the native scanner (its folder opened as '.', its files looked at from it), and without
  // (VIGINT_CLEANUP_NATIVE=0 for the tests: a machine that cannot build it, see scan.test.ts)
  // (in worker threads: VIGINT_CLEANUP_WORKERS_FROM sets the line under the tree's 1,100 entries;
  // at the default line, 150,000 lines of 4 KB paths would make a log of 600 MB)
  it.each([
    ...(process.env.VIGINT_CLEANUP_NATIVE === '0' ? [] : [['the native scanner', {}] as const]),
    ["Node's fs", { VIGINT_CLEANUP_NATIVE: '0' }] as const,
  ])('in worker threads, with %s: the dry run and the real run agree, no ENAMETOOLONG', async (_, env) => {
    const { root, base } = longBase(4_032, 1_000);
    try {
      expect(base.length).toBe(4_032);
      const workers = Math.min(2, os.availableParallelism());
      await dryThenReal(root, base, 1_100, { ...env, VIGINT_CLEANUP_WORKERS_FROM: '500' }, workers);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a small tree, swept in the main thread, also from the folder: its files have paths longer than PATH_MAX', async () => {
    // 4,070 + '/offline_incidents/offline_incident_N.txt': over 4,095 bytes, too long to name whole
    const { root, base } = longBase(4_070, 30);
    try {
      await dryThenReal(root, base, 130);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
