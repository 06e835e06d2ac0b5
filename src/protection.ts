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

interface FolderMatcher {
  /** Names without glob characters → the pattern that holds them. */
  readonly exact: Map<string, string>;
  /**
   * Every glob's literal prefix, merged into one anchored regex shaped as a trie: a name that
   * starts with none of them (nearly every name) is dismissed by one native regex test, however
   * many globs there are. Undefined when the folder has no glob.
   */
  readonly prefixes: RegExp | undefined;
  readonly globs: readonly Glob[];
}

const nothing = (): undefined => undefined;

/** The matcher of a run with no holds and no excludes: the check costs a call that returns. */
export const NO_PROTECTION: Protection = Object.freeze({ empty: true, isProtected: nothing, inFolder: () => nothing });

/** The check of one folder: a Map lookup, then (only with globs) one regex test of the name. */
function folderCheck(f: FolderMatcher): (name: string) => string | undefined {
  const { exact, prefixes, globs } = f;
  if (prefixes === undefined) return (name) => exact.get(name);
  return (name) => {
    const held = exact.get(name);
    if (held !== undefined || !prefixes.test(name)) return held;
    for (const g of globs) if (name.startsWith(g.prefix) && g.re.test(name)) return g.pattern;
    return undefined;
  };
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * One regex matching the strings that start with any of `prefixes`, common starts factored out
 * (`^(?:cam(?:3_|4_)|offline_)`), so the engine walks a name once instead of once per prefix.
 * An empty prefix matches everything.
 */
export function prefixRegex(prefixes: readonly string[]): RegExp {
  interface Node {
    end: boolean;
    next: Map<string, Node>;
  }
  const root: Node = { end: false, next: new Map() };
  for (const p of prefixes) {
    let node = root;
    // UTF-16 code units, as the regex (without the u flag) sees the name.
    for (let i = 0; i < p.length && !node.end; i++) {
      const c = p.charAt(i);
      let child = node.next.get(c);
      if (!child) node.next.set(c, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  const emit = (node: Node): string => {
    // A prefix ends here: whatever follows, the name starts with it.
    if (node.end) return '';
    const alternatives = [...node.next].map(([c, child]) => escapeRegex(c) + emit(child));
    return alternatives.length === 1 ? (alternatives[0] as string) : `(?:${alternatives.join('|')})`;
  };
  return new RegExp(`^${emit(root)}`);
}

/**
 * Compiles holds and excludes once into a matcher whose check costs a Map lookup per name, plus
 * one regex test when the folder has globs (whatever their number: see `prefixRegex`). Patterns are assumed valid (they are checked when
 * added and when the hold file is loaded); an invalid one throws a usage error here too.
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
  for (const [folder, f] of byFolder) {
    const prefixes = f.globs.length === 0 ? undefined : prefixRegex(f.globs.map((g) => g.prefix));
    checks.set(folder, folderCheck({ exact: f.exact, prefixes, globs: f.globs }));
  }
  return {
    empty: false,
    isProtected: (folder, name) => checks.get(folder)?.(name),
    inFolder: (folder) => checks.get(folder) ?? nothing,
  };
}
