import { describe, expect, it } from 'vitest';
import { MS_PER_DAY, cutoffMs, decide, stillDeletable } from '../../src/plan.js';

const start = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('cutoffMs', () => {
  it('is start minus days × 86,400,000 ms, decimals included', () => {
    expect(cutoffMs(start, 30)).toBe(start - 30 * 86_400_000);
    expect(cutoffMs(start, 0.5)).toBe(start - 43_200_000);
    expect(MS_PER_DAY).toBe(86_400_000);
  });
});

describe('decide', () => {
  const cutoff = cutoffMs(start, 30);
  it('deletes strictly before the cutoff, to the millisecond', () => {
    expect(decide(cutoff - 1, cutoff, start)).toBe('delete');
    expect(decide(cutoff, cutoff, start)).toBe('keep');
    expect(decide(cutoff + 1, cutoff, start)).toBe('keep');
    expect(decide(cutoff - 0.001, cutoff, start)).toBe('delete');
  });
  it('an hour either side of the cutoff', () => {
    expect(decide(cutoff - 3_600_000, cutoff, start)).toBe('delete');
    expect(decide(cutoff + 3_600_000, cutoff, start)).toBe('keep');
  });
  it('keeps future-dated files and names them', () => {
    expect(decide(start, cutoff, start)).toBe('keep');
    expect(decide(start + 1, cutoff, start)).toBe('future');
    expect(decide(start + 365 * MS_PER_DAY, cutoff, start)).toBe('future');
  });
});

describe('stillDeletable', () => {
  const cutoff = 1_000;
  const seen = { isFile: true, dev: 1, ino: 42, mtimeMs: 500, ctimeMs: 900 };
  it('accepts the same old regular file', () => {
    expect(stillDeletable(seen, { ...seen }, cutoff)).toBe(true);
  });
  it('refuses a replaced, re-dated or retyped file', () => {
    expect(stillDeletable(seen, { ...seen, ino: 43 }, cutoff)).toBe(false);
    expect(stillDeletable(seen, { ...seen, dev: 2 }, cutoff)).toBe(false);
    expect(stillDeletable(seen, { ...seen, mtimeMs: 1_000 }, cutoff)).toBe(false);
    expect(stillDeletable(seen, { ...seen, isFile: false }, cutoff)).toBe(false);
    // same inode number, re-created: the ctime gives it away
    expect(stillDeletable(seen, { ...seen, ctimeMs: 901 }, cutoff)).toBe(false);
  });
});
