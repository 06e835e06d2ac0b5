/**
 * The audit trail: a file that is gone has its `cleanup: deleted` line, whatever happens to the
 * run (a signal, SIGKILL, a log that cannot be written). The real program is spawned on trees
 * large enough for the signal to land mid-run; the tests wait for the log to grow, never a
 * fixed time.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_NAME } from '../../src/lock.js';
import { BIN, ROOT, isRoot, scannerEnv } from '../helpers/cli.js';
import { bigTree, deletedLines, gone, start, waitForDeletions } from '../helpers/spawned.js';
import { DAY, present, tempDir } from '../helpers/tree.js';


const COUNT = 25_000;

describe('a run stopped by a signal', () => {
  const trees: string[] = [];
  afterAll(() => {
    for (const t of trees) fs.rmSync(t, { recursive: true, force: true });
  });

  for (const [signal, status] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal}: stops deleting, every deleted file has its line, lock released, report, exit ${status}; the next run finishes`, async () => {
      const base = tempDir();
      trees.push(base);
      const { old } = bigTree(base, COUNT);
      const logFile = path.join(base, 'cleanup.log');
      const run = start(['--log-file', logFile, ...(signal === 'SIGINT' ? ['--json'] : [])], base);
      await waitForDeletions(logFile, 2000);
      const sentAt = Date.now();
      run.child.kill(signal);
      const { code } = await run.exit;
      expect(Date.now() - sentAt).toBeLessThan(2000);
      expect(code).toBe(status);

      const log = fs.readFileSync(logFile, 'utf8');
      const { paths, broken } = deletedLines(log);
      expect(broken).toBe(0);
      // path by path: what is gone is exactly what the log says was deleted
      expect(paths.sort()).toEqual(gone(old).sort());
      expect(paths.length).toBeLessThan(old.size); // it did stop early
      expect(log).toContain(`"msg":"cleanup: interrupted by ${signal}"`);
      expect(present(path.join(base, LOCK_NAME))).toBe(false);
      if (signal === 'SIGINT') {
        const report = JSON.parse(run.stdout()) as { interrupted: string; totals: { deleted: number } };
        expect(report.interrupted).toBe('SIGINT');
        expect(report.totals.deleted).toBe(paths.length);
      } else {
        expect(run.stdout()).toContain(`Interrupted by ${signal}: the run stopped early; run it again to finish.`);
        expect(run.stdout()).toContain(`Files deleted: ${paths.length}\n`);
      }

      const again = start(['--log-file', logFile, '--json'], base);
      expect((await again.exit).code).toBe(0);
      expect(gone(old)).toHaveLength(old.size);
      expect(deletedLines(fs.readFileSync(logFile, 'utf8')).paths).toHaveLength(old.size);
      expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toHaveLength(COUNT);
      expect(JSON.parse(again.stdout()).interrupted).toBeNull();
    });
  }

  // (in worker threads, VIGINT_CLEANUP_WORKERS_FROM under the 100,000 entries; and in the main
  // thread, 36,000 entries, where the unlinks go in batches of the native scanner's threads:
  // killed after 1,000 lines, it is mid-run there too)
  it.each([
    ['in worker threads', COUNT, 3000, { VIGINT_CLEANUP_WORKERS_FROM: '10000' }],
    ['in the main thread', 9_000, 1000, {}],
  ] as const)('SIGKILL, %s: at most 256 deleted files lack their line; the next run takes the lock over and finishes', async (_, count, after, env) => {
    const base = tempDir();
    trees.push(base);
    const { old } = bigTree(base, count);
    const logFile = path.join(base, 'cleanup.log');
    const run = start(['--log-file', logFile], base, 'pipe', env);
    await waitForDeletions(logFile, after);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(gone(old).length).toBeLessThan(old.size); // killed mid-run
    const first = JSON.parse(fs.readFileSync(logFile, 'utf8').split('\n')[0] as string) as { workers: number; scanner: string };
    expect(first.workers === 0).toBe(count < 10_000 && first.scanner === 'native');
    const logged = new Set(deletedLines(fs.readFileSync(logFile, 'utf8')).paths);
    const missing = gone(old).filter((f) => !logged.has(f));
    expect(missing.length).toBeLessThanOrEqual(256);
    for (const f of logged) expect(fs.existsSync(f)).toBe(false); // no line for a file still there

    const again = start(['--log-file', logFile], base);
    expect((await again.exit).code).toBe(0);
    expect(gone(old)).toHaveLength(old.size);
  });

  it('a dry run stops promptly too, and status', async () => {
    const base = tempDir();
    trees.push(base);
    bigTree(base, COUNT);
    const logFile = path.join(base, 'dry.log');
    const dry = start(['--dry-run', '--log-file', logFile], base);
    const until = Date.now() + 60_000;
    while (!(fs.existsSync(logFile) && fs.statSync(logFile).size > 50_000) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    dry.child.kill('SIGTERM');
    expect((await dry.exit).code).toBe(143);
    expect(dry.stdout()).toContain('DRY RUN: AUTOMATIC CLEANUP');
    expect(dry.stdout()).toContain('Interrupted by SIGTERM');
  });
});

describe('a log that cannot be written', () => {
  it('a closed standard error: deleting stops within 256 files, the report is printed, exit 1', async () => {
    const base = tempDir();
    const { old } = bigTree(base, 5000);
    // the reading end of its standard error closed before it starts: every write fails (EPIPE)
    const child = spawn(process.execPath, [BIN, '--json'], { cwd: base, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.destroy();
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { totals: { deleted: number } };
    expect(report.totals.deleted).toBeLessThanOrEqual(256);
    expect(gone(old).length).toBe(report.totals.deleted);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('a full log file system: stops within 256 unlogged deletions, says so on stderr, exit 1', async (ctx) => {
    if (!isRoot) return ctx.skip(); // mounting a small file system needs root
    const base = tempDir();
    const { old } = bigTree(base, 10_000);
    const mnt = tempDir('vigint-logfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      fs.rmSync(base, { recursive: true, force: true });
      return ctx.skip(); // no mount here (an unprivileged container): stated in the README
    }
    try {
      const logFile = path.join(mnt, 'cleanup.log');
      const run = start(['--log-file', logFile], base);
      const { code } = await run.exit;
      expect(code).toBe(1);
      const text = fs.readFileSync(logFile, 'utf8');
      // Whole lines only, even on a full disk: a line the disk had room for in part is cut back.
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.split('\n').slice(0, -1)) expect(() => JSON.parse(line)).not.toThrow();
      const { paths } = deletedLines(text);
      const goneNow = gone(old);
      expect(goneNow.length - paths.length).toBeLessThanOrEqual(256);
      expect(goneNow.length).toBeLessThan(old.size);
      expect(run.stderr()).toContain(
        `vigint-cleanup: cannot write the log (${logFile}): ENOSPC no space left on device; stopped after ${goneNow.length} deletions\n`,
      );
      expect(run.stdout()).toContain(`Files deleted: ${goneNow.length}\n`);
      expect(present(path.join(base, LOCK_NAME))).toBe(false);
    } finally {
      execFileSync('umount', [mnt]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("the built-in cleanup's own log on the full disk it cleans (its standard error is a file there)", () => {
  /** A host that runs one cleanup of BASE with WORKERS workers, its log on standard error. */
  const HOST = `
import { createAutoCleanup } from 'vigint-cleanup';
const auto = createAutoCleanup({ baseDir: process.env.BASE, workers: Number(process.env.WORKERS) });
auto.notify();
await auto.idle();
`;
  const COUNT = 3_000;

  for (const workers of [1, 0]) {
    it(`workers: ${workers}: the deletions make room for their own lines; all ${COUNT} files deleted and logged`, async (ctx) => {
      if (!isRoot) return ctx.skip('mounting a small file system needs root');
      const mnt = tempDir('vigint-fullfs-');
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mnt], { stdio: 'ignore' });
      } catch {
        fs.rmSync(mnt, { recursive: true, force: true });
        return ctx.skip('no mount here (an unprivileged container)');
      }
      try {
        const base = path.join(mnt, 'base');
        const dir = path.join(base, 'offline_incidents');
        fs.mkdirSync(dir, { recursive: true });
        const then = new Date(Date.now() - 40 * DAY);
        const page = Buffer.alloc(4096, 0x61);
        for (let i = 0; i < COUNT; i++) {
          const file = path.join(dir, `offline_incident_${i}.txt`);
          fs.writeFileSync(file, page);
          fs.utimesSync(file, then, then);
        }
        const logFile = path.join(mnt, 'host.err');
        const logFd = fs.openSync(logFile, 'a');
        // the rest of the file system: full to the last page
        const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
        const block = Buffer.alloc(1 << 20);
        for (let size = block.length; size >= 4096; ) {
          try {
            fs.writeSync(filler, block, 0, size);
          } catch {
            size >>= 1;
          }
        }
        fs.closeSync(filler);
        const child = spawn(process.execPath, ['--input-type=module', '-e', HOST], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BASE: base, WORKERS: String(workers), ...scannerEnv() },
          stdio: ['ignore', 'ignore', logFd],
        });
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        fs.closeSync(logFd);
        expect(code).toBe(0);
        expect(fs.readdirSync(dir)).toEqual([]);
        const text = fs.readFileSync(logFile, 'utf8');
        const { paths, broken } = deletedLines(text);
        expect(broken).toBe(0);
        expect(new Set(paths).size).toBe(COUNT);
        expect(paths).toHaveLength(COUNT);
        expect(text).toContain(`"msg":"Cleanup complete: ${COUNT} files deleted, 11.72 MB freed"`);
      } finally {
        execFileSync('umount', [mnt]);
        fs.rmSync(mnt, { recursive: true, force: true });
      }
    });
  }
});

