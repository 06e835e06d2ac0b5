import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLEANUP_LOCK_NAME, acknowledgeHolds } from '../../src/hold-ack.js';
import { HOLDS_NAME, holdsVersion } from '../../src/holds.js';
import { runCli } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

function tree(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_20261001_1.txt': { ageDays: 40, size: 1000 },
    'offline_incidents/offline_incident_20261001_2.txt': { ageDays: 40, size: 2000 },
    'offline_incidents/offline_incident_20261002_1.txt': { ageDays: 40, size: 4000 },
    'offline_incidents/notes_20261001.md': { ageDays: 40, size: 8 },
    'mock_sparse_ai_cloud/cam3_1.mp4': { ageDays: 40, size: 1_048_576 },
    'mock_sparse_ai_cloud/cam3_1.json': { ageDays: 40, size: 100 },
    'mock_sparse_ai_cloud/cam4_1.mp4': { ageDays: 40, size: 500 },
    'mock_sparse_ai_cloud/cam3_dir.mp4': { type: 'dir' },
    'mock_sparse_ai_cloud/cam3_link.mp4': { type: 'symlink', target: 'cam4_1.mp4' },
  });
  return base;
}

const holdsFile = (base: string) => path.join(base, HOLDS_NAME);
const readHolds = (base: string) => (JSON.parse(fs.readFileSync(holdsFile(base), 'utf8')) as { holds: Record<string, unknown>[] }).holds;

