import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_NAME } from '../../src/lock.js';
import { STATE_NAME } from '../../src/state.js';
import { BIN, logLines, runCli } from '../helpers/cli.js';
import { HOUR, listTree, makeTree, present, tempDir } from '../helpers/tree.js';

/** The tree most tests start from: 2 old + 1 recent incident, 1 old + 1 recent video pair, decoys. */
function standardTree(): string {
  const base = tempDir();
  const outside = tempDir();
  fs.writeFileSync(path.join(outside, 'evidence.mp4'), 'outside');
  fs.utimesSync(path.join(outside, 'evidence.mp4'), new Date(0), new Date(0));
  makeTree(base, {
    'offline_incidents/offline_incident_20260101.txt': { ageDays: 40, size: 2048 },
    'offline_incidents/offline_incident_20260102.txt': { ageDays: 31, size: 1024 },
    'offline_incidents/offline_incident_20261120.txt': { ageDays: 5, size: 4096 },
    'offline_incidents/notes.txt': { ageDays: 400 },
    'offline_incidents/offline_incident_dir.txt': { type: 'dir', ageDays: 400 },
    'mock_sparse_ai_cloud/old.mp4': { ageDays: 35, size: 1_048_576 },
    'mock_sparse_ai_cloud/old.json': { ageDays: 35, size: 100 },
    'mock_sparse_ai_cloud/new.mp4': { ageDays: 1, size: 2_097_152 },
    'mock_sparse_ai_cloud/new.json': { ageDays: 1, size: 200 },
    'mock_sparse_ai_cloud/OLD.MP4': { ageDays: 400 },
    'mock_sparse_ai_cloud/.hidden.mp4': { ageDays: 400 },
    'mock_sparse_ai_cloud/nested/deep.mp4': { ageDays: 400 },
    'mock_sparse_ai_cloud/link-out.mp4': { type: 'symlink', target: path.join(outside, 'evidence.mp4'), ageDays: 400 },
  });
  return base;
}

const STANDARD_SURVIVORS = [
  'mock_sparse_ai_cloud/',
  'mock_sparse_ai_cloud/.hidden.mp4',
  'mock_sparse_ai_cloud/OLD.MP4',
  'mock_sparse_ai_cloud/link-out.mp4',
  'mock_sparse_ai_cloud/nested/',
  'mock_sparse_ai_cloud/nested/deep.mp4',
  'mock_sparse_ai_cloud/new.json',
  'mock_sparse_ai_cloud/new.mp4',
  'offline_incidents/',
  'offline_incidents/notes.txt',
  'offline_incidents/offline_incident_20261120.txt',
  'offline_incidents/offline_incident_dir.txt/',
];

