import fs from 'node:fs';
import path from 'node:path';
import { CATEGORIES, nameClassifier } from './categories.js';
import { formatMB } from './format.js';
import { holdEndMs, holdIsActive, holdPatternMatcher, parseHoldPattern } from './hold-pattern.js';
import type { Hold } from './holds.js';
import { compileProtection } from './protection.js';

/** What a hold matches now: the category files (regular, with a matching name) it keeps. */
export interface HoldMatch {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Counts, for each hold, the files it matches now: regular files directly inside the category
 * folders whose names the cleanup selects (the files a hold can keep from being deleted). Expired
 * holds are counted too (what they would keep). One pass over each folder whatever the number of
 * holds: the compiled matcher dismisses most names; only the held ones are looked at closer.
 */
export function countHeld(baseDir: string, holds: readonly Hold[]): HoldMatch[] {
  const counts = holds.map(() => ({ files: 0, bytes: 0 }));
  if (holds.length === 0) return counts;
  const any = compileProtection({ holds: holds.map((h) => ({ pattern: h.pattern, until: null })), nowMs: 0 });
  const each = holds.map((h) => holdPatternMatcher(parseHoldPattern(h.pattern)));
  for (const category of CATEGORIES) {
    const dir = path.join(baseDir, category.folder);
    const check = any.inFolder(category.folder);
    const selected = nameClassifier(category);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue; // a missing or unreadable folder holds nothing we can count
    }
    for (const name of names) {
      if (check(name) === undefined || selected(name) === undefined) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(dir, name));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      each.forEach((matches, i) => {
        const c = counts[i];
        if (c && matches(category.folder, name)) {
          c.files++;
          c.bytes += st.size;
        }
      });
    }
  }
  return counts;
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** "3 files, 1.20 MB" */
export function formatMatch(m: HoldMatch): string {
  return `${plural(m.files, 'file')}, ${formatMB(m.bytes)} MB`;
}

/** The expiry in words: "until the end of 2026-12-31 UTC", "no expiry", or "EXPIRED …". */
function expiryText(hold: Hold, nowMs: number): string {
  if (hold.until === null) return 'no expiry';
  return holdIsActive(hold, nowMs) ? `until the end of ${hold.until} UTC` : `EXPIRED at the end of ${hold.until} UTC: no longer protects`;
}

/** The text of `hold list`. */
export function formatHoldList(file: string, holds: readonly Hold[], matches: readonly HoldMatch[], nowMs: number): string {
  if (holds.length === 0) return `No holds (${file}).\n`;
  const lines = [`${plural(holds.length, 'hold')} in ${file}:`];
  holds.forEach((h, i) => {
    const m = matches[i] ?? { files: 0, bytes: 0 };
    lines.push(`  ${h.pattern}`);
    lines.push(`    matches now: ${formatMatch(m)}; ${expiryText(h, nowMs)}`);
    lines.push(`    added by ${h.who ?? '?'} on ${h.when ?? '?'}${h.reason === null ? '' : `; reason: ${h.reason}`}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The JSON of `hold list --json`: one document. */
export function formatHoldListJson(baseDir: string, file: string, holds: readonly Hold[], matches: readonly HoldMatch[], nowMs: number): string {
  return `${JSON.stringify(
    {
      baseDir,
      file,
      holds: holds.map((h, i) => ({
        pattern: h.pattern,
        reason: h.reason,
        who: h.who,
        when: h.when,
        until: h.until,
        expires: h.until === null ? null : new Date(holdEndMs(h.until)).toISOString(),
        expired: !holdIsActive(h, nowMs),
        files: matches[i]?.files ?? 0,
        bytes: matches[i]?.bytes ?? 0,
      })),
    },
    null,
    2,
  )}\n`;
}

/** One line of `hold add` per pattern. */
export function formatAdded(hold: Hold, replaced: boolean, match: HoldMatch, nowMs: number): string {
  const details = [expiryText(hold, nowMs), ...(hold.reason === null ? [] : [`reason: ${hold.reason}`])];
  return `${replaced ? 'Replaced the hold' : 'Held'} ${hold.pattern}: matches ${formatMatch(match)} now (${details.join('; ')})\n`;
}
