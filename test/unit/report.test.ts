import { describe, expect, it } from 'vitest';
import { formatText, toJson } from '../../src/report.js';
import { type CleanupResult, emptyCategoryResult, sumTallies } from '../../src/result.js';

function result(overrides: Partial<CleanupResult> & Pick<CleanupResult, 'categories'>): CleanupResult {
  return {
    dryRun: true,
    retentionDays: 30,
    startedAt: new Date('2026-11-25T00:00:00Z'),
    cutoff: new Date('2026-10-26T00:00:00Z'),
    baseDir: '/srv/vigint',
    totals: sumTallies(Object.values(overrides.categories)),
    errors: [],
    interrupted: null,
    ...overrides,
  };
}

describe('text report', () => {
  it("is the original tool's Example 1, to the byte", () => {
    const incidents = emptyCategoryResult('incidents', '/srv/vigint/offline_incidents');
    const videos = {
      ...emptyCategoryResult('videos', '/srv/vigint/mock_sparse_ai_cloud'),
      found: 846,
      bytesFound: Math.round(118.06 * 1_048_576),
      kinds: { incident: 0, video: 423, metadata: 423 },
    };
    expect(formatText(result({ categories: { incidents, videos } }))).toBe(
      [
        '='.repeat(70),
        'DRY RUN: AUTOMATIC CLEANUP - Retention: 30 days',
        '='.repeat(70),
        '',
        'Offline Incidents Cleanup Summary:',
        '  Total files found: 0',
        '  Files to be deleted: 0',
        '',
        'Mock Videos Cleanup Summary:',
        '  Total files found: 846 (423 videos, 423 metadata)',
        '  Files to be deleted: 0',
        '  Total size: 118.06 MB',
        '',
        'TOTAL CLEANUP SUMMARY',
        'Files to be deleted: 0',
        'Space to be freed: 0.00 MB',
        '',
      ].join('\n'),
    );
  });

  it('a real run ends with what was deleted, freed and failed; unselected categories are left out', () => {
    const incidents = {
      ...emptyCategoryResult('incidents', '/d'),
      found: 12,
      bytesFound: 41_943,
      toDelete: 3,
      bytesToDelete: 10_486,
      deleted: 2,
      bytesFreed: 2_411_724,
      failed: 1,
    };
    const text = formatText(result({ dryRun: false, categories: { incidents } }));
    expect(text).not.toContain('Mock Videos');
    expect(text.startsWith(`${'='.repeat(70)}\nAUTOMATIC CLEANUP - Retention: 30 days\n`)).toBe(true);
    expect(text).toContain('  Total size: 0.04 MB\n');
    expect(text.endsWith('TOTAL CLEANUP SUMMARY\nFiles deleted: 2\nSpace freed: 2.30 MB\nErrors: 1\n')).toBe(true);
  });
});

describe('JSON report', () => {
  it('has exactly the documented keys', () => {
    const incidents = emptyCategoryResult('incidents', '/srv/vigint/offline_incidents');
    const videos = { ...emptyCategoryResult('videos', '/srv/vigint/mock_sparse_ai_cloud'), future: 3 };
    const json = toJson(result({ categories: { incidents, videos } })) as {
      categories: Record<string, object>;
      totals: object;
      cutoff: string;
    };
    const tally = ['found', 'bytesFound', 'toDelete', 'bytesToDelete', 'deleted', 'bytesFreed', 'failed', 'skipped', 'held', 'bytesHeld'];
    expect(Object.keys(json)).toEqual(['dryRun', 'retentionDays', 'cutoff', 'baseDir', 'categories', 'totals', 'errors', 'interrupted', 'diskPressure']);
    expect(Object.keys(json.categories)).toEqual(['incidents', 'videos']);
    expect(Object.keys(json.categories.incidents ?? {})).toEqual(['dir', ...tally]);
    expect(Object.keys(json.categories.videos ?? {})).toEqual(['dir', ...tally, 'videos', 'metadata']);
    expect(Object.keys(json.totals)).toEqual(tally);
    expect(json.cutoff).toBe('2026-10-26T00:00:00.000Z');
  });
});

describe('an interrupted run', () => {
  it('says so before the totals, with the signal, and in the JSON', () => {
    const incidents = { ...emptyCategoryResult('incidents', '/d'), found: 40, toDelete: 10, deleted: 10 };
    const r = result({ dryRun: false, categories: { incidents }, interrupted: 'SIGTERM' });
    expect(formatText(r)).toContain(
      'Interrupted by SIGTERM: the run stopped early; run it again to finish.\n\nTOTAL CLEANUP SUMMARY\nFiles deleted: 10\n',
    );
    expect((toJson(r) as { interrupted: string | null }).interrupted).toBe('SIGTERM');
    expect((toJson(result({ categories: { incidents } })) as { interrupted: string | null }).interrupted).toBeNull();
  });

  it('a dry run shows its errors too', () => {
    const incidents = { ...emptyCategoryResult('incidents', '/d'), failed: 2 };
    expect(formatText(result({ categories: { incidents } }))).toMatch(/Space to be freed: 0\.00 MB\nErrors: 2\n$/);
  });
});

describe('groupDigits', () => {
  it("writes what toLocaleString('en-US') writes", async () => {
    const { groupDigits } = await import('../../src/format.js');
    const values = [0, -0, 1, 12, 123, 999, 1000, 1001, 12_345, 123_456, 999_999, 1_000_000, 1_234_567_890, -1, -1234, -123_456_789, Number.MAX_SAFE_INTEGER, 0.5, 1234.5678, Number.NaN, Infinity];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 10 ** (i % 16)));
    for (const v of values) expect(groupDigits(v), String(v)).toBe(v.toLocaleString('en-US'));
  });
});
