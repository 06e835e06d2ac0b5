import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGE_BUCKETS, bucketOf, collectStatus } from '../../src/status.js';
import { formatStatusJson, formatStatusText } from '../../src/status-report.js';
import { DAY, listTree, makeTree, tempDir } from '../helpers/tree.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('bucketOf', () => {
  it('puts each edge in the bucket it starts', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(DAY - 1)).toBe(0);
    expect(bucketOf(DAY)).toBe(1);
    expect(bucketOf(7 * DAY - 1)).toBe(1);
    expect(bucketOf(7 * DAY)).toBe(2);
    expect(bucketOf(30 * DAY)).toBe(3);
    expect(bucketOf(90 * DAY)).toBe(4);
    expect(bucketOf(365 * DAY - 1)).toBe(4);
    expect(bucketOf(365 * DAY)).toBe(5);
    expect(bucketOf(5000 * DAY)).toBe(5);
  });
});

describe('collectStatus', () => {
  it('counts files and bytes per bucket at the bucket edges, and what a cleanup would free', async () => {
    const base = tempDir();
    makeTree(
      base,
      {
        'offline_incidents/offline_incident_a.txt': { ageMs: DAY - 1000, size: 1 },
        'offline_incidents/offline_incident_b.txt': { ageMs: DAY, size: 10 },
        'offline_incidents/offline_incident_c.txt': { ageMs: 7 * DAY, size: 100 },
        'offline_incidents/offline_incident_d.txt': { ageMs: 30 * DAY, size: 1000 },
        'offline_incidents/offline_incident_e.txt': { ageMs: 30 * DAY + 1000, size: 10_000 },
        'offline_incidents/offline_incident_f.txt': { ageMs: 365 * DAY, size: 100_000 },
        'offline_incidents/offline_incident_future.txt': { ageDays: -1, size: 7 },
        'offline_incidents/decoy.txt': { ageDays: 500, size: 5 },
        'mock_sparse_ai_cloud/v.mp4': { ageDays: 100, size: 2_000_000 },
        'mock_sparse_ai_cloud/v.json': { ageDays: 100, size: 300 },
        'mock_sparse_ai_cloud/w.mp4': { ageDays: 2, size: 1_000_000 },
        'mock_sparse_ai_cloud/link.mp4': { type: 'symlink', target: '/etc/hostname', ageDays: 500 },
      },
      NOW,
    );
    const before = listTree(base);
    const status = await collectStatus({ baseDir: base, days: 30, categories: ['incidents', 'videos'], now: () => NOW });
    expect(listTree(base)).toEqual(before);

    const incidents = status.categories.incidents;
    expect(incidents?.buckets).toEqual([
      { files: 1, bytes: 1 },
      { files: 1, bytes: 10 },
      { files: 1, bytes: 100 },
      { files: 2, bytes: 11_000 },
      { files: 0, bytes: 0 },
      { files: 1, bytes: 100_000 },
    ]);
    // exactly 30 days old is not older than 30 days: the cleanup's rule
    expect(incidents?.old).toEqual({ files: 2, bytes: 110_000 });
    expect(incidents?.future).toEqual({ files: 1, bytes: 7 });
    expect(incidents).toMatchObject({ files: 7, bytes: 111_118, failed: 0 });
    expect(incidents?.oldest?.path).toBe(path.join(base, 'offline_incidents', 'offline_incident_f.txt'));
    expect(incidents?.newest?.path).toBe(path.join(base, 'offline_incidents', 'offline_incident_future.txt'));

    expect(status.categories.videos).toMatchObject({
      files: 3,
      bytes: 3_000_300,
      kinds: { incident: 0, video: 2, metadata: 1 },
      old: { files: 2, bytes: 2_000_300 },
    });
    expect(status.totals).toMatchObject({ files: 10, bytes: 3_111_418, old: { files: 4, bytes: 2_110_300 } });
    expect(status.totals.buckets.map((b) => b.files)).toEqual([1, 2, 1, 2, 2, 1]);
    expect(status.totals.oldest?.path).toBe(path.join(base, 'offline_incidents', 'offline_incident_f.txt'));

    const json = JSON.parse(formatStatusJson(status)) as {
      categories: { videos: { histogram: { files: number; bytes: number; label: string }[]; videos: number; metadata: number } };
      totals: { old: { files: number; bytes: number }; oldest: { mtime: string; ageDays: number } };
    };
    expect(json.categories.videos.histogram.map((h) => [h.label, h.files, h.bytes])).toEqual([
      ['< 1 day', 0, 0],
      ['1-7 days', 1, 1_000_000],
      ['7-30 days', 0, 0],
      ['30-90 days', 0, 0],
      ['90-365 days', 2, 2_000_300],
      ['> 365 days', 0, 0],
    ]);
    expect([json.categories.videos.videos, json.categories.videos.metadata]).toEqual([2, 1]);
    expect(json.totals.old).toEqual({ files: 4, bytes: 2_110_300 });
    expect(json.totals.oldest).toEqual({ path: expect.any(String), mtime: new Date(NOW - 365 * DAY).toISOString(), ageDays: 365 });

    const text = formatStatusText(status);
    expect(text).toContain('STORAGE STATUS - Retention: 30 days');
    expect(text).toContain('  Older than 30 days: 2 files, 107.4 KB (what a cleanup would free now)');
    expect(text).toContain('  Dated in the future: 1 file, 7 B');
    // bars scale to the largest bucket: 2 files = 30 cells, 1 file = 15
    expect(text).toContain(`    30-90 days   ${'█'.repeat(30)}         2    10.7 KB`);
    expect(text).toContain(`    < 1 day      ${'█'.repeat(15)}${' '.repeat(15)}         1        1 B`);
    expect(text).not.toContain('\u001b[');
    expect(formatStatusText(status, true)).toContain('\u001b[');
  });

  it('empty and missing folders: zero everywhere, no oldest or newest', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/': { type: 'dir' } });
    const status = await collectStatus({ baseDir: base, days: 30, categories: ['incidents', 'videos'], now: () => NOW });
    for (const f of [status.categories.incidents, status.categories.videos, status.totals]) {
      expect(f).toMatchObject({ files: 0, bytes: 0, old: { files: 0, bytes: 0 }, oldest: undefined, newest: undefined, failed: 0 });
      expect(f?.buckets).toEqual(AGE_BUCKETS.map(() => ({ files: 0, bytes: 0 })));
    }
    expect(formatStatusText(status)).toContain('  Oldest:   none');
  });
});
