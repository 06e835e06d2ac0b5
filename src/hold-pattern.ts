import { createRequire } from 'node:module';
import type Picomatch from 'picomatch';
import { CATEGORIES } from './categories.js';
import { usageError } from './errors.js';

/**
 * A hold (or `--exclude`) pattern, checked and split: which category folders it applies to and
 * the glob on the bare file name there.
 */
export interface HoldPattern {
  /** The pattern as given (and as stored): `folder/nameglob` or a bare `nameglob`. */
  readonly pattern: string;
  /** The category folders it applies to: one, or both for a bare name glob. */
  readonly folders: readonly string[];
  /** The glob on the file name inside those folders. */
  readonly name: string;
  /** True when `name` has no glob character: it matches that one name, compared as a string. */
  readonly exact: boolean;
}

const FOLDERS = CATEGORIES.map((c) => c.folder);

let loaded: typeof Picomatch | undefined;

/**
 * picomatch, loaded on first use (synchronously: it is CommonJS): a run without holds or
 * excludes never needs it, and loading it costs about 14 ms of the program's start-up.
 */
export function picomatch(): typeof Picomatch {
  loaded ??= createRequire(import.meta.url)('picomatch') as typeof Picomatch;
  return loaded;
}

/**
 * Characters that give a picomatch glob a meaning beyond the literal name. A name with none of
 * them matches itself only, so it can be looked up in a Map instead of run through a regex.
 * Besides the glob syntax: `|` (alternation, even outside parentheses), `"` (quoting), and `$`,
 * `^`, which picomatch does not always take literally (`$$` also matches `$`).
 */
const GLOB_CHARS = /[*?[\]{}()!+@|\\"$^]/;

/**
 * The matching rules, in one place: case-sensitive (like the file system: `CAM3_*` does not hold
 * `cam3_1.mp4`), and `dot: true`, so `*` also matches a name starting with a dot (the cleanup
 * never deletes those, but a hold should not depend on that).
 */
export const PICOMATCH_OPTIONS = { dot: true, nocase: false } as const;

function refuse(pattern: string, why: string): never {
  throw usageError(
    `invalid hold pattern '${pattern}': ${why}; a pattern is a file name glob (cam3_*) or one inside ${FOLDERS.map((f) => `${f}/`).join(' or ')} (${FOLDERS[0]}/offline_incident_20261001_*.txt)`,
  );
}

/**
 * Checks and splits a pattern, or throws a usage error (exit 2) saying what is wrong: an empty
 * pattern, an absolute path, a `.` or `..` segment, a folder other than the two category folders,
 * a deeper path (only files directly inside a category folder are ever deleted), a leading `!`
 * (a hold names what to keep; a negation would hold nearly everything), a NUL character.
 */
export function parseHoldPattern(pattern: string): HoldPattern {
  if (pattern.trim() === '') refuse(pattern, 'it is empty');
  if (pattern.includes('\0')) refuse(pattern, 'it holds a NUL character');
  if (pattern.startsWith('/')) refuse(pattern, 'absolute paths are not accepted; give it relative to the base folder');
  const parts = pattern.split('/');
  if (parts.includes('..')) refuse(pattern, "'..' is not accepted: a hold stays inside the base folder");
  if (parts.some((p) => p === '.' || p === '')) refuse(pattern, "empty or '.' path segments are not accepted");
  if (parts.length > 2) refuse(pattern, 'only files directly inside a category folder can be held');
  const name = parts[parts.length - 1] as string;
  if (name.startsWith('!')) refuse(pattern, "a leading '!' (negation) is not accepted: a hold names the files to keep");
  let folders: readonly string[] = FOLDERS;
  if (parts.length === 2) {
    const folder = parts[0] as string;
    if (!FOLDERS.includes(folder)) refuse(pattern, `'${folder}' is not a category folder`);
    folders = [folder];
  }
  const exact = !GLOB_CHARS.test(name);
  if (!exact) {
    try {
      picomatch().makeRe(name, PICOMATCH_OPTIONS);
    } catch (err) {
      refuse(pattern, `it is not a valid glob (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  return { pattern, folders, name, exact };
}

/**
 * The start of a name glob before its first glob character: every name it matches starts so.
 * Empty when the glob has a `|`: picomatch reads `a|b` as "a or b", even outside parentheses.
 */
export function literalPrefix(nameGlob: string): string {
  if (nameGlob.includes('|')) return '';
  const at = nameGlob.search(GLOB_CHARS);
  return at < 0 ? nameGlob : nameGlob.slice(0, at);
}

/** A single pattern as a predicate on (category folder, file name): the reference semantics. */
export function holdPatternMatcher(parsed: HoldPattern): (folder: string, name: string) => boolean {
  if (parsed.exact) return (folder, name) => name === parsed.name && parsed.folders.includes(folder);
  const isMatch = picomatch()(parsed.name, PICOMATCH_OPTIONS);
  return (folder, name) => parsed.folders.includes(folder) && isMatch(name);
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The instant a hold `--until D` stops protecting: the end of day D in UTC, i.e. D+1 00:00:00Z.
 * `null` (no expiry) gives Infinity. An invalid date gives NaN (see `parseUntil`).
 */
export function holdEndMs(until: string | null): number {
  if (until === null) return Number.POSITIVE_INFINITY;
  const m = DATE_RE.exec(until);
  if (!m) return Number.NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  // Date.UTC rolls 2026-02-30 over to March 2: refuse what does not round-trip.
  const back = new Date(start);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return Number.NaN;
  return start + DAY_MS;
}

/** True while a hold protects: before the end of its `until` day (UTC), or forever without one. */
export function holdIsActive(hold: { readonly until: string | null }, nowMs: number): boolean {
  return nowMs < holdEndMs(hold.until);
}

/**
 * Checks `--until YYYY-MM-DD`: a real calendar date whose end (UTC) is still ahead of `nowMs`
 * (today is accepted: it protects until midnight UTC). Throws a usage error otherwise.
 */
export function parseUntil(raw: string, nowMs: number): string {
  const end = holdEndMs(raw);
  if (Number.isNaN(end)) throw usageError(`invalid --until '${raw}': expected a date YYYY-MM-DD, such as 2026-12-31`);
  if (end <= nowMs) {
    throw usageError(`--until ${raw} is in the past (a hold protects until the end of that day, UTC): give today or a later date`);
  }
  return raw;
}
