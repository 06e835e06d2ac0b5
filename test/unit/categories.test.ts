import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, nameClassifier, starMatcher } from '../../src/categories.js';

/** Names around the category globs: dots, empty stars, case, slashes, control and odd characters. */
function names(): string[] {
  const stems = ['', 'a', '.', '..', '.a', 'a.', 'x y', 'cam3_1', 'É\u00e9', '\uFFFD', '\n', '\r', '\u2028', '\u2029', '\t', 'a\nb', '*', '?', '[a]', '{a,b}', '!', 'a/b', '/', '\\', '$', '^', '|'];
  const parts = ['offline_incident_', 'OFFLINE_INCIDENT_', 'offline_incident', '.offline_incident_', 'x_offline_incident_'];
  const ends = ['.txt', '.TXT', '.txt ', 'txt', '.txt.bak', '.mp4', '.MP4', '.mp4.part', 'mp4', '.json', '.JSON', '.jsonl', '.json\n', ''];
  const out = new Set<string>();
  for (const s of stems) {
    for (const e of ends) {
      out.add(s + e);
      out.add(`.${s}${e}`);
      for (const p of parts) out.add(p + s + e);
    }
  }
  return [...out];
}

describe('the category name rules', () => {
  it('match exactly as picomatch (dot: false) did, on many names', () => {
    const all = names();
    expect(all.length).toBeGreaterThan(1000);
    for (const category of CATEGORIES) {
      for (const { glob } of category.patterns) {
        const re = picomatch.makeRe(glob, { dot: false });
        const ours = starMatcher(glob);
        const differ = all.filter((n) => ours(n) !== re.test(n));
        expect(differ, glob).toEqual([]);
      }
    }
  });

  it('classify as the contract says', () => {
    const incidents = nameClassifier(CATEGORIES[0] as (typeof CATEGORIES)[number]);
    const videos = nameClassifier(CATEGORIES[1] as (typeof CATEGORIES)[number]);
    expect(incidents('offline_incident_1.txt')).toBe('incident');
    expect(incidents('offline_incident_.txt')).toBe('incident'); // an empty `*`
    expect(incidents('offline_incident_1.TXT')).toBeUndefined();
    expect(videos('a.mp4')).toBe('video');
    expect(videos('a.json')).toBe('metadata');
    expect(videos('.a.mp4')).toBeUndefined();
    expect(videos('.mp4')).toBeUndefined();
    expect(videos('OLD.MP4')).toBeUndefined();
  });

  it('refuse a glob that is not prefix*suffix', () => {
    for (const glob of ['a', '*.{mp4,json}', 'a*b*c', '[a]*.txt', 'a/*.txt']) expect(() => starMatcher(glob)).toThrow();
  });
});
