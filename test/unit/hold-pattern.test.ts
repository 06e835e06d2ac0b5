import { describe, expect, it } from 'vitest';
import { CleanupError } from '../../src/errors.js';
import { holdEndMs, holdIsActive, holdPatternMatcher, literalPrefix, parseHoldPattern, parseUntil } from '../../src/hold-pattern.js';

const INC = 'offline_incidents';
const VID = 'mock_sparse_ai_cloud';

function usage(f: () => unknown): CleanupError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CleanupError);
    expect((err as CleanupError).exitStatus).toBe(2);
    return err as CleanupError;
  }
  throw new Error('expected a usage error');
}

describe('parseHoldPattern', () => {
  it('a pattern inside a category folder applies to that folder only', () => {
    expect(parseHoldPattern(`${INC}/offline_incident_20261001_*.txt`)).toEqual({
      pattern: `${INC}/offline_incident_20261001_*.txt`,
      folders: [INC],
      name: 'offline_incident_20261001_*.txt',
      exact: false,
    });
    const m = holdPatternMatcher(parseHoldPattern(`${VID}/cam3_*`));
    expect(m(VID, 'cam3_1.mp4')).toBe(true);
    expect(m(INC, 'cam3_1.mp4')).toBe(false);
  });

  it('a bare name glob applies in both category folders', () => {
    const parsed = parseHoldPattern('cam3_*');
    expect(parsed.folders).toEqual([INC, VID]);
    const m = holdPatternMatcher(parsed);
    expect(m(VID, 'cam3_1.json')).toBe(true);
    expect(m(INC, 'cam3_x')).toBe(true);
    expect(m('elsewhere', 'cam3_1.json')).toBe(false);
  });

  it('names without glob characters are exact', () => {
    expect(parseHoldPattern('cam3_1.mp4').exact).toBe(true);
    expect(parseHoldPattern('a b,~#%é=.mp4').exact).toBe(true);
    for (const g of ['a"b', 'a$$', 'a^^', 'a|b', 'a*', 'a?', 'a[bc]', 'a{b,c}', '@(a)', 'a+(b)', 'a\\*']) expect(parseHoldPattern(g).exact).toBe(false);
  });

  it('matching is case-sensitive, and * matches names starting with a dot', () => {
    const m = holdPatternMatcher(parseHoldPattern(`${VID}/CAM3_*`));
    expect(m(VID, 'CAM3_1.mp4')).toBe(true);
    expect(m(VID, 'cam3_1.mp4')).toBe(false);
    const any = holdPatternMatcher(parseHoldPattern('*.mp4'));
    expect(any(VID, '.hidden.mp4')).toBe(true);
    expect(holdPatternMatcher(parseHoldPattern('cam3_1.mp4'))(VID, 'CAM3_1.MP4')).toBe(false);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['/srv/vigint/offline_incidents/x.txt', 'absolute'],
    ['/x', 'absolute'],
    ['../offline_incidents/x', "'..'"],
    [`${INC}/../${VID}/x`, "'..'"],
    ['..', "'..'"],
    [`./${INC}/x`, "'.'"],
    [`${INC}//x`, 'empty'],
    [`${INC}/`, 'empty'],
    ['other/x.mp4', "'other' is not a category folder"],
    ['*/x.mp4', "'*' is not a category folder"],
    [`${INC}/sub/x.txt`, 'directly inside'],
    ['!cam3_*', 'negation'],
    ['a\0b', 'NUL'],
  ])('refuses %j (%s)', (pattern, why) => {
    const err = usage(() => parseHoldPattern(pattern));
    expect(err.message).toContain(`invalid hold pattern '${pattern}'`);
    expect(err.message).toContain(why);
  });

  it('literalPrefix stops at the first glob character', () => {
    expect(literalPrefix('offline_incident_2026*.txt')).toBe('offline_incident_2026');
    expect(literalPrefix('cam[12]_x')).toBe('cam');
    expect(literalPrefix('*.mp4')).toBe('');
    expect(literalPrefix('exact.mp4')).toBe('exact.mp4');
    expect(literalPrefix('cam3_x|cam4_*')).toBe('');
  });
});

describe('--until: protects to the end of the day, UTC', () => {
  const end = Date.parse('2026-10-02T00:00:00Z');

  it('a hold until D is active up to D+1 00:00:00Z (exclusive), then ignored', () => {
    expect(holdEndMs('2026-10-01')).toBe(end);
    const hold = { until: '2026-10-01' };
    expect(holdIsActive(hold, Date.parse('2026-10-01T00:00:00Z'))).toBe(true);
    expect(holdIsActive(hold, end - 1)).toBe(true);
    expect(holdIsActive(hold, end)).toBe(false);
    expect(holdIsActive({ until: null }, 8.64e15)).toBe(true);
  });

  it('today is accepted; yesterday, invalid dates and other formats are usage errors', () => {
    const now = Date.parse('2026-10-01T23:59:59.999Z');
    expect(parseUntil('2026-10-01', now)).toBe('2026-10-01');
    expect(parseUntil('2027-02-28', now)).toBe('2027-02-28');
    expect(usage(() => parseUntil('2026-09-30', now)).message).toContain('in the past');
    expect(usage(() => parseUntil('2026-10-01', end)).message).toContain('in the past');
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-5', '01/10/2027', 'tomorrow', '', '2027-02-29']) {
      expect(usage(() => parseUntil(bad, now)).message).toContain(`invalid --until '${bad}'`);
    }
  });
});
