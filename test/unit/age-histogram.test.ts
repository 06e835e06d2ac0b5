import { describe, expect, it } from 'vitest';
import { AgeHistogram, HOUR_MS } from '../../src/age-histogram.js';

const DAY = 24 * HOUR_MS;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('the age histogram of disk pressure', () => {
  it('finds the youngest cut that frees enough, oldest hours first', () => {
    const h = new AgeHistogram();
    h.add(T0 - 10 * DAY, 100); // oldest
    h.add(T0 - 9 * DAY, 200);
    h.add(T0 - 9 * DAY + 60_000, 50); // the same hour as the one before
    h.add(T0 - 2 * DAY, 1000);
    expect(h.cutFor(100)).toEqual({ cutMs: T0 - 10 * DAY + HOUR_MS, files: 1, bytes: 100, reached: true });
    expect(h.cutFor(101)).toEqual({ cutMs: T0 - 9 * DAY + HOUR_MS, files: 3, bytes: 350, reached: true });
    expect(h.cutFor(351)).toEqual({ cutMs: T0 - 2 * DAY + HOUR_MS, files: 4, bytes: 1350, reached: true });
  });

  it('nothing to free: no cut; too much to free: everything, not reached', () => {
    const h = new AgeHistogram();
    h.add(T0 - 5 * DAY, 10);
    expect(h.cutFor(0)).toEqual({ cutMs: Number.NEGATIVE_INFINITY, files: 0, bytes: 0, reached: true });
    expect(h.cutFor(-5).reached).toBe(true);
    expect(h.cutFor(11)).toEqual({ cutMs: T0 - 5 * DAY + HOUR_MS, files: 1, bytes: 10, reached: false });
    expect(new AgeHistogram().cutFor(1)).toEqual({ cutMs: Number.NEGATIVE_INFINITY, files: 0, bytes: 0, reached: false });
  });

  it('counts what a deletion frees, not sizes: files that free nothing never reach a target alone', () => {
    const h = new AgeHistogram();
    h.add(T0 - 30 * DAY, 0); // sparse, or with other hard links
    h.add(T0 - 20 * DAY, 4096);
    expect(h.cutFor(1)).toEqual({ cutMs: T0 - 20 * DAY + HOUR_MS, files: 2, bytes: 4096, reached: true });
  });

  it("workers' shares merge into the same counts as one pass", () => {
    const whole = new AgeHistogram();
    const a = new AgeHistogram();
    const b = new AgeHistogram();
    for (let i = 0; i < 1000; i++) {
      const mtime = T0 - (i % 97) * 7 * HOUR_MS;
      whole.add(mtime, i);
      (i % 2 ? a : b).add(mtime, i);
    }
    const merged = new AgeHistogram();
    merged.merge(a.toData());
    merged.merge(b.toData());
    for (const need of [1, 5000, 250_000, 499_500, 499_501]) expect(merged.cutFor(need)).toEqual(whole.cutFor(need));
  });
});
