import picomatch from 'picomatch';

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
 * Compiles a category's globs into one name classifier. picomatch is the matcher fast-glob
 * itself uses; its defaults are the contract's rules: `*` never matches a leading dot, matching
 * is case-sensitive, and `*` never crosses a `/`.
 */
export function nameClassifier(category: Category): (name: string) => FileKind | undefined {
  const tests = category.patterns.map((p) => ({ re: picomatch.makeRe(p.glob, { dot: false }), kind: p.kind }));
  return (name) => {
    for (const t of tests) if (t.re.test(name)) return t.kind;
    return undefined;
  };
}
