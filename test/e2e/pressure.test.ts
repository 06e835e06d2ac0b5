/**
 * Disk pressure on real small file systems: a tmpfs of a known size per test (as root; skipped
 * with the reason where it cannot be mounted), filled to a known level with files of known ages
 * and real bytes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAutoCleanup } from '../../src/auto.js';
import { isRoot, logLines, runCli } from '../helpers/cli.js';
import { memoryLogger } from '../helpers/logger.js';
import { DAY, tempDir } from '../helpers/tree.js';

const KB = 1024;
const MB = 1024 * KB;
const mounted: string[] = [];

afterEach(() => {
  for (const dir of mounted.splice(0)) {
    execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A tmpfs of `size` bytes, or undefined where none can be mounted (not root, a container). */
function smallDisk(size: number): string | undefined {
  if (!isRoot) return undefined;
  const dir = tempDir('vigint-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  mounted.push(dir);
  return dir;
}

const free = (dir: string): number => {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
};

/** A file of `bytes` real bytes, `ageDays` old. */
function put(file: string, bytes: number, ageDays: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(bytes, 1));
  const when = new Date(Date.now() - ageDays * DAY);
  fs.utimesSync(file, when, when);
}

/** Ten incidents and ten videos of 256 KB, 39, 37, ..., 1 days old, the folders taking turns. */
function fill(base: string): string[] {
  const byAge: string[] = [];
  for (let i = 0; i < 20; i++) {
    const age = 39 - 2 * i;
    const file = i % 2 === 0 ? path.join(base, 'offline_incidents', `offline_incident_${i}.txt`) : path.join(base, 'mock_sparse_ai_cloud', `cam_${i}.mp4`);
    put(file, 256 * KB, age);
    byAge.push(file);
  }
  return byAge; // oldest first
}

interface PressureJson {
  totals: { deleted: number; bytesFreed: number; held: number };
  diskPressure: {
    target: string;
    filesystems: { mount: string; freeBefore: number; freeAfter: number; targetBytes: number; toDelete: number; deleted: number; bytesFreed: number; reached: boolean }[];
  } | null;
}

const why = 'mounting a tmpfs needs root (skipped elsewhere, as the README says)';