/** Tomorrow (UTC) as YYYY-MM-DD: a valid --until whatever the time of day. */
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('vigint-cleanup hold add', () => {
  it('records pattern, reason, who, when, until; prints what each hold matches now; re-adding replaces', async () => {
    const base = tree();
    const until = tomorrow();
    const r = await runCli(['hold', 'add', 'mock_sparse_ai_cloud/cam3_*', 'offline_incident_20261001_*', '--reason', 'case 4411', '--until', until], {
      cwd: base,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Regular files with the categories' names only: not the folder, the link or notes_*.md.
    expect(r.stdout).toBe(
      `Held mock_sparse_ai_cloud/cam3_*: matches 2 files, 1.00 MB now (until the end of ${until} UTC; reason: case 4411)\n` +
        `Held offline_incident_20261001_*: matches 2 files, 0.00 MB now (until the end of ${until} UTC; reason: case 4411)\n`,
    );
    const holds = readHolds(base);
    expect(holds).toHaveLength(2);
    expect(holds[0]).toEqual({ pattern: 'mock_sparse_ai_cloud/cam3_*', reason: 'case 4411', who: os.userInfo().username, when: expect.any(String), until });
    expect(Date.now() - Date.parse(holds[0]?.when as string)).toBeLessThan(60_000);

    const again = await runCli(['hold', 'add', 'mock_sparse_ai_cloud/cam3_*', '--base-dir', base]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Replaced the hold mock_sparse_ai_cloud/cam3_*: matches 2 files, 1.00 MB now (no expiry)\n');
    expect(readHolds(base).map((h) => [h.pattern, h.until, h.reason])).toEqual([
      ['mock_sparse_ai_cloud/cam3_*', null, null],
      ['offline_incident_20261001_*', until, 'case 4411'],
    ]);
  });

  it.each([
    [['hold', 'add', '/srv/offline_incidents/x'], 'absolute paths are not accepted'],
    [['hold', 'add', 'ok_*', '../offline_incidents/x'], "'..' is not accepted"],
    [['hold', 'add', ''], 'it is empty'],
    [['hold', 'add', 'recordings/cam3_*'], "'recordings' is not a category folder"],
    [['hold', 'add', 'cam3_*', '--until', '2020-01-01'], 'is in the past'],
    [['hold', 'add', 'cam3_*', '--until', '2026-02-30'], "invalid --until '2026-02-30'"],
    [['hold', 'add', 'cam3_*', '--reason', ''], "invalid --reason ''"],
    [['hold', 'add', 'cam3_*', '--base-dir', ''], "invalid --base-dir ''"],
    [['hold', 'add'], "missing required argument 'pattern'"],
    [['hold'], 'hold needs an action'],
    [['hold', 'list', 'extra'], "unexpected argument in 'hold list extra'"],
    [['--days', '3', 'hold', 'list'], "--days does not apply to 'hold list'"],
  ])('%j: exit 2, says why, changes nothing', async (args, why) => {
    const base = tree();
    fs.writeFileSync(holdsFile(base), '{"holds": [{"pattern": "keep_me"}]}');
    const before = listTree(base);
    const r = await runCli(args, { cwd: base });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(why);
    expect(r.stdout).toBe('');
    expect(listTree(base)).toEqual(before);
    expect(fs.readFileSync(holdsFile(base), 'utf8')).toBe('{"holds": [{"pattern": "keep_me"}]}');
  });

  it('an unreadable hold file: add, list and remove exit 2 naming it, and leave it as it was', async () => {
    const base = tree();
    fs.writeFileSync(holdsFile(base), '{"holds": [');
    for (const args of [['hold', 'add', 'cam3_*'], ['hold', 'list'], ['hold', 'remove', 'cam3_*']]) {
      const r = await runCli(args, { cwd: base });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`the hold file ${holdsFile(base)} is not valid JSON`);
      expect(fs.readFileSync(holdsFile(base), 'utf8')).toBe('{"holds": [');
    }
  });

  it('concurrent hold adds from 5 processes lose none of the holds', async () => {
    const base = tree();
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => runCli(['hold', 'add', `cam${i}_*`, `offline_incident_${i}`], { cwd: base })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(readHolds(base).map((h) => h.pattern).sort()).toEqual(
      [1, 2, 3, 4, 5].flatMap((i) => [`cam${i}_*`, `offline_incident_${i}`]).sort(),
    );
  });
});

describe('vigint-cleanup hold list and remove', () => {
  function withHolds(): string {
    const base = tree();
    fs.writeFileSync(
      holdsFile(base),
      JSON.stringify({
        holds: [
          { pattern: 'mock_sparse_ai_cloud/cam3_*', reason: 'case 4411', who: 'alice', when: '2026-10-01T09:00:00.000Z', until: null },
          { pattern: 'offline_incident_20261001_1.txt', reason: null, who: 'bob', when: '2026-10-01T10:00:00.000Z', until: '2026-10-15' },
          { pattern: 'cam9_*', reason: 'gone', who: 'carol', when: '2026-10-01T11:00:00.000Z', until: '2099-12-31' },
        ],
      }),
    );
    return base;
  }

  it('--json: every hold with who, when, expiry, expired, and the files and bytes it matches now', async () => {
    const base = withHolds();
    const r = await runCli(['hold', 'list', '--json'], { cwd: base });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      baseDir: base,
      file: holdsFile(base),
      holds: [
        { pattern: 'mock_sparse_ai_cloud/cam3_*', reason: 'case 4411', who: 'alice', when: '2026-10-01T09:00:00.000Z', until: null, expires: null, expired: false, files: 2, bytes: 1_048_676 },
        // Expired holds are still listed, with what they would match.
        { pattern: 'offline_incident_20261001_1.txt', reason: null, who: 'bob', when: '2026-10-01T10:00:00.000Z', until: '2026-10-15', expires: '2026-10-16T00:00:00.000Z', expired: true, files: 1, bytes: 1000 },
        { pattern: 'cam9_*', reason: 'gone', who: 'carol', when: '2026-10-01T11:00:00.000Z', until: '2099-12-31', expires: '2100-01-01T00:00:00.000Z', expired: false, files: 0, bytes: 0 },
      ],
    });
  });

  it('text: one block per hold; an expired one says so; --base-dir before the subcommand is honoured', async () => {
    const base = withHolds();
    const r = await runCli(['--base-dir', base, 'hold', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `3 holds in ${holdsFile(base)}:\n` +
        '  mock_sparse_ai_cloud/cam3_*\n' +
        '    matches now: 2 files, 1.00 MB; no expiry\n' +
        '    added by alice on 2026-10-01T09:00:00.000Z; reason: case 4411\n' +
        '  offline_incident_20261001_1.txt\n' +
        '    matches now: 1 file, 0.00 MB; EXPIRED at the end of 2026-10-15 UTC: no longer protects\n' +
        '    added by bob on 2026-10-01T10:00:00.000Z\n' +
        '  cam9_*\n' +
        '    matches now: 0 files, 0.00 MB; until the end of 2099-12-31 UTC\n' +
        '    added by carol on 2026-10-01T11:00:00.000Z; reason: gone\n',
    );
    const none = await runCli(['hold', 'list'], { cwd: tree() });
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^No holds \(.*\.vigint-holds\.json\)\.\n$/);
  });

  it('remove: the held patterns go (exit 0); one not held: exit 1 naming it, the others still removed', async () => {
    const base = withHolds();
    const r = await runCli(['hold', 'remove', 'cam9_*'], { cwd: base });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Removed the hold cam9_*\n');
    const partly = await runCli(['hold', 'remove', 'cam3_*', 'offline_incident_20261001_1.txt'], { cwd: base });
    expect(partly.code).toBe(1);
    expect(partly.stdout).toBe('Removed the hold offline_incident_20261001_1.txt\n');
    expect(partly.stderr).toContain('not held');
    expect(partly.stderr).toContain('cam3_*');
    expect(readHolds(base).map((h) => h.pattern)).toEqual(['mock_sparse_ai_cloud/cam3_*']);
    // Nothing held at all: nothing written either.
    const empty = tree();
    expect((await runCli(['hold', 'remove', 'x'], { cwd: empty })).code).toBe(1);
    expect(fs.existsSync(holdsFile(empty))).toBe(false);
  });
});

