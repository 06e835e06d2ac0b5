import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_NAME } from '../../src/lock.js';
import { chownTree, isRoot, logLines, runCli, unprivilegedIds, unprivilegedPrefix } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

// Root ignores file modes: as root, the CLI runs as the unprivileged user (helpers/cli.ts).
const how = isRoot ? `as ${unprivilegedPrefix().join(' ')}` : 'as this user';

function tree(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_old1.txt': { ageDays: 50 },
    'offline_incidents/offline_incident_old2.txt': { ageDays: 50 },
    'offline_incidents/offline_incident_new.txt': { ageDays: 1 },
    'mock_sparse_ai_cloud/old.mp4': { ageDays: 50 },
    'mock_sparse_ai_cloud/old.json': { ageDays: 50 },
  });
  chownTree(base, unprivilegedIds());
  return base;
}

interface Report {
  totals: { deleted: number; failed: number };
  categories: Record<string, { failed: number; deleted: number; found: number }>;
  errors: { path: string; code: string; message: string }[];
}

describe(`permission errors (${how})`, () => {
  it('files it may not delete: each logged with path and code, the rest cleaned, exit 1', async () => {
    const base = tree();
    const incidents = path.join(base, 'offline_incidents');
    fs.chmodSync(incidents, 0o555);
    try {
      const r = await runCli(['--json'], { cwd: base, asUser: true });
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout) as Report;
      expect(doc.categories.incidents).toMatchObject({ found: 3, deleted: 0, failed: 2 });
      expect(doc.categories.videos).toMatchObject({ deleted: 2, failed: 0 });
      expect(doc.errors.map((e) => [path.basename(e.path), e.code]).sort()).toEqual([
        ['offline_incident_old1.txt', 'EACCES'],
        ['offline_incident_old2.txt', 'EACCES'],
      ]);
      const warnings = logLines(r.stderr).filter((l) => (l.level as number) >= 40 && l.code === 'EACCES');
      expect(warnings.map((l) => path.basename(l.path as string)).sort()).toEqual(['offline_incident_old1.txt', 'offline_incident_old2.txt']);
      // the program the other user ran has its native scanner (a copy of a private checkout too)
      const start = logLines(r.stderr).find((l) => String(l.msg).startsWith('Running automatic cleanup'));
      expect(start?.scanner).toBe(process.env.VIGINT_CLEANUP_NATIVE === '0' ? 'fs' : 'native');
      expect(fs.readdirSync(incidents).sort()).toEqual(['offline_incident_new.txt', 'offline_incident_old1.txt', 'offline_incident_old2.txt']);
      expect(fs.readdirSync(path.join(base, 'mock_sparse_ai_cloud'))).toEqual([]);
    } finally {
      fs.chmodSync(incidents, 0o755);
    }
  });

  it('a folder it may not read: reported with its path, the other category cleaned, exit 1', async () => {
    const base = tree();
    const videos = path.join(base, 'mock_sparse_ai_cloud');
    fs.chmodSync(videos, 0o000);
    try {
      const r = await runCli(['--json'], { cwd: base, asUser: true });
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout) as Report;
      expect(doc.errors).toEqual([{ path: videos, code: 'EACCES', message: expect.stringContaining('permission denied') }]);
      expect(doc.categories.videos).toMatchObject({ found: 0, failed: 1 });
      expect(doc.categories.incidents).toMatchObject({ deleted: 2, failed: 0 });
      expect(doc.totals).toMatchObject({ deleted: 2, failed: 1 });
      const text = await runCli(['--dry-run'], { cwd: base, asUser: true });
      expect(text.code).toBe(1);
      expect(text.stderr).toContain(`could not be read or deleted (first: ${videos}: EACCES)`);
    } finally {
      fs.chmodSync(videos, 0o755);
    }
    expect(fs.readdirSync(videos).sort()).toEqual(['old.json', 'old.mp4']);
  });

  it('a folder it may list but not search (r--): one failure of the folder, in a dry run and a real run alike', async () => {
    const base = tree();
    const incidents = path.join(base, 'offline_incidents');
    fs.chmodSync(incidents, 0o444);
    try {
      for (const args of [['--dry-run', '--json'], ['--json']]) {
        const r = await runCli(args, { cwd: base, asUser: true });
        expect(r.code).toBe(1);
        const doc = JSON.parse(r.stdout) as Report;
        expect(doc.errors).toEqual([{ path: incidents, code: 'EACCES', message: expect.stringContaining('permission denied') }]);
        expect(doc.categories.incidents).toMatchObject({ found: 0, deleted: 0, failed: 1 });
        expect(doc.totals.failed).toBe(1);
      }
    } finally {
      fs.chmodSync(incidents, 0o755);
    }
    expect(fs.readdirSync(incidents).sort()).toEqual(['offline_incident_new.txt', 'offline_incident_old1.txt', 'offline_incident_old2.txt']);
    expect(fs.readdirSync(path.join(base, 'mock_sparse_ai_cloud'))).toEqual([]);
  });

  it('a base folder it may not write: no lock, nothing deleted, the lock path named, exit 1', async () => {
    const base = tree();
    fs.chmodSync(base, 0o555);
    try {
      const before = listTree(base);
      const r = await runCli([], { cwd: base, asUser: true });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`cannot create the lock file ${path.join(base, LOCK_NAME)} (EACCES)`);
      expect(listTree(base)).toEqual(before);
      // the dry run needs no lock
      expect((await runCli(['--dry-run'], { cwd: base, asUser: true })).code).toBe(0);
    } finally {
      fs.chmodSync(base, 0o755);
    }
  });
});

describe('a base folder another user may write (the cleanup runs as root)', () => {
  it('links planted at temporary names cannot redirect the state file or the metrics onto a file of root', async (ctx) => {
    if (!isRoot) return ctx.skip(); // the attack needs a victim with more rights than the folder's owner
    const base = tree();
    const secret = path.join(tempDir(), 'precious');
    fs.writeFileSync(secret, 'PRECIOUS', { mode: 0o600 });
    // the names a predictable scheme would use, for the next pids
    const next = Number(fs.readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    for (let pid = next; pid < next + 300; pid++) {
      fs.symlinkSync(secret, path.join(base, `.vigint-cleanup-state.json.${pid}.tmp`));
      fs.symlinkSync(secret, path.join(base, `.m.prom.${pid}.tmp`));
    }
    const r = await runCli(['--base-dir', base, '--metrics-file', path.join(base, 'm.prom'), '--log-file', path.join(base, 'c.log')]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(secret, 'utf8')).toBe('PRECIOUS');
    expect(JSON.parse(fs.readFileSync(path.join(base, '.vigint-cleanup-state.json'), 'utf8'))).toMatchObject({ lastExitStatus: 0 });
    expect(fs.lstatSync(path.join(base, 'm.prom')).isFile()).toBe(true);
  });
});
