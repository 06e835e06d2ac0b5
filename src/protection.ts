import { PICOMATCH_OPTIONS, holdIsActive, literalPrefix, parseHoldPattern, picomatch } from './hold-pattern.js';

/**
 * What a protection matcher is built from: plain data, so that each worker thread can build its
 * own from what it was sent (functions and RegExps do not cross a postMessage).
 */
export interface ProtectionData {
  /** The holds of `<base>/.vigint-holds.json` (only `pattern` and `until` are used). */
  readonly holds: readonly { readonly pattern: string; readonly until: string | null }[];
  /** The run's `--exclude` / `VIGINT_EXCLUDE` globs, same syntax as hold patterns. */
  readonly excludes?: readonly string[];
  /**
   * The run's start (ms): a hold whose `until` day ended (UTC) before it is ignored. Read once per
   * run, so a hold that expires while a run is under way still protects for that run.
   */
  readonly nowMs: number;
}

/** Answers "is this file protected, and by what?" for the files of the two category folders. */
export interface Protection {
  /** True when nothing is protected: callers may skip the check altogether. */
  readonly empty: boolean;
  /**
   * The hold pattern (or exclude glob) that protects `name` inside the category folder `folder`
   * (`offline_incidents` or `mock_sparse_ai_cloud`), or undefined. Exact names win over globs;
   * among several matching globs, the first in the hold file's order.
   */
  isProtected(folder: string, name: string): string | undefined;
  /**
   * The same check for one folder, looked up once: a sweep of one folder calls the returned
   * function per name. Returns a constant no-op when nothing in that folder is protected.
   */
  inFolder(folder: string): (name: string) => string | undefined;
}

interface Glob {
  readonly re: RegExp;
  readonly pattern: string;
  /** The glob's literal start (`cam3_2026` of `cam3_2026*.mp4`): names without it cannot match. */
  readonly prefix: string;
}

const nothing = (): undefined => undefined;

/** The matcher of a run with no holds and no excludes: the check costs a call that returns. */
export const NO_PROTECTION: Protection = Object.freeze({ empty: true, isProtected: nothing, inFolder: () => nothing });

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * One regex matching the strings that start with one of `prefixes` or equal one of `exact`,
 * common starts factored out (`^(?:cam(?:3_|4_)|offline_x\.txt$)`): the engine walks a name once
 * instead of once per entry, with no hashing of the name. An empty prefix matches everything.
 */
export function prefixRegex(prefixes: readonly string[], exact: readonly string[] = []): RegExp {
  // Sorted, the entries that share a start sit together: the trie is walked without building it.
  // Strings compare by UTF-16 code unit, as the regex (without the u flag) sees the name.
  const entries = [...prefixes.map((text) => ({ text, prefix: true })), ...exact.map((text) => ({ text, prefix: false }))];
  entries.sort((x, y) => (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  /** The regex for `group` (entries sharing their first `depth` code units), after those units. */
  const emit = (group: readonly { text: string; prefix: boolean }[], depth: number): string => {
    const only = group.length === 1 ? group[0] : undefined;
    if (only) return escapeRegex(only.text.slice(depth)) + (only.prefix ? '' : '$');
    const ends = group.filter((e) => e.text.length === depth);
    // A prefix ends here: whatever follows, the name starts with it.
    if (ends.some((e) => e.prefix)) return '';
    const alternatives: string[] = [];
    let start = ends.length;
    while (start < group.length) {
      const c = (group[start] as { text: string }).text.charAt(depth);
      let end = start + 1;
      while (end < group.length && (group[end] as { text: string }).text.charAt(depth) === c) end++;
      alternatives.push(escapeRegex(c) + emit(group.slice(start, end), depth + 1));
      start = end;
    }
    if (ends.length > 0) alternatives.push('$');
    return alternatives.length === 1 ? (alternatives[0] as string) : `(?:${alternatives.join('|')})`;
  };
  // Nothing at all matches nothing.
  return new RegExp(entries.length === 0 ? '(?!)' : `^${emit(entries, 0)}`);
}

/**
 * Up to this many exact names per folder go into the screening regex; beyond, its alternatives
 * (tried one after the other at each branch) would cost more than hashing the name for a Map.
 */
const SCREEN_EXACT_LIMIT = 2000;

/**
 * The check of one folder. The common answer, "not held", costs one native regex test (or, with
 * very many exact names, a Map lookup and a regex test); only names that pass are looked at closer.
 */
function folderCheck(exact: Map<string, string>, globs: readonly Glob[]): (name: string) => string | undefined {
  const fromGlobs = (name: string): string | undefined => {
    for (const g of globs) if (name.startsWith(g.prefix) && g.re.test(name)) return g.pattern;
    return undefined;
  };
  const prefixes = globs.map((g) => g.prefix);
  if (exact.size <= SCREEN_EXACT_LIMIT) {
    const screen = prefixRegex(prefixes, [...exact.keys()]);
    return (name) => (screen.test(name) ? (exact.get(name) ?? fromGlobs(name)) : undefined);
  }
  const screen = globs.length === 0 ? undefined : prefixRegex(prefixes);
  return (name) => exact.get(name) ?? (screen?.test(name) === true ? fromGlobs(name) : undefined);
}

/**
 * Compiles holds and excludes once into a matcher whose check of a name that is not held (nearly
 * every name) costs one regex test, whatever the number of holds (see `prefixRegex`). Patterns
 * are assumed valid (they are checked when added and when the hold file is loaded); an invalid
 * one throws a usage error here too. Build it once per run, and once per worker thread.
 */
export function compileProtection(data: ProtectionData): Protection {
  const active = [
    ...data.holds.filter((h) => holdIsActive(h, data.nowMs)).map((h) => h.pattern),
    ...(data.excludes ?? []),
  ];
  if (active.length === 0) return NO_PROTECTION;

  const byFolder = new Map<string, { exact: Map<string, string>; globs: Glob[] }>();
  for (const pattern of active) {
    const parsed = parseHoldPattern(pattern);
    const glob = parsed.exact
      ? undefined
      : { re: picomatch().makeRe(parsed.name, PICOMATCH_OPTIONS), pattern, prefix: literalPrefix(parsed.name) };
    for (const folder of parsed.folders) {
      let f = byFolder.get(folder);
      if (!f) byFolder.set(folder, (f = { exact: new Map(), globs: [] }));
      // A glob also matches its own text, as picomatch's isMatch does (`a|]` holds a file named
      // `a|]`, which its regex alone would not match).
      if (!f.exact.has(parsed.name)) f.exact.set(parsed.name, pattern);
      if (glob !== undefined) f.globs.push(glob);
    }
  }
  const checks = new Map<string, (name: string) => string | undefined>();
  for (const [folder, f] of byFolder) checks.set(folder, folderCheck(f.exact, f.globs));
  return {
    empty: false,
    isProtected: (folder, name) => checks.get(folder)?.(name),
    inFolder: (folder) => checks.get(folder) ?? nothing,
  };
}