describe('category folders that are not there', () => {
  it('a category folder that is a link to nothing (a disk not mounted) is a failure, named; the other is cleaned', async () => {
    const base = tempDir();
    fs.symlinkSync('/nonexistent/disk/videos', path.join(base, 'mock_sparse_ai_cloud'));
    fs.mkdirSync(path.join(base, 'offline_incidents'));
    const old = path.join(base, 'offline_incidents', 'offline_incident_1.txt');
    fs.writeFileSync(old, 'x');
    const then = new Date(Date.now() - 40 * DAY);
    fs.utimesSync(old, then, then);
    for (const args of [['--json'], ['--json', '--dry-run']]) {
      const run = start(args, base);
      expect((await run.exit).code).toBe(1);
      const report = JSON.parse(run.stdout()) as { categories: { videos: { failed: number } }; errors: { path: string; code: string }[] };
      expect(report.categories.videos.failed).toBe(1);
      expect(report.errors).toEqual([expect.objectContaining({ path: path.join(base, 'mock_sparse_ai_cloud'), code: 'ENOENT' })]);
    }
    // the text report names the folder where its figures are, not "0 files" alone
    const text = start(['--dry-run'], base);
    expect((await text.exit).code).toBe(1);
    expect(text.stdout()).toContain(`Mock Videos Cleanup Summary:\n  Folder could not be read (ENOENT): ${path.join(base, 'mock_sparse_ai_cloud')}\n`);
    expect(fs.existsSync(old)).toBe(false);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('a base folder holding neither category folder: a warning on stderr, exit 0', async () => {
    const base = tempDir();
    const run = start(['--dry-run'], base);
    expect((await run.exit).code).toBe(0);
    expect(run.stderr()).toContain(`vigint-cleanup: warning: ${base} holds neither offline_incidents/ nor mock_sparse_ai_cloud/`);
    fs.rmSync(base, { recursive: true, force: true });
  });
});

describe('names that are not valid UTF-8', () => {
  it('are matched as bytes, deleted and logged with \\xNN escapes', async () => {
    const base = tempDir();
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir, { recursive: true });
    const raw = Buffer.concat([Buffer.from(`${dir}/offline_incident_`), Buffer.from([0xff]), Buffer.from('.txt')]);
    const young = Buffer.concat([Buffer.from(`${dir}/offline_incident_`), Buffer.from([0xfe]), Buffer.from('.txt')]);
    fs.writeFileSync(raw, 'old');
    fs.writeFileSync(young, 'young');
    const then = new Date(Date.now() - 40 * DAY);
    fs.utimesSync(raw, then, then);
    const logFile = path.join(base, 'c.log');
    const dry = start(['--dry-run', '--json', '--log-file', logFile], base);
    expect((await dry.exit).code).toBe(0);
    expect(JSON.parse(dry.stdout()).categories.incidents).toMatchObject({ found: 2, toDelete: 1 });
    const run = start(['--json', '--log-file', logFile], base);
    expect((await run.exit).code).toBe(0);
    expect(JSON.parse(run.stdout()).categories.incidents).toMatchObject({ found: 2, deleted: 1, failed: 0 });
    expect(fs.existsSync(raw)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
    const { paths } = deletedLines(fs.readFileSync(logFile, 'utf8'));
    expect(paths).toEqual([`${dir}/offline_incident_\\xff.txt`]);
    fs.rmSync(base, { recursive: true, force: true });
  });
});

describe('the audit trail and LOG_LEVEL', () => {
  it('deleted files have their lines at every level, silent included; other lines follow the level', async () => {
    for (const level of ['warn', 'silent']) {
      const base = tempDir();
      const { old } = bigTree(base, 50);
      const logFile = path.join(base, 'c.log');
      fs.writeFileSync(path.join(base, '.env'), `LOG_LEVEL=${level}\n`);
      const run = start(['--log-file', logFile], base);
      const { code } = await run.exit;
      expect(code).toBe(0);
      const text = fs.readFileSync(logFile, 'utf8');
      expect(deletedLines(text).paths.sort()).toEqual([...old].sort());
      expect(text).not.toContain('Running automatic cleanup');
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('standard error closed before the start (2>&-, which Node turns into /dev/null)', () => {
  it('a real run without --log-file deletes nothing, exit 1; with --log-file it runs; a dry run runs', async () => {
    const base = tempDir();
    const { old } = bigTree(base, 20);
    const closed = (args: string[]) => start(args, base, 'ignore-stderr');
    expect((await closed([]).exit).code).toBe(1);
    expect(gone(old)).toEqual([]);
    expect((await closed(['--dry-run']).exit).code).toBe(0);
    const logFile = path.join(base, 'c.log');
    expect((await closed(['--log-file', logFile]).exit).code).toBe(0);
    expect(gone(old).length).toBe(old.size);
    expect(deletedLines(fs.readFileSync(logFile, 'utf8')).paths.length).toBe(old.size);
    fs.rmSync(base, { recursive: true, force: true });
  });
});

describe('the current folder deleted while a run goes on', () => {
  it('the run finishes, prints its report and records its end (exit 0)', async () => {
    const base = tempDir();
    const { old } = bigTree(base, 25_000);
    const cwd = tempDir('vigint-cwd-');
    const logFile = path.join(base, 'c.log');
    const run = start(['--base-dir', base, '--log-file', logFile, '--json'], cwd);
    await waitForDeletions(logFile, 500);
    fs.rmdirSync(cwd);
    const { code } = await run.exit;
    expect(run.stderr()).toBe('');
    expect(code).toBe(0);
    expect((JSON.parse(run.stdout()) as { totals: { deleted: number } }).totals.deleted).toBe(old.size);
    expect(JSON.parse(fs.readFileSync(path.join(base, '.vigint-cleanup-state.json'), 'utf8'))).toMatchObject({ lastExitStatus: 0 });
    fs.rmSync(base, { recursive: true, force: true });
  }, 120_000);
});

describe('log lines on a pipe (systemd\'s journal, | tee)', () => {
  it('two workers, one writer: every line whole, one deletion line per deleted file', async () => {
    const base = tempDir();
    const { old } = bigTree(base, 25_000);
    const run = start([], base); // the log on standard error, a pipe read by this test
    const { code } = await run.exit;
    expect(code).toBe(0);
    const { paths, broken } = deletedLines(run.stderr());
    expect(broken).toBe(0);
    expect(paths.length).toBe(old.size);
    expect(new Set(paths)).toEqual(old);
    fs.rmSync(base, { recursive: true, force: true });
  }, 120_000);
});

describe('a modification time outside the range of a date (touch -d @-10000000000000)', () => {
  it('is a file like any other: deleted and logged with its raw seconds; dry run and status go on', async (ctx) => {
    // ext4 clamps such a time to 1901; tmpfs keeps it: a tmpfs of its own (as root)
    if (!isRoot) return ctx.skip('needs a tmpfs (mounted as root) to hold a time before 1901');
    const base = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', base]);
    try {
      await farPast(base);
    } finally {
      execFileSync('umount', [base]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

/** The far-past file among ordinary old ones, on a file system that keeps its time. */
async function farPast(base: string): Promise<void> {
  const { old } = bigTree(base, 100);
  const far = path.join(base, 'mock_sparse_ai_cloud', 'farpast.json');
  fs.writeFileSync(far, 'x');
  execFileSync('touch', ['-h', '-d', '@-10000000000000', far]);
  const logFile = path.join(base, 'c.log');
  for (const args of [['--dry-run', '--json'], ['status', '--json']]) {
    const r = start([...args, '--log-file', logFile].filter((a) => !(args[0] === 'status' && (a === '--log-file' || a === logFile))), base);
    expect((await r.exit).code).toBe(0);
    expect(() => JSON.parse(r.stdout())).not.toThrow();
  }
  const real = start(['--json', '--log-file', logFile], base);
  expect((await real.exit).code).toBe(0);
  expect((JSON.parse(real.stdout()) as { totals: { deleted: number } }).totals.deleted).toBe(old.size + 1);
  expect(fs.existsSync(far)).toBe(false);
  const line = fs.readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('farpast.json') && l.includes('"cleanup: deleted"'));
  expect(JSON.parse(line as string)).toMatchObject({ path: far, mtime: '@-10000000000000' });
}
