import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup.js';
import { collectStatus } from '../../src/status.js';
import { openLogSink } from '../../src/log.js';
import { bucketsToHelp, estimateEntries } from '../../src/folders-apart.js';
import { inShard } from '../../src/scan.js';
import { STATE_NAME } from '../../src/state.js';
import { memoryLogger } from '../helpers/logger.js';
import { type TreeSpec, listTree, makeTree, tempDir } from '../helpers/tree.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('shares of a folder', () => {
  it('split the names into disjoint shares that cover them all', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `cam${i % 16}_${String(i).padStart(8, '0')}.mp4`);
    for (const cut of [1, 4, 15]) {
      const low = names.filter((n) => inShard(n, { from: 0, to: cut, count: 16 }));
      const high = names.filter((n) => inShard(n, { from: cut, to: 16, count: 16 }));
      expect(low.length + high.length).toBe(names.length);
      expect(new Set([...low, ...high]).size).toBe(names.length);
      // the hash spreads numbered names evenly: each bucket holds about 1/16th
      expect(Math.abs(low.length / names.length - cut / 16)).toBeLessThan(0.03);
    }
  });

  it('give the smaller folder worker enough of the largest for both to finish together', () => {
    expect(bucketsToHelp(1, 2)).toBe(4); // a third and two thirds: a quarter of the largest
    expect(bucketsToHelp(0, 100)).toBe(8);
    expect(bucketsToHelp(100, 100)).toBe(0);
    expect(bucketsToHelp(4096, 4096)).toBe(0);
    expect(bucketsToHelp(0, 0)).toBe(0);
    expect(bucketsToHelp(200, 100)).toBe(0);
  });
});

describe('a real run in two workers, the smaller folder worker helping with the largest', () => {
  /** A large videos folder and a small incidents one: the incidents worker takes a share of videos. */
  function unevenTree(base: string): { old: string[]; kept: string[] } {
    const spec: TreeSpec = {};
    const old: string[] = [];
    const kept: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const name = `mock_sparse_ai_cloud/cam${i % 4}_${String(i).padStart(6, '0')}.${i % 3 === 0 ? 'json' : 'mp4'}`;
      spec[name] = { ageDays: i % 2 === 0 ? 45 : 10, size: 10 + (i % 7) };
      (i % 2 === 0 ? old : kept).push(name);
    }
    for (let i = 0; i < 6; i++) {
      const name = `offline_incidents/offline_incident_${i}.txt`;
      spec[name] = { ageDays: i < 3 ? 60 : 1, size: 100 };
      (i < 3 ? old : kept).push(name);
    }
    makeTree(base, spec, NOW);
    return { old, kept };
  }

  it('deletes each old file exactly once, logs each deletion once, and keeps the rest', async () => {
    const base = tempDir();
    const { old, kept } = unevenTree(base);
    const size = (f: string): number => fs.statSync(path.join(base, f)).size;
    // the case under test: the incidents worker does take a share of the videos
    expect(bucketsToHelp(estimateEntries(path.join(base, 'offline_incidents')), estimateEntries(path.join(base, 'mock_sparse_ai_cloud')))).toBeGreaterThan(0);
    const oldBytes = old.filter((f) => f.startsWith('mock')).reduce((sum, f) => sum + size(f), 0);
    const logFile = path.join(tempDir(), 'run.log');
    const sink = openLogSink({ file: logFile, level: 'info' });
    const result = await runCleanup({
      baseDir: base,
      days: 30,
      dryRun: false,
      categories: ['incidents', 'videos'],
      log: sink,
      now: () => NOW,
      workers: 2,
    });
    expect(await sink.close()).toBeUndefined();
    expect(result.categories.videos).toMatchObject({ found: 1500, toDelete: 750, deleted: 750, bytesFreed: oldBytes, failed: 0, skipped: 0 });
    expect(result.categories.videos?.kinds).toEqual({ incident: 0, video: 1000, metadata: 500 });
    expect(result.categories.incidents).toMatchObject({ found: 6, deleted: 3, failed: 0 });
    expect(listTree(base)).toEqual(
      [STATE_NAME, 'mock_sparse_ai_cloud/', 'offline_incidents/', ...kept].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    const deleted = fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; path: string })
      .filter((line) => line.msg === 'cleanup: deleted')
      .map((line) => path.relative(base, line.path))
      .sort();
    expect(deleted).toEqual([...old].sort());
  });

  it('reports a folder it cannot read once, and the helped folder is swept once', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60 } }, NOW);
    // a file where the videos folder should be: 0 entries, so its worker helps with the incidents
    fs.writeFileSync(path.join(base, 'mock_sparse_ai_cloud'), 'x'.repeat(100_000));
    expect(estimateEntries(path.join(base, 'mock_sparse_ai_cloud'))).toBe(0);
    expect(bucketsToHelp(0, estimateEntries(path.join(base, 'offline_incidents')))).toBe(8);
    const logFile = path.join(tempDir(), 'run.log');
    const sink = openLogSink({ file: logFile, level: 'info' });
    const result = await runCleanup({
      baseDir: base,
      days: 30,
      dryRun: false,
      categories: ['incidents', 'videos'],
      log: sink,
      now: () => NOW,
      workers: 2,
    });
    await sink.close();
    expect(result.categories.videos).toMatchObject({ found: 0, failed: 1 });
    expect(result.errors).toEqual([expect.objectContaining({ path: path.join(base, 'mock_sparse_ai_cloud'), code: 'ENOTDIR' })]);
    expect(result.categories.incidents).toMatchObject({ found: 1, deleted: 1, skipped: 0, failed: 0 });
    expect(fs.readFileSync(path.join(base, 'mock_sparse_ai_cloud'), 'utf8')).toHaveLength(100_000);
  });
});

describe('a folder every share fails to read', () => {
  /** A file where the videos folder should be: each worker's share fails to open it. */
  function brokenVideos(): string {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60 }, 'offline_incidents/offline_incident_2.txt': { ageDays: 1 } }, NOW);
    fs.writeFileSync(path.join(base, 'mock_sparse_ai_cloud'), 'not a folder');
    return base;
  }
  const videos = (base: string) => ({ path: path.join(base, 'mock_sparse_ai_cloud'), code: 'ENOTDIR' });

  it('counts once in a dry run shared by two workers', async () => {
    const base = brokenVideos();
    const log = memoryLogger();
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: true, categories: ['incidents', 'videos'], logger: log.logger, now: () => NOW, workers: 2 });
    expect(result.categories.videos).toMatchObject({ found: 0, failed: 1 });
    expect(result.totals.failed).toBe(1);
    expect(result.errors).toEqual([expect.objectContaining(videos(base))]);
    expect(result.categories.incidents).toMatchObject({ found: 2, toDelete: 1, deleted: 0, failed: 0 });
  });

  it('counts once in status measured by two workers', async () => {
    const base = brokenVideos();
    const status = await collectStatus({ baseDir: base, days: 30, categories: ['incidents', 'videos'], now: () => NOW, workers: 2 });
    expect(status.categories.videos?.failed).toBe(1);
    expect(status.errors).toEqual([expect.objectContaining(videos(base))]);
    expect(status.categories.incidents).toMatchObject({ files: 2, failed: 0 });
  });
});
