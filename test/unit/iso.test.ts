import { describe, expect, it } from 'vitest';
import { isoString } from '../../src/iso.js';

describe('isoString', () => {
  it('is exactly what toISOString gives, at the edges and at random', () => {
    const edges = [0, 1, 999, 1000, 86_399_999, 86_400_000, -1, -86_400_001, 951_782_400_000, 253_402_300_799_999, Date.UTC(2026, 10, 25, 23, 59, 59, 999)];
    for (const ms of edges) expect(isoString(ms)).toBe(new Date(ms).toISOString());
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 16807) % 2147483647;
      const ms = Math.floor((seed / 2147483647) * 4e12) - 1e12;
      expect(isoString(ms)).toBe(new Date(ms).toISOString());
    }
  });
  it("fractions of a millisecond are cut toward zero, as by Date", () => {
    for (const ms of [1_700_000_000_123.987, -1.5, -86_400_000.5]) expect(isoString(ms)).toBe(new Date(ms).toISOString());
  });
  it('years outside 0000-9999 too', () => {
    for (const ms of [-62_198_755_200_000, 253_402_300_800_000, 8.64e15]) expect(isoString(ms)).toBe(new Date(ms).toISOString());
  });
});