describe('vigint-cleanup (the built program)', () => {
  it('--dry-run prints the summary, deletes nothing, logs each would-be deletion', async () => {
    const base = standardTree();
    const before = listTree(base);
    const r = await runCli(['--dry-run'], { cwd: base });
    expect(r.code).toBe(0);
    expect(listTree(base)).toEqual(before);
    expect(r.stdout).toBe(
      [
        '='.repeat(70),
        'DRY RUN: AUTOMATIC CLEANUP - Retention: 30 days',
        '='.repeat(70),
        '',
        'Offline Incidents Cleanup Summary:',
        '  Total files found: 3',
        '  Files to be deleted: 2',
        '  Total size: 0.01 MB',
        '',
        'Mock Videos Cleanup Summary:',
        '  Total files found: 4 (2 videos, 2 metadata)',
        '  Files to be deleted: 2',
        '  Total size: 3.00 MB',
        '',
        'TOTAL CLEANUP SUMMARY',
        'Files to be deleted: 4',
        'Space to be freed: 1.00 MB',
        '',
      ].join('\n'),
    );
    const logs = logLines(r.stderr);
    expect(logs[0]?.msg).toBe('Running automatic cleanup (retention: 30 days)');
    expect(logs.filter((l) => (l.msg as string).includes('cleanup') && l.dryRun === true && l.path).length).toBe(4);
    expect(logs.at(-1)?.msg).toBe('Cleanup complete (dry run): 4 files would be deleted, 1.00 MB would be freed');
  });

  it('a real run deletes exactly the old matching regular files and reports them', async () => {
    const base = standardTree();
    const r = await runCli(['--base-dir', base]);
    expect(r.code).toBe(0);
    expect(listTree(base)).toEqual([STATE_NAME, ...STANDARD_SURVIVORS].sort());
    expect(r.stdout).toContain('\nAUTOMATIC CLEANUP - Retention: 30 days\n');
    expect(r.stdout.endsWith('TOTAL CLEANUP SUMMARY\nFiles deleted: 4\nSpace freed: 1.00 MB\n')).toBe(true);
    const deletions = logLines(r.stderr).filter((l) => l.msg === 'cleanup: deleted');
    expect(deletions.map((l) => path.relative(base, l.path as string)).sort()).toEqual([
      'mock_sparse_ai_cloud/old.json',
      'mock_sparse_ai_cloud/old.mp4',
      'offline_incidents/offline_incident_20260101.txt',
      'offline_incidents/offline_incident_20260102.txt',
    ]);
    for (const d of deletions) {
      expect(typeof d.size).toBe('number');
      expect(Number.isNaN(Date.parse(d.mtime as string))).toBe(false);
    }
    expect(logLines(r.stderr).at(-1)?.msg).toBe('Cleanup complete: 4 files deleted, 1.00 MB freed');
    expect(present(path.join(base, LOCK_NAME))).toBe(false);
  });

  it('--json prints one document with the counts and bytes, nothing else on stdout', async () => {
    const base = standardTree();
    const r = await runCli(['--json', '--videos-only', '--log-file', path.join(base, 'c.log')], { cwd: base });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toEqual({
      dryRun: false,
      retentionDays: 30,
      cutoff: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      baseDir: base,
      categories: {
        videos: {
          dir: path.join(base, 'mock_sparse_ai_cloud'),
          found: 4,
          bytesFound: 1_048_576 + 100 + 2_097_152 + 200,
          toDelete: 2,
          bytesToDelete: 1_048_676,
          deleted: 2,
          bytesFreed: 1_048_676,
          failed: 0,
          skipped: 0,
          held: 0,
          bytesHeld: 0,
          videos: 2,
          metadata: 2,
        },
      },
      totals: {
        found: 4,
        bytesFound: 3_146_028,
        toDelete: 2,
        bytesToDelete: 1_048_676,
        deleted: 2,
        bytesFreed: 1_048_676,
        failed: 0,
        skipped: 0,
        held: 0,
        bytesHeld: 0,
      },
      errors: [],
      interrupted: null,
      diskPressure: null,
    });
    // --videos-only: the incidents are untouched
    expect(fs.readdirSync(path.join(base, 'offline_incidents')).length).toBe(5);
    expect(r.stderr).toBe('');
    expect(logLines(fs.readFileSync(path.join(base, 'c.log'), 'utf8')).filter((l) => l.msg === 'cleanup: deleted')).toHaveLength(2);
  });

  it('--incidents-only leaves the videos alone', async () => {
    const base = standardTree();
    const r = await runCli(['--incidents-only', '--json'], { cwd: base });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { categories: Record<string, unknown> };
    expect(Object.keys(doc.categories)).toEqual(['incidents']);
    expect(fs.existsSync(path.join(base, 'mock_sparse_ai_cloud', 'old.mp4'))).toBe(true);
    expect(fs.existsSync(path.join(base, 'offline_incidents', 'offline_incident_20260101.txt'))).toBe(false);
  });

  it('--days with decimals, an hour either side of the cutoff', async () => {
    const base = tempDir();
    makeTree(base, {
      'offline_incidents/offline_incident_a.txt': { ageMs: 12 * HOUR + HOUR },
      'offline_incidents/offline_incident_b.txt': { ageMs: 12 * HOUR - HOUR },
      'offline_incidents/offline_incident_future.txt': { ageDays: -2 },
    });
    const r = await runCli(['--days', '0.5', '--json'], { cwd: base });
    expect(r.code).toBe(0);
    expect(listTree(path.join(base, 'offline_incidents'))).toEqual(['offline_incident_b.txt', 'offline_incident_future.txt']);
    expect(JSON.parse(r.stdout)).toMatchObject({ retentionDays: 0.5, totals: { found: 3, deleted: 1 } });
    expect(logLines(r.stderr).some((l) => l.level === 40 && (l.msg as string).includes('dated in the future'))).toBe(true);
  });

  it('missing category folders: 0 found, exit 0', async () => {
    const r = await runCli(['--json'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ totals: { found: 0, failed: 0 }, errors: [] });
  });

  describe('configuration: flag > environment > .env > default', () => {
    function dated(): string {
      const base = tempDir();
      makeTree(base, {
        'offline_incidents/offline_incident_3d.txt': { ageDays: 3 },
        'offline_incidents/offline_incident_8d.txt': { ageDays: 8 },
        'offline_incidents/offline_incident_15d.txt': { ageDays: 15 },
        'offline_incidents/offline_incident_40d.txt': { ageDays: 40 },
      });
      return base;
    }
    const survivors = (base: string): string[] => fs.readdirSync(path.join(base, 'offline_incidents')).sort();

    it('default 30 days', async () => {
      const base = dated();
      expect((await runCli([], { cwd: base })).code).toBe(0);
      expect(survivors(base)).toEqual(['offline_incident_15d.txt', 'offline_incident_3d.txt', 'offline_incident_8d.txt']);
    });
    it('.env sets it', async () => {
      const base = dated();
      fs.writeFileSync(path.join(base, '.env'), 'INCIDENT_RETENTION_DAYS=10\n');
      expect((await runCli([], { cwd: base })).code).toBe(0);
      expect(survivors(base)).toEqual(['offline_incident_3d.txt', 'offline_incident_8d.txt']);
    });
    it('the environment beats .env', async () => {
      const base = dated();
      fs.writeFileSync(path.join(base, '.env'), 'INCIDENT_RETENTION_DAYS=10\n');
      expect((await runCli([], { cwd: base, env: { INCIDENT_RETENTION_DAYS: '5' } })).code).toBe(0);
      expect(survivors(base)).toEqual(['offline_incident_3d.txt']);
    });
    it('the flag beats both', async () => {
      const base = dated();
      fs.writeFileSync(path.join(base, '.env'), 'INCIDENT_RETENTION_DAYS=10\n');
      expect((await runCli(['--days', '20'], { cwd: base, env: { INCIDENT_RETENTION_DAYS: '5' } })).code).toBe(0);
      expect(survivors(base)).toEqual(['offline_incident_15d.txt', 'offline_incident_3d.txt', 'offline_incident_8d.txt']);
    });
    it('VIGINT_BASE_DIR and VIGINT_LOG_FILE from .env', async () => {
      const base = dated();
      const work = tempDir();
      fs.writeFileSync(path.join(work, '.env'), `VIGINT_BASE_DIR=${base}\nVIGINT_LOG_FILE=run.log\n`);
      const r = await runCli(['--json'], { cwd: work });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ baseDir: base, totals: { deleted: 1 } });
      expect(r.stderr).toBe('');
      const log = logLines(fs.readFileSync(path.join(work, 'run.log'), 'utf8'));
      expect(log.filter((l) => l.msg === 'cleanup: deleted').map((l) => path.basename(l.path as string))).toEqual(['offline_incident_40d.txt']);
    });
  });

  describe('usage errors: exit 2, one clear line, nothing deleted', () => {
    const bad: [string, string[], Record<string, string>, RegExp][] = [
      ['--days abc', ['--days', 'abc'], {}, /invalid --days 'abc': expected a number greater than 0/],
      ['--days -1', ['--days', '-1'], {}, /invalid --days '-1'/],
      ['--days 0', ['--days', '0'], {}, /invalid --days '0'/],
      ['--days empty', ['--days', ''], {}, /invalid --days ''/],
      ['--days 30x', ['--days', '30x'], {}, /invalid --days '30x'/],
      ['--days 1e999', ['--days', '1e999'], {}, /invalid --days '1e999'/],
      ['--days NaN', ['--days', 'NaN'], {}, /invalid --days 'NaN'/],
      ['--days without a value', ['--days'], {}, /argument missing/],
      ['bad INCIDENT_RETENTION_DAYS', [], { INCIDENT_RETENTION_DAYS: 'thirty' }, /invalid INCIDENT_RETENTION_DAYS 'thirty'/],
      ['empty INCIDENT_RETENTION_DAYS', [], { INCIDENT_RETENTION_DAYS: '' }, /invalid INCIDENT_RETENTION_DAYS ''/],
      ['bad LOG_LEVEL', [], { LOG_LEVEL: 'chatty' }, /invalid LOG_LEVEL 'chatty'/],
      ['both -only flags', ['--incidents-only', '--videos-only'], {}, /--incidents-only and --videos-only exclude each other/],
      ['an unknown flag', ['--dry-rn'], {}, /unknown option '--dry-rn'.*--dry-run/],
      ['an unexpected argument', ['now'], {}, /unexpected argument/],
      ['a base folder that does not exist', ['--base-dir', '/nonexistent/vigint'], {}, /base folder \/nonexistent\/vigint cannot be used \(ENOENT\)/],
      ['a log file that cannot be opened', ['--log-file', '/nonexistent/dir/x.log'], {}, /cannot open the log file \/nonexistent\/dir\/x.log \(ENOENT\)/],
    ];
    it.each(bad)('%s', async (_label, args, env, message) => {
      const base = standardTree();
      const before = listTree(base);
      const r = await runCli(args, { cwd: base, env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^vigint-cleanup: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(listTree(base)).toEqual(before);
    });
  });

  it('--help and --version print to stdout and exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--days', '--dry-run', '--incidents-only', '--videos-only', '--base-dir', '--json', '--log-file']) {
      expect(help.stdout).toContain(flag);
    }
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  describe('the lock', () => {
    /** The lock is a symbolic link to nothing: fs.existsSync, which follows it, would call it absent. */
    const linkExists = (p: string): boolean => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;

    it('another live run holds it: exit 75, nothing deleted', async () => {
      const base = standardTree();
      const holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: 'live' };
      fs.writeFileSync(path.join(base, LOCK_NAME), JSON.stringify(holder));
      const before = listTree(base);
      const r = await runCli([], { cwd: base });
      expect(r.code).toBe(75);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`another cleanup of ${base} is running (pid ${process.pid}`);
      expect(listTree(base)).toEqual(before);
      expect(fs.readFileSync(path.join(base, LOCK_NAME), 'utf8')).toBe(JSON.stringify(holder));
    });

    it('a dry run ignores it', async () => {
      const base = standardTree();
      fs.writeFileSync(path.join(base, LOCK_NAME), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: '', token: 'x' }));
      expect((await runCli(['--dry-run'], { cwd: base })).code).toBe(0);
    });

    it('a run stopped (SIGSTOP) while it holds the lock: a second run exits 75 naming it; resumed, the first finishes', async () => {
      const base = tempDir();
      const spec: Record<string, { ageDays: number }> = {};
      for (let i = 0; i < 10_000; i++) spec[`offline_incidents/offline_incident_${i}.txt`] = { ageDays: 40 };
      makeTree(base, spec);
      const lock = path.join(base, LOCK_NAME);
      const first = spawn(process.execPath, [BIN, '--json', '--log-file', path.join(base, 'c.log')], { cwd: base, stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      first.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => first.on('close', resolve));
      try {
        const until = Date.now() + 60_000;
        // lstat, not existsSync: the lock is a link to nothing, which existsSync calls absent
        while (!linkExists(lock) && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
        first.kill('SIGSTOP');
        expect(fs.readlinkSync(lock)).toMatch(new RegExp(`^vcl1:${first.pid}:`));
        const second = await runCli(['--json'], { cwd: base });
        expect(second.code).toBe(75);
        expect(second.stdout).toBe('');
        expect(second.stderr).toContain(`another cleanup of ${base} is running (pid ${first.pid}`);
      } finally {
        first.kill('SIGCONT');
      }
      expect(await exited).toBe(0);
      expect((JSON.parse(stdout) as { totals: { deleted: number } }).totals.deleted).toBe(10_000);
      expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual([]);
      expect(linkExists(lock)).toBe(false);
    });

    it('two real runs at once delete each file once, and never both run', async () => {
      const base = tempDir();
      const spec: Record<string, { ageDays: number }> = {};
      for (let i = 0; i < 3000; i++) spec[`offline_incidents/offline_incident_${i}.txt`] = { ageDays: i % 2 ? 40 : 10 };
      makeTree(base, spec);
      const runs = await Promise.all([0, 1, 2].map(() => runCli(['--json'], { cwd: base })));
      const codes = runs.map((r) => r.code).sort();
      for (const code of codes) expect([0, 75]).toContain(code);
      expect(codes).toContain(0);
      const deleted = runs.filter((r) => r.code === 0).map((r) => (JSON.parse(r.stdout) as { totals: { deleted: number; failed: number } }).totals);
      expect(deleted.reduce((a, t) => a + t.deleted, 0)).toBe(1500);
      expect(deleted.reduce((a, t) => a + t.failed, 0)).toBe(0);
      expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toHaveLength(1500);
      expect(linkExists(path.join(base, LOCK_NAME))).toBe(false);
    });
  });
});
