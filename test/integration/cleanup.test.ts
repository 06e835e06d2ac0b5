import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type CleanupOptions, runCleanup } from '../../src/cleanup.js';
import { CleanupError } from '../../src/errors.js';
import { LOCK_NAME } from '../../src/lock.js';
import { STATE_NAME } from '../../src/state.js';
import { categoryById, nameClassifier } from '../../src/categories.js';
import { entriesUpTo } from '../../src/entry-count.js';
import { type NativeAhead, nativeScanner } from '../../src/native-scan.js';
import { forgetListings, keptListing } from '../../src/read-ahead.js';
import { changesIntoFolders } from '../../src/working-dir.js';
import { memoryLogger } from '../helpers/logger.js';
import { threadsNamed } from '../helpers/threads.js';
import { DAY, HOUR, listTree, makeTree, tempDir } from '../helpers/tree.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function run(baseDir: string, extra: Partial<Omit<CleanupOptions, 'stillDue'>> = {}) {
  const log = memoryLogger();
  const promise = runCleanup({
    baseDir,
    days: 30,
    dryRun: false,
    categories: ['incidents', 'videos'],
    logger: log.logger,
    now: () => NOW,
    ...extra,
  });
  return { promise, lines: log.lines };
}

/** A pid that no process has: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('runCleanup', () => {
  it.skipIf(nativeScanner() === undefined)(
    "in this thread, chooses by the looks the count set going (its lookahead); a file written since is looked at again right before its unlink, and kept",
    async () => {
      const native = nativeScanner();
      if (native === undefined) throw new Error('not built');
      const base = tempDir();
      const spec: Record<string, { ageDays: number; size: number }> = {};
      for (let i = 0; i < 300; i++) spec[`offline_incidents/offline_incident_${i}.txt`] = { ageDays: 40, size: 10 };
      makeTree(base, spec, NOW);
      const dir = path.join(base, 'offline_incidents');
      const classify = [nameClassifier(categoryById('incidents')), nameClassifier(categoryById('videos'))];
      expect(entriesUpTo([dir, path.join(base, 'mock_sparse_ai_cloud')], 10_000, { keep: true, classify })).toBe(300);
      // the lookahead's looks done (its thread may still be at them when the count returns)
      const listing = keptListing(dir);
      for (const block of listing?.blocks ?? []) expect(native.aheadWait(listing?.ahead as NativeAhead, block?.looked?.index ?? -1)).toBe(0);
      // written after the count's look: young now, another change time
      const changed = path.join(dir, 'offline_incident_7.txt');
      fs.appendFileSync(changed, 'more');
      const young = new Date(NOW - DAY);
      fs.utimesSync(changed, young, young);
      const wait = vi.spyOn(native, 'aheadWait');
      try {
        const { promise, lines } = run(base, { workers: 0 });
        const result = await promise;
        expect(wait).toHaveBeenCalled(); // the lookahead's looks were used
        expect(fs.readdirSync(dir)).toEqual(['offline_incident_7.txt']);
        expect(result.totals).toMatchObject({ deleted: 299, skipped: 1, failed: 0 });
        expect(lines.filter((l) => l.msg === 'cleanup: skipped, file changed since the scan').map((l) => l.path)).toEqual([changed]);
        expect(lines.filter((l) => l.msg === 'cleanup: deleted')).toHaveLength(299);
        expect(threadsNamed('vigint-lstat')).toBe(0);
      } finally {
        wait.mockRestore();
        forgetListings();
      }
    },
  );

  it('deletes exactly the regular files older than the cutoff, to the hour', async () => {
    const base = tempDir();
    makeTree(
      base,
      {
        'offline_incidents/offline_incident_old.txt': { ageMs: 30 * DAY + HOUR, size: 1000 },
        'offline_incidents/offline_incident_edge.txt': { ageMs: 30 * DAY - HOUR, size: 2000 },
        'offline_incidents/offline_incident_new.txt': { ageDays: 1 },
        'mock_sparse_ai_cloud/v1.mp4': { ageDays: 31, size: 5000 },
        'mock_sparse_ai_cloud/v1.json': { ageDays: 31, size: 70 },
        'mock_sparse_ai_cloud/v2.mp4': { ageDays: 29, size: 6000 },
        'mock_sparse_ai_cloud/v2.json': { ageDays: 29, size: 80 },
        'mock_sparse_ai_cloud/readme.txt': { ageDays: 400 },
        'mock_sparse_ai_cloud/old-dir.mp4': { type: 'dir', ageDays: 400 },
      },
      NOW,
    );
    const { promise, lines } = run(base);
    const result = await promise;
    expect(listTree(base)).toEqual([
      STATE_NAME,
      'mock_sparse_ai_cloud/',
      'mock_sparse_ai_cloud/old-dir.mp4/',
      'mock_sparse_ai_cloud/readme.txt',
      'mock_sparse_ai_cloud/v2.json',
      'mock_sparse_ai_cloud/v2.mp4',
      'offline_incidents/',
      'offline_incidents/offline_incident_edge.txt',
      'offline_incidents/offline_incident_new.txt',
    ]);
    expect(result.categories.incidents).toMatchObject({ found: 3, toDelete: 1, deleted: 1, bytesFreed: 1000, failed: 0 });
    expect(result.categories.videos).toMatchObject({ found: 4, bytesFound: 11150, toDelete: 2, deleted: 2, bytesFreed: 5070 });
    expect(result.categories.videos?.kinds).toEqual({ incident: 0, video: 2, metadata: 2 });
    expect(result.totals).toEqual({
      found: 7,
      bytesFound: 1000 + 2000 + 'offline_incident_new.txt'.length + 11150,
      toDelete: 3,
      bytesToDelete: 6070,
      deleted: 3,
      bytesFreed: 6070,
      failed: 0,
      skipped: 0,
      held: 0,
      bytesHeld: 0,
    });
    expect(result.cutoff.toISOString()).toBe(new Date(NOW - 30 * DAY).toISOString());

    const deletions = lines.filter((l) => l.msg === 'cleanup: deleted');
    expect(deletions.map((l) => path.basename(l.path as string)).sort()).toEqual(['offline_incident_old.txt', 'v1.json', 'v1.mp4']);
    const v1 = deletions.find((l) => (l.path as string).endsWith('v1.mp4'));
    expect(v1).toMatchObject({ size: 5000, mtime: new Date(NOW - 31 * DAY).toISOString() });
    expect(lines[0]?.msg).toBe('Running automatic cleanup (retention: 30 days)');
    expect(lines.at(-1)?.msg).toBe('Cleanup complete: 3 files deleted, 0.01 MB freed');
    expect(JSON.parse(fs.readFileSync(path.join(base, STATE_NAME), 'utf8'))).toMatchObject({
      lastRunStart: new Date(NOW).toISOString(),
    });
  });

  it('a dry run plans the same deletions, logs each, and deletes nothing', async () => {
    const base = tempDir();
    makeTree(
      base,
      {
        'offline_incidents/offline_incident_old.txt': { ageDays: 45, size: 10 },
        'mock_sparse_ai_cloud/v.mp4': { ageDays: 45, size: 20 },
        'mock_sparse_ai_cloud/w.mp4': { ageDays: 2 },
      },
      NOW,
    );
    const before = listTree(base);
    const { promise, lines } = run(base, { dryRun: true });
    const result = await promise;
    expect(listTree(base)).toEqual(before);
    expect(result.totals).toMatchObject({ toDelete: 2, bytesToDelete: 30, deleted: 0, bytesFreed: 0 });
    expect(lines.filter((l) => l.msg === 'cleanup: would delete (dry run)').map((l) => l.size)).toEqual([10, 20]);
    expect(lines.at(-1)?.msg).toBe('Cleanup complete (dry run): 2 files would be deleted, 0.00 MB would be freed');
  });

  it('keeps files dated in the future, counts them and warns', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_f.txt': { ageDays: -3 }, 'offline_incidents/offline_incident_o.txt': { ageDays: 60 } }, NOW);
    const { promise, lines } = run(base);
    const result = await promise;
    expect(listTree(base)).toContain('offline_incidents/offline_incident_f.txt');
    expect(result.categories.incidents).toMatchObject({ found: 2, deleted: 1, future: 1 });
    expect(lines.find((l) => (l.msg as string).includes('dated in the future'))).toMatchObject({ level: 40, count: 1 });
  });

  it('missing category folders are 0 files, not errors', async () => {
    const { promise } = run(tempDir());
    const result = await promise;
    expect(result.totals).toMatchObject({ found: 0, failed: 0 });
    expect(result.errors).toEqual([]);
  });

  describe('a file that changes between scan and delete is skipped', () => {
    const cases: [string, (p: string, outside: string) => void, boolean][] = [
      ['replaced (renamed over) by a new file with an old date', (p) => {
        fs.writeFileSync(`${p}.new`, 'new evidence');
        fs.utimesSync(`${p}.new`, new Date(NOW - 90 * DAY), new Date(NOW - 90 * DAY));
        fs.renameSync(`${p}.new`, p);
      }, true],
      ['deleted and re-created with an old date (the inode number may come back)', (p) => {
        fs.rmSync(p);
        fs.writeFileSync(p, 'new evidence');
        fs.utimesSync(p, new Date(NOW - 90 * DAY), new Date(NOW - 90 * DAY));
      }, true],
      ['renamed aside and back (same file, but it was touched)', (p) => {
        fs.renameSync(p, `${p}.x`);
        fs.renameSync(`${p}.x`, p);
      }, true],
      ['written to (mtime now recent)', (p) => {
        fs.appendFileSync(p, ' more');
        fs.utimesSync(p, new Date(NOW), new Date(NOW));
      }, true],
      ['replaced by a symbolic link to a file outside', (p, outside) => {
        fs.rmSync(p);
        fs.symlinkSync(outside, p);
      }, true],
      ['already gone', (p) => fs.rmSync(p), false],
    ];
    it.each(cases)('%s', async (_label, change, survives) => {
      const base = tempDir();
      const outside = path.join(tempDir(), 'precious.txt');
      fs.writeFileSync(outside, 'keep me');
      makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60 }, 'offline_incidents/offline_incident_2.txt': { ageDays: 60 } }, NOW);
      const target = path.join(base, 'offline_incidents', 'offline_incident_1.txt');
      // Older kernels stamp ctime from a coarse clock (a few ms): let it tick past the tree's.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { promise, lines } = run(base, { beforeRecheck: (file) => file.path === target && change(target, outside) });
      const result = await promise;
      expect(result.categories.incidents).toMatchObject({ toDelete: 2, deleted: 1, skipped: 1, failed: 0 });
      expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_2.txt'))).toBe(false);
      expect(fs.readFileSync(outside, 'utf8')).toBe('keep me');
      if (survives) expect(fs.lstatSync(target, { throwIfNoEntry: false })).toBeDefined();
      expect(lines.some((l) => l.path === target && (l.msg as string).startsWith('cleanup: skipped'))).toBe(true);
    });
  });

  it('"space freed" (and "to be freed", in a dry run) counts a file only when its last link goes', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60, size: 3000 }, 'offline_incidents/offline_incident_2.txt': { ageDays: 60, size: 500 } }, NOW);
    const other = path.join(tempDir(), 'evidence-copy.txt');
    fs.linkSync(path.join(base, 'offline_incidents', 'offline_incident_1.txt'), other);
    for (const workers of [0, 2]) {
      if (workers === 2) {
        makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60, size: 3000 }, 'offline_incidents/offline_incident_2.txt': { ageDays: 60, size: 500 } }, NOW);
        fs.rmSync(other);
        fs.linkSync(path.join(base, 'offline_incidents', 'offline_incident_1.txt'), other);
      }
      const dry = await run(base, { workers, dryRun: true }).promise;
      expect(dry.categories.incidents).toMatchObject({ toDelete: 2, bytesToDelete: 500, deleted: 0 });
      const result = await run(base, { workers }).promise;
      expect(result.categories.incidents).toMatchObject({ toDelete: 2, bytesToDelete: 500, deleted: 2, bytesFreed: 500 });
      expect(fs.readFileSync(other, 'utf8')).toHaveLength(3000);
    }
  });

  it('leaves no thread behind: the unlinks\' threads end with the run', async (ctx) => {
    const native = nativeScanner();
    if (native === undefined) ctx.skip('without the native scanner (VIGINT_CLEANUP_NATIVE=0), unlinks start no thread of their own');
    const base = tempDir();
    const files: Record<string, { ageDays: number }> = {};
    for (let i = 0; i < 300; i++) files[`offline_incidents/offline_incident_${i}.txt`] = { ageDays: 40 + (i % 2) * -20 };
    makeTree(base, files, NOW);
    const ended = vi.spyOn(native as NonNullable<typeof native>, 'unlinkEnd');
    try {
      const before = threadsNamed('vigint-unlink');
      const result = await run(base, { workers: 0, categories: ['incidents'] }).promise;
      expect(result.categories.incidents).toMatchObject({ deleted: 150 });
      expect(ended).toHaveBeenCalled(); // the batches were used, and ended
      expect(threadsNamed('vigint-unlink')).toBe(before);
    } finally {
      ended.mockRestore();
    }
  });

  it("a real run as the CLI makes it (full paths, its own thread): a folder moved and replaced mid-run loses no file of either", async () => {
    const base = tempDir();
    const files: Record<string, { ageDays: number }> = {};
    for (let i = 0; i < 3000; i++) files[`offline_incidents/offline_incident_${i}.txt`] = { ageDays: 40 };
    makeTree(base, files, NOW);
    const dir = path.join(base, 'offline_incidents');
    const moved = path.join(base, 'moved_away');
    let swappedAt = -1;
    const { promise, lines } = run(base, {
      workers: 0,
      categories: ['incidents'],
      chdir: changesIntoFolders(false, [dir]),
      // after 1,024 files: the folder is moved away, and another, of young files of the same names, put in its place
      onProgress: () => {
        if (swappedAt >= 0) return;
        fs.renameSync(dir, moved);
        swappedAt = 3000 - fs.readdirSync(moved).length;
        fs.mkdirSync(dir);
        for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, `offline_incident_${i}.txt`), 'NEW');
      },
    });
    const result = await promise;
    expect(swappedAt).toBeGreaterThanOrEqual(0);
    // the new folder's files are all there, as they were put
    expect(fs.readdirSync(dir)).toHaveLength(3000);
    for (const n of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, n), 'utf8')).toBe('NEW');
    // nothing was deleted in the folder moved away once it was moved: what is gone from it went before
    const gone = 3000 - fs.readdirSync(moved).length;
    expect(gone).toBe(swappedAt);
    expect(result.categories.incidents?.deleted).toBe(gone);
    // each deletion logged, by a path that named the deleted file when it was deleted
    const deleted = lines.filter((l) => l.msg === 'cleanup: deleted');
    expect(deleted).toHaveLength(gone);
    expect(fs.readdirSync(moved).length + gone).toBe(3000);
  });

  it('the CLI changes into the folders for a dry run, and for a real run only when their paths are too long to name files whole', () => {
    expect(changesIntoFolders(true, ['/srv/vigint/offline_incidents'])).toBe(true);
    expect(changesIntoFolders(false, ['/srv/vigint/offline_incidents', '/srv/vigint/mock_sparse_ai_cloud'])).toBe(false);
    expect(changesIntoFolders(false, ['/srv/vigint/offline_incidents', `/${'d'.repeat(3838)}`])).toBe(false); // 3,839 + 1 + 255 + 1 = 4,096
    expect(changesIntoFolders(false, ['/srv/vigint/offline_incidents', `/${'d'.repeat(3839)}`])).toBe(true);
  });

  describe('the lock', () => {
    it('a live holder: exit status 75, nothing deleted, its lock left alone', async () => {
      const base = tempDir();
      makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60 } }, NOW);
      const holder = JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'x', token: 'held' });
      fs.writeFileSync(path.join(base, LOCK_NAME), holder);
      const { promise } = run(base);
      const err = await promise.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CleanupError);
      expect((err as CleanupError).exitStatus).toBe(75);
      expect((err as CleanupError).message).toContain(`pid ${process.pid}`);
      expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_1.txt'))).toBe(true);
      expect(fs.readFileSync(path.join(base, LOCK_NAME), 'utf8')).toBe(holder);
    });

    it('a stale lock (its process died) is taken over; the lock is gone after the run', async () => {
      const base = tempDir();
      makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 60 } }, NOW);
      fs.writeFileSync(path.join(base, LOCK_NAME), JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: 'x', token: 't' }));
      const result = await run(base).promise;
      expect(result.totals.deleted).toBe(1);
      expect(listTree(base)).toEqual([STATE_NAME, 'offline_incidents/']);
    });

    it('an empty lock file (a 0.1.x lock whose content never reached the disk) is taken over once its lease has lapsed', async () => {
      const base = tempDir();
      const lock = path.join(base, LOCK_NAME);
      fs.writeFileSync(lock, '');
      const err = await run(base).promise.catch((e: unknown) => e);
      expect((err as CleanupError).exitStatus).toBe(75); // within its lease: respected
      const lapsed = new Date(Date.now() - 3 * 60_000); // the default lease is 2 minutes
      fs.utimesSync(lock, lapsed, lapsed);
      await expect(run(base).promise).resolves.toBeTruthy();
      expect(fs.readdirSync(base)).not.toContain(LOCK_NAME);
    });

    it('a dry run takes no lock', async () => {
      const base = tempDir();
      fs.writeFileSync(path.join(base, LOCK_NAME), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'x', token: 'held' }));
      const result = await run(base, { dryRun: true }).promise;
      expect(result.dryRun).toBe(true);
    });
  });
});
