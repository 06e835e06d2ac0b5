import picomatch from 'picomatch';
import type { CompileGuard, Guard, HoldRules } from './hold-follow.js';
import { NO_GUARD, noRules } from './hold-follow.js';

const DAY_MS = 86_400_000;

/** A hold's `until` (YYYY-MM-DD) protects to the end of that day, UTC. */
export function holdActive(until: string | null, nowMs: number): boolean {
  return until === null || nowMs < Date.parse(`${until}T00:00:00Z`) + DAY_MS;
}

/**
 * The rules compiled once: a pattern with a slash names one category folder and a name glob in
 * it; a bare name glob applies in both folders.
 */
export const compileGuard: CompileGuard = (rules: HoldRules, nowMs: number): Guard => {
  if (noRules(rules)) return NO_GUARD;
  const patterns = [...rules.holds.filter((h) => holdActive(h.until, nowMs)).map((h) => h.pattern), ...rules.excludes];
  const tests = patterns.map((pattern) => {
    const slash = pattern.indexOf('/');
    const folder = slash < 0 ? undefined : pattern.slice(0, slash);
    const match = picomatch(slash < 0 ? pattern : pattern.slice(slash + 1), { dot: true });
    return { pattern, folder, match };
  });
  return {
    heldBy(folder: string, name: string): string | undefined {
      for (const t of tests) if ((t.folder === undefined || t.folder === folder) && t.match(name)) return t.pattern;
      return undefined;
    },
  };
};
