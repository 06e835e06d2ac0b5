/** The two kinds of files Vigint leaves behind. */
export type CategoryId = 'incidents' | 'videos';

/** What a matched file is, within its category. */
export type FileKind = 'incident' | 'video' | 'metadata';

export interface Category {
  readonly id: CategoryId;
  /** Folder name under the base folder. */
  readonly folder: string;
  /** Heading of the category's section in the text report. */
  readonly title: string;
  /** Globs on the bare file name, in the order they are tried, with what a match is. */
  readonly patterns: readonly { readonly glob: string; readonly kind: FileKind }[];
}

export const CATEGORIES: readonly Category[] = [
  {
    id: 'incidents',
    folder: 'offline_incidents',
    title: 'Offline Incidents',
    patterns: [{ glob: 'offline_incident_*.txt', kind: 'incident' }],
  },
  {
    id: 'videos',
    folder: 'mock_sparse_ai_cloud',
    title: 'Mock Videos',
    patterns: [
      { glob: '*.mp4', kind: 'video' },
      { glob: '*.json', kind: 'metadata' },
    ],
  },
];

export function categoryById(id: CategoryId): Category {
  const category = CATEGORIES.find((c) => c.id === id);
  if (!category) throw new Error(`unknown category ${id}`);
  return category;
}

/**
 * A name glob of the form `prefix*suffix` (one `*`, no other glob character) as a plain string
 * test, with picomatch's meaning (the matcher fast-glob itself uses; `test/unit/categories.test.ts`
 * compares the two on many names): `*` matches any run of characters, the empty one included,
 * but never a `/`, nor a leading dot (`*.mp4` does not match `.x.mp4`); matching is
 * case-sensitive. Hand-written so that a plain cleanup does not load picomatch (about 14 ms).
 */
export function starMatcher(glob: string): (name: string) => boolean {
  const star = glob.indexOf('*');
  if (star === -1 || /[*?[\]{}()!+@|\\"$^/]/.test(glob.slice(0, star) + glob.slice(star + 1))) {
    throw new Error(`not a prefix*suffix glob: ${glob}`);
  }
  const prefix = glob.slice(0, star);
  const suffix = glob.slice(star + 1);
  const min = Math.max(1, prefix.length + suffix.length);
  return (name) =>
    name.length >= min &&
    name.startsWith(prefix) &&
    name.endsWith(suffix) &&
    !name.includes('/') &&
    (prefix !== '' || firstOk(name));
}

/**
 * What a leading `*` of picomatch (`(?!\.)(?=.)`) lets start a name: not a dot, nor a line
 * terminator (a JavaScript regex's `.` refuses \n, \r, U+2028, U+2029). Kept as picomatch had it:
 * a name it never matched is never deleted now either.
 */
function firstOk(name: string): boolean {
  const c = name.charCodeAt(0);
  return c !== 0x2e && c !== 0x0a && c !== 0x0d && c !== 0x2028 && c !== 0x2029;
}

/**
 * Compiles a category's globs into one name classifier, with the contract's rules: `*` never
 * matches a leading dot, matching is case-sensitive, and `*` never crosses a `/` (starMatcher).
 */
export function nameClassifier(category: Category): (name: string) => FileKind | undefined {
  const tests = category.patterns.map((p) => ({ test: starMatcher(p.glob), kind: p.kind }));
  return (name) => {
    for (const t of tests) if (t.test(name)) return t.kind;
    return undefined;
  };
}