describe('hold add while a real cleanup runs', () => {
  /** Plays the running cleanup: holds the lock (vcl1 link naming this process) and, if asked, acknowledges new versions. */
  function runningCleanup(base: string, acknowledge: boolean): () => void {
    fs.symlinkSync(`vcl1:${process.pid}:${os.hostname()}:test`, path.join(base, CLEANUP_LOCK_NAME));
    const timer = setInterval(() => {
      if (acknowledge) acknowledgeHolds(base, holdsVersion(base), process.pid);
    }, 30);
    return () => clearInterval(timer);
  }

  it('returns once the running cleanup acknowledges the new hold file (exit 0)', async () => {
    const base = tree();
    const stop = runningCleanup(base, true);
    try {
      const r = await runCli(['hold', 'add', 'cam3_*'], { cwd: base });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`The cleanup running now (pid ${process.pid}) applies the new holds.`);
    } finally {
      stop();
    }
  });

  it('no acknowledgement within 10 s: the hold is saved, but a warning and exit 1', async () => {
    const base = tree();
    const stop = runningCleanup(base, false);
    try {
      const t0 = Date.now();
      const r = await runCli(['hold', 'add', 'cam3_*'], { cwd: base });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('did not confirm the hold within 10 s; it may delete matching files');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(10_000);
      expect(readHolds(base).map((h) => h.pattern)).toEqual(['cam3_*']);
    } finally {
      stop();
    }
  });

  it('the run ending (its lock gone) ends the wait (exit 0)', async () => {
    const base = tree();
    const stop = runningCleanup(base, false);
    const end = setTimeout(() => fs.rmSync(path.join(base, CLEANUP_LOCK_NAME)), 500);
    try {
      const t0 = Date.now();
      const r = await runCli(['hold', 'add', 'cam3_*'], { cwd: base });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    } finally {
      clearTimeout(end);
      stop();
    }
  });
});
