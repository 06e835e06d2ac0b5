import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { runCli } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

function tree(): string {
  const base = tempDir();
  makeTree(base, {
    'offline_incidents/offline_incident_1.txt': { ageDays: 3, size: 1500 },
    'offline_incidents/offline_incident_2.txt': { ageDays: 45, size: 2500 },
    'mock_sparse_ai_cloud/a.mp4': { ageDays: 400, size: 3_000_000 },
    'mock_sparse_ai_cloud/a.json': { ageDays: 400, size: 500 },
    'mock_sparse_ai_cloud/b.mp4': { ageDays: 10, size: 1_000_000 },
  });
  return base;
}

function capture(isTTY: boolean): { write: (s: string) => void; isTTY: boolean; text: () => string } {
  let out = '';
  return { write: (s: string) => void (out += s), isTTY, text: () => out };
}

describe('vigint-cleanup status', () => {
  it('--json: the figures as data; nothing on disk changes', async () => {
    const base = tree();
    const before = listTree(base);
    const r = await runCli(['status', '--json', '--days', '7'], { cwd: base });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(listTree(base)).toEqual(before);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc.retentionDays).toBe(7);
    expect(doc.baseDir).toBe(base);
    expect(doc.totals).toMatchObject({ files: 5, bytes: 4_004_500, incidents: 2, videos: 2, metadata: 1, old: { files: 4, bytes: 4_003_000 } });
    expect(doc.categories.incidents.histogram.map((h: { files: number }) => h.files)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(doc.categories.videos.histogram.map((h: { bytes: number }) => h.bytes)).toEqual([0, 0, 1_000_000, 0, 0, 3_000_500]);
    expect(doc.categories.videos.oldest.path).toBe(path.join(base, 'mock_sparse_ai_cloud', 'a.json'));
  });

  it('text in a pipe: no colour; --incidents-only shows one category', async () => {
    const base = tree();
    const r = await runCli(['status', '--incidents-only'], { cwd: base });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Offline Incidents (');
    expect(r.stdout).not.toContain('Mock Videos');
    expect(r.stdout).not.toContain('All categories');
    expect(r.stdout).toContain('  Older than 30 days: 1 file, 2.44 KB');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('colour only on a terminal without NO_COLOR', async () => {
    const base = tree();
    const tty = capture(true);
    expect(await main(['status'], { cwd: base, env: {}, stdout: tty, stderr: capture(false) })).toBe(0);
    expect(tty.text()).toContain('\u001b[');
    const noColor = capture(true);
    expect(await main(['status'], { cwd: base, env: { NO_COLOR: '1' }, stdout: noColor, stderr: capture(false) })).toBe(0);
    expect(noColor.text()).not.toContain('\u001b[');
  });

  it('bad input: exit 2 as for the cleanup', async () => {
    const base = tree();
    const r = await runCli(['status', '--days', 'x'], { cwd: base });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vigint-cleanup: invalid --days 'x'/);
    expect((await runCli(['status', '--videos-only', '--incidents-only'], { cwd: base })).code).toBe(2);
    expect((await runCli(['status', '--dry-run'], { cwd: base })).code).toBe(2);
  });

  it('missing folders: zero files, exit 0', async () => {
    const r = await runCli(['status', '--json'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ totals: { files: 0, bytes: 0, oldest: null, newest: null } });
  });
});

describe('progress on a terminal', () => {
  it('never in a pipe, nor on a terminal that shows the log lines; the reports are unchanged', async () => {
    const base = tree();
    const piped = await main(['--dry-run', '--json', '--log-file', path.join(base, 'l.log')], { cwd: base, env: {}, stdout: capture(false), stderr: capture(false) });
    expect(piped).toBe(0);
    const logOnTerminal = capture(true);
    const out = capture(false);
    expect(await main(['--dry-run', '--json'], { cwd: base, env: { LOG_LEVEL: 'warn' }, stdout: out, stderr: logOnTerminal })).toBe(0);
    expect(logOnTerminal.text()).not.toContain('\r');
    expect(JSON.parse(out.text())).toMatchObject({ dryRun: true, totals: { toDelete: 3 } });
  });
});