describe('--min-free on a real file system', () => {
  it('deletes exactly the oldest files, both folders together, until the target is free; logged with the reason', async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk);
    put(path.join(disk, 'filler.bin'), 2 * MB, 0); // not ours: never touched
    const before = free(disk);
    // about 1 MB more than free now (less 64 KB for the state file the run writes on this disk):
    // four files of 256 KB must go, the four oldest
    const target = before + 1 * MB - 64 * KB;
    const log = path.join(tempDir(), 'c.log');
    const r = await runCli(['--base-dir', disk, '--days', '60', '--min-free', `${target}B`, '--json', '--log-file', log]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PressureJson;
    const gone = byAge.filter((f) => !fs.existsSync(f));
    expect(gone).toEqual(byAge.slice(0, 4));
    expect(free(disk)).toBeGreaterThanOrEqual(target);
    expect(fs.existsSync(path.join(disk, 'filler.bin'))).toBe(true);
    expect(doc.diskPressure?.target).toBe(`${target}B`);
    expect(doc.diskPressure?.filesystems).toEqual([
      expect.objectContaining({ mount: disk, targetBytes: target, toDelete: 4, deleted: 4, bytesFreed: 4 * 256 * KB, reached: true }),
    ]);
    // measured once the run had begun (its state file takes a page of this disk)
    expect(doc.diskPressure?.filesystems[0]?.freeBefore).toBeGreaterThan(before - 64 * KB);
    expect(doc.diskPressure?.filesystems[0]?.freeBefore).toBeLessThanOrEqual(before);
    expect(doc.diskPressure?.filesystems[0]?.freeAfter).toBe(free(disk));
    expect(doc.totals.deleted).toBe(4);
    const lines = logLines(fs.readFileSync(log, 'utf8')).filter((l) => l.msg === 'cleanup: deleted (disk pressure)');
    expect(lines.map((l) => l.path).sort()).toEqual(byAge.slice(0, 4).sort());
    expect(lines.every((l) => l.reason === 'disk-pressure')).toBe(true);
  });

  it('in a worker thread too (VIGINT_CLEANUP_WORKERS_FROM under the entries): the same choice, every deletion logged', async (ctx) => {
    const disk = smallDisk(16 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk);
    // young, empty files: enough entries for worker threads; never deleted (age, --keep-newest)
    const young = new Date(Date.now() - 0.5 * DAY);
    const youngFiles = 300;
    for (let i = 0; i < youngFiles; i++) {
      const f = path.join(disk, 'offline_incidents', `offline_incident_young_${i}.txt`);
      fs.closeSync(fs.openSync(f, 'w'));
      fs.utimesSync(f, young, young);
    }
    const target = free(disk) + 1 * MB - 64 * KB;
    const log = path.join(tempDir(), 'c.log');
    const r = await runCli(['--base-dir', disk, '--days', '60', '--min-free', `${target}B`, '--json', '--log-file', log], { env: { VIGINT_CLEANUP_WORKERS_FROM: '200' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(byAge.filter((f) => !fs.existsSync(f))).toEqual(byAge.slice(0, 4));
    expect(fs.readdirSync(path.join(disk, 'offline_incidents')).filter((n) => n.includes('_young_'))).toHaveLength(youngFiles);
    // (in worker threads indeed: the run's first line says how many)
    expect(logLines(fs.readFileSync(log, 'utf8')).find((l) => String(l.msg).startsWith('Running automatic cleanup'))?.workers).toBeGreaterThan(0);
    const doc = JSON.parse(r.stdout) as PressureJson;
    expect(doc.diskPressure?.filesystems[0]).toMatchObject({ toDelete: 4, deleted: 4, bytesFreed: 4 * 256 * KB, reached: true });
    expect(doc.totals.deleted).toBe(4);
    const lines = logLines(fs.readFileSync(log, 'utf8')).filter((l) => l.msg === 'cleanup: deleted (disk pressure)');
    expect(lines.map((l) => l.path).sort()).toEqual(byAge.slice(0, 4).sort());
    expect(lines.every((l) => l.reason === 'disk-pressure')).toBe(true);
  });

  it('a dry run shows the same choice and deletes nothing', async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk);
    put(path.join(disk, 'filler.bin'), 2 * MB, 0);
    const target = free(disk) + 1 * MB - 64 * KB;
    const r = await runCli(['--base-dir', disk, '--days', '60', '--min-free', `${target}B`, '--json', '--dry-run', '--log-file', path.join(tempDir(), 'c.log')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PressureJson;
    expect(byAge.every((f) => fs.existsSync(f))).toBe(true);
    expect(doc.diskPressure?.filesystems[0]).toMatchObject({ toDelete: 4, deleted: 0, bytesFreed: 0, reached: true });
    const text = await runCli(['--base-dir', disk, '--days', '60', '--min-free', `${target}B`, '--dry-run', '--log-file', path.join(tempDir(), 'c.log')]);
    expect(text.stdout).toContain('Disk Space (target: ');
    expect(text.stdout).toContain('Files to be deleted for space: 4 (1.00 MB)');
  });

  it("a dry run's forecast counts what the age pass would free by blocks too: a sparse old video adds nothing", async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk); // 39 to 1 days old: all kept by a 50-day retention
    const sparse = path.join(disk, 'mock_sparse_ai_cloud', 'old-sparse.mp4');
    fs.closeSync(fs.openSync(sparse, 'w'));
    fs.truncateSync(sparse, 1024 * MB); // the age pass deletes it, and frees nothing
    fs.utimesSync(sparse, new Date(Date.now() - 60 * DAY), new Date(Date.now() - 60 * DAY));
    const target = free(disk) + 512 * KB - 64 * KB;
    const r = await runCli(['--base-dir', disk, '--days', '50', '--min-free', `${target}B`, '--json', '--dry-run', '--log-file', path.join(tempDir(), 'c.log')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PressureJson;
    expect(doc.diskPressure?.filesystems[0]).toMatchObject({ toDelete: 2, reached: true });
    expect(byAge.every((f) => fs.existsSync(f))).toBe(true);
  });

  it('counts what a deletion frees: a sparse video and a hard-linked file free nothing, so the pass goes on to real bytes', async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk);
    // older than everything: a 1 GB sparse video (no blocks) and a file with a second link
    const sparse = path.join(disk, 'mock_sparse_ai_cloud', 'sparse.mp4');
    fs.closeSync(fs.openSync(sparse, 'w'));
    fs.truncateSync(sparse, 1024 * MB);
    const linked = path.join(disk, 'offline_incidents', 'offline_incident_linked.txt');
    put(linked, 256 * KB, 45);
    fs.linkSync(linked, path.join(disk, 'keep-me.txt'));
    for (const f of [sparse, linked]) fs.utimesSync(f, new Date(Date.now() - 45 * DAY), new Date(Date.now() - 45 * DAY));
    const target = free(disk) + 512 * KB - 64 * KB;
    const r = await runCli(['--base-dir', disk, '--days', '60', '--min-free', `${target}B`, '--json', '--log-file', path.join(tempDir(), 'c.log')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PressureJson;
    // the two that free nothing went (they are the oldest), and then the two oldest real files
    expect(fs.existsSync(sparse)).toBe(false);
    expect(fs.existsSync(linked)).toBe(false);
    expect(byAge.filter((f) => !fs.existsSync(f))).toEqual(byAge.slice(0, 2));
    expect(doc.diskPressure?.filesystems[0]).toMatchObject({ deleted: 4, bytesFreed: 2 * 256 * KB, reached: true });
    expect(free(disk)).toBeGreaterThanOrEqual(target);
  });

  it('young files (--keep-newest) and excluded files survive; an unreachable target deletes what it may, warns, exit 1', async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const byAge = fill(disk); // ages 39, 37, ..., 1 days
    const excluded = byAge[0] as string; // the oldest
    const r = await runCli([
      '--base-dir', disk, '--days', '60', '--min-free', '100%', '--keep-newest', '10',
      '--exclude', `offline_incidents/${path.basename(excluded)}`,
      '--json', '--log-file', path.join(tempDir(), 'c.log'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`the free-space target 100% was not reached on ${disk}: .* free of .* wanted`));
    const doc = JSON.parse(r.stdout) as PressureJson;
    expect(doc.diskPressure?.filesystems[0]?.reached).toBe(false);
    const survivors = byAge.filter((f) => fs.existsSync(f));
    // ages 9, 7, 5, 3, 1 are younger than 10 days; the oldest is excluded
    expect(survivors).toEqual([excluded, ...byAge.slice(15)]);
    expect(doc.totals.held).toBe(1);
  });
});

describe('the built-in cleanup with minFree', () => {
  it('notify() looks at the free space (at most once a minute) and cleans up under the target, within the interval', async (ctx) => {
    const disk = smallDisk(8 * MB);
    if (!disk) return ctx.skip(why);
    const T0 = Date.now();
    put(path.join(disk, 'offline_incidents', 'offline_incident_old.txt'), 256 * KB, 40); // the age pass's
    put(path.join(disk, 'offline_incidents', 'offline_incident_10d.txt'), 256 * KB, 10); // kept by age
    put(path.join(disk, 'offline_incidents', 'offline_incident_today.txt'), 256 * KB, 0.1); // never
    let now = T0;
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: disk, retentionDays: 30, intervalHours: 24, minFree: '2MB', logger: log.logger, now: () => now, env: {} });
    auto.notify();
    await auto.idle();
    expect(fs.existsSync(path.join(disk, 'offline_incidents', 'offline_incident_old.txt'))).toBe(false);
    expect(fs.existsSync(path.join(disk, 'offline_incidents', 'offline_incident_10d.txt'))).toBe(true);
    // the disk fills up (not with our files): 2 MB wanted, less is free now
    put(path.join(disk, 'filler.bin'), free(disk) - 1 * MB, 0);
    now = T0 + 2 * 60_000; // within the interval, past the minute
    auto.notify();
    await auto.idle();
    expect(fs.existsSync(path.join(disk, 'offline_incidents', 'offline_incident_10d.txt'))).toBe(false);
    expect(fs.existsSync(path.join(disk, 'offline_incidents', 'offline_incident_today.txt'))).toBe(true);
    const msgs = log.lines.map((l) => String(l.msg));
    expect(msgs).toContain('cleanup: free space is under the target; cleaning up before the interval is over');
    expect(msgs.filter((m) => m === 'cleanup: deleted (disk pressure)')).toHaveLength(1);
    // within the minute: the space is not looked at again, nothing runs
    const runs = msgs.filter((m) => m.startsWith('Running automatic cleanup')).length;
    now += 10_000;
    auto.notify();
    await auto.idle();
    expect(log.lines.map((l) => String(l.msg)).filter((m) => m.startsWith('Running automatic cleanup')).length).toBe(runs);
    await auto.stop();
  });
});

describe('--min-free usage', () => {
  it('bad targets and a --keep-newest without a target are usage errors (exit 2), nothing deleted', async () => {
    const base = tempDir();
    put(path.join(base, 'offline_incidents', 'offline_incident_1.txt'), 10, 40);
    for (const args of [['--min-free', '10'], ['--min-free', '0%'], ['--min-free', '101%'], ['--min-free', 'lots'], ['--keep-newest', '2'], ['--min-free', '1GB', '--keep-newest', '-1']]) {
      const r = await runCli(['--base-dir', base, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^vigint-cleanup: /);
    }
    expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_1.txt'))).toBe(true);
  });
});
