import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { CleanupError } from '../../src/errors.js';
import { parseHoldPattern } from '../../src/hold-pattern.js';
import { NO_PROTECTION, compileProtection, prefixRegex } from '../../src/protection.js';

const INC = 'offline_incidents';
const VID = 'mock_sparse_ai_cloud';
const hold = (pattern: string, until: string | null = null) => ({ pattern, until });

describe('compileProtection', () => {
  it('no holds and no excludes: the shared no-op matcher', () => {
    const p = compileProtection({ holds: [], excludes: [], nowMs: 0 });
    expect(p).toBe(NO_PROTECTION);
    expect(p.empty).toBe(true);
    expect(p.isProtected(INC, 'offline_incident_1.txt')).toBeUndefined();
    expect(p.inFolder(VID)('a.mp4')).toBeUndefined();
    // Expired holds alone count as none.
    expect(compileProtection({ holds: [hold('*', '2026-01-01')], nowMs: Date.parse('2026-01-02T00:00:00Z') })).toBe(NO_PROTECTION);
  });

  it('answers with the pattern that protects: exact names, folder globs, bare globs, excludes', () => {
    const p = compileProtection({
      holds: [hold(`${INC}/offline_incident_20261001_*.txt`), hold(`${VID}/cam3_*`), hold('cam9_1.mp4'), hold(`${VID}/x.json`)],
      excludes: ['*.keep'],
      nowMs: 0,
    });
    expect(p.empty).toBe(false);
    expect(p.isProtected(INC, 'offline_incident_20261001_1200.txt')).toBe(`${INC}/offline_incident_20261001_*.txt`);
    expect(p.isProtected(INC, 'offline_incident_20261002_1200.txt')).toBeUndefined();
    expect(p.isProtected(VID, 'offline_incident_20261001_1200.txt')).toBeUndefined();
    expect(p.isProtected(VID, 'cam3_2.mp4')).toBe(`${VID}/cam3_*`);
    expect(p.isProtected(INC, 'cam3_2.mp4')).toBeUndefined();
    expect(p.isProtected(VID, 'cam9_1.mp4')).toBe('cam9_1.mp4');
    expect(p.isProtected(INC, 'cam9_1.mp4')).toBe('cam9_1.mp4');
    expect(p.isProtected(VID, 'cam9_1.mp4.bak')).toBeUndefined();
    expect(p.isProtected(VID, 'x.json')).toBe(`${VID}/x.json`);
    expect(p.isProtected(INC, 'x.json')).toBeUndefined();
    expect(p.isProtected(INC, 'a.keep')).toBe('*.keep');
    expect(p.isProtected('elsewhere', 'a.keep')).toBeUndefined();
    expect(p.inFolder('elsewhere')('a.keep')).toBeUndefined();
    expect(p.inFolder(VID)('cam3_2.mp4')).toBe(`${VID}/cam3_*`);
  });

  it('exact names win over globs; among globs the first in the file wins', () => {
    const p = compileProtection({ holds: [hold('cam*'), hold('cam3_*'), hold('cam3_1.mp4')], nowMs: 0 });
    expect(p.isProtected(VID, 'cam3_1.mp4')).toBe('cam3_1.mp4');
    expect(p.isProtected(VID, 'cam3_2.mp4')).toBe('cam*');
  });

  it('case-sensitive; dot files matched by *', () => {
    const p = compileProtection({ holds: [hold('CAM3_*'), hold('*.MP4')], nowMs: 0 });
    expect(p.isProtected(VID, 'cam3_1.json')).toBeUndefined();
    expect(p.isProtected(VID, 'CAM3_1.json')).toBe('CAM3_*');
    expect(p.isProtected(VID, 'a.mp4')).toBeUndefined();
    expect(p.isProtected(VID, '.a.MP4')).toBe('*.MP4');
  });

  it('a hold until D protects at the run start up to the end of D (UTC), then not', () => {
    const data = { holds: [hold('cam3_*', '2026-10-01'), hold('cam4_*')] };
    const before = compileProtection({ ...data, nowMs: Date.parse('2026-10-01T23:59:59.999Z') });
    expect(before.isProtected(VID, 'cam3_1.mp4')).toBe('cam3_*');
    const after = compileProtection({ ...data, nowMs: Date.parse('2026-10-02T00:00:00Z') });
    expect(after.isProtected(VID, 'cam3_1.mp4')).toBeUndefined();
    expect(after.isProtected(VID, 'cam4_1.mp4')).toBe('cam4_*');
  });

  it('an invalid pattern (a hand-edited file) is a usage error, not a silent no-match', () => {
    expect(() => compileProtection({ holds: [hold('../x')], nowMs: 0 })).toThrow(CleanupError);
    expect(() => compileProtection({ holds: [], excludes: ['/abs/*'], nowMs: 0 })).toThrow(/absolute/);
  });

  it('is built from plain data (what a worker thread receives): it survives structuredClone', () => {
    const data = structuredClone({ holds: [hold('cam3_*'), hold(`${INC}/a.txt`)], excludes: ['b*'], nowMs: 0 });
    const p = compileProtection(data);
    expect(p.isProtected(INC, 'a.txt')).toBe(`${INC}/a.txt`);
    expect(p.isProtected(INC, 'bb')).toBe('b*');
  });
});

