/** The parsed `hold` commands (args.ts declares them in its command table). */
export type HoldAction = 'add' | 'remove' | 'list';

export interface HoldFlags {
  reason?: string;
  until?: string;
  baseDir?: string;
  json?: boolean;
}

/** `hold add|remove|list`, as parsed. */
export interface HoldInvocation {
  readonly action: HoldAction;
  readonly patterns: readonly string[];
  readonly flags: HoldFlags;
}