describe('prefixRegex', () => {
  it('matches exactly the strings starting with one of the prefixes', () => {
    const re = prefixRegex(['cam3_', 'cam31', 'off.', 'a|b', '[x]', 'cam']);
    expect(re.test('camera')).toBe(true); // "cam" covers the longer ones
    expect(re.test('ca')).toBe(false);
    expect(re.test('off.x')).toBe(true);
    expect(re.test('offax')).toBe(false);
    expect(re.test('a|bz')).toBe(true);
    expect(re.test('az')).toBe(false);
    expect(re.test('[x]y')).toBe(true);
    expect(re.test('xy')).toBe(false);
    expect(prefixRegex(['']).test('anything')).toBe(true);
    expect(prefixRegex([]).test('anything')).toBe(false);
  });

  it('with exact names: those names, and nothing that merely starts like them', () => {
    const re = prefixRegex(['cam3_'], ['cam4_1.mp4', 'cam4_1.mp4.bak', 'a.b', 'cam3']);
    for (const yes of ['cam4_1.mp4', 'cam4_1.mp4.bak', 'a.b', 'cam3', 'cam3_x']) expect(re.test(yes), yes).toBe(true);
    for (const no of ['cam4_1.mp', 'cam4_1.mp4x', 'axb', 'a.bc', 'cam3x', '']) expect(re.test(no), no).toBe(false);
  });
});

describe('prefixRegex against brute force', () => {
  it('on 500 random sets of prefixes and exact strings, for every string of up to 4 of a, b, .', () => {
    const rand = generator(7);
    const all = [''];
    for (let len = 1; len <= 4; len++) for (const s of all.filter((x) => x.length === len - 1)) for (const c of ['a', 'b', '.']) all.push(s + c);
    for (let round = 0; round < 500; round++) {
      const pick = () => all[rand(all.length)] as string;
      const prefixes = Array.from({ length: rand(4) }, pick).filter((x) => x !== '' || rand(5) === 0);
      const exact = Array.from({ length: rand(8) }, pick);
      const re = prefixRegex(prefixes, exact);
      for (const s of all) {
        const want = prefixes.some((p) => s.startsWith(p)) || exact.includes(s);
        expect(re.test(s), `${JSON.stringify(s)} against ${re.source}`).toBe(want);
      }
    }
  });
});

describe('many exact names (beyond what the screening regex takes)', () => {
  it('gives the same answers', () => {
    const names = Array.from({ length: 2500 }, (_, i) => `offline_incident_${String(i).padStart(5, '0')}.txt`);
    const p = compileProtection({ holds: [...names.map((n) => hold(n)), hold('cam3_*')], nowMs: 0 });
    expect(p.isProtected(INC, 'offline_incident_00000.txt')).toBe('offline_incident_00000.txt');
    expect(p.isProtected(VID, 'offline_incident_02499.txt')).toBe('offline_incident_02499.txt');
    expect(p.isProtected(INC, 'offline_incident_02500.txt')).toBeUndefined();
    expect(p.isProtected(INC, 'offline_incident_0000.txt')).toBeUndefined();
    expect(p.isProtected(VID, 'cam3_1.mp4')).toBe('cam3_*');
    expect(p.isProtected(VID, 'cam4_1.mp4')).toBeUndefined();
  });
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe('fuzz: the compiled matcher agrees with plain picomatch', () => {
  const LITERAL = ['a', 'b', 'c', 'A', '.', '_', '-', '1', ' ', '$', '^', '|', ',', '~', '#', '%', 'é', '=', "'", '"', '\u{1F3A5}'];
  const GLOB = ['*', '?', '[ab]', '[!a]', '{a,b}', '*.', '@(a|b)', '+(a)', '\\*', '[', ']', '(', ')', '{', '}', '**'];
  const FOLDERS = [INC, VID];

  it('on 3,000 random sets of holds and 60,000 names (seed 20261127)', () => {
    const rand = generator(20261127);
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
    const namePart = (len: number): string => Array.from({ length: len }, () => pick(LITERAL)).join('');
    const globPart = (): string =>
      Array.from({ length: 1 + rand(5) }, () => (rand(3) === 0 ? pick(GLOB) : pick(LITERAL))).join('');
    let checked = 0;
    let matched = 0;
    for (let round = 0; round < 3000; round++) {
      const patterns: string[] = [];
      for (let k = 0; k < 1 + rand(6); k++) {
        const g = rand(4) === 0 ? namePart(1 + rand(4)) : globPart();
        const p = rand(3) === 0 ? g : `${pick(FOLDERS)}/${g}`;
        try {
          parseHoldPattern(p);
          patterns.push(p);
        } catch (err) {
          expect(err).toBeInstanceOf(CleanupError);
        }
      }
      const p = compileProtection({ holds: patterns.map((x) => hold(x)), nowMs: 0 });
      const reference = patterns.map((x) => {
        const parsed = parseHoldPattern(x);
        const isMatch = picomatch(parsed.name, { dot: true });
        return { x, folders: parsed.folders, isMatch };
      });
      for (let n = 0; n < 20; n++) {
        // Names near the patterns (their literal characters, glob characters replaced), and random ones.
        const base = patterns.length > 0 && rand(2) === 0 ? (pick(patterns).split('/').pop() as string) : namePart(1 + rand(6));
        const name = base.replace(/[*?[\]{}()!+@\\|,]/g, () => (rand(3) === 0 ? '' : pick(LITERAL))) || 'a';
        const folder = pick(FOLDERS);
        const expected = reference.filter((r) => r.folders.includes(folder) && r.isMatch(name)).map((r) => r.x);
        const got = p.isProtected(folder, name);
        checked++;
        if (expected.length === 0) expect(got, `${folder}/${name} against ${JSON.stringify(patterns)}`).toBeUndefined();
        else {
          matched++;
          expect(expected, `${folder}/${name} against ${JSON.stringify(patterns)}`).toContain(got);
        }
        expect(p.inFolder(folder)(name)).toBe(got);
      }
    }
    expect(checked).toBe(60_000);
    // The fuzz is only worth something if it finds matches too.
    expect(matched).toBeGreaterThan(5_000);
  });
});
