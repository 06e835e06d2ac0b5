import type { CompileGuard, Guard, HoldRules } from './hold-follow.js';
import { NO_GUARD, noRules } from './hold-follow.js';
import { compileProtection } from './protection.js';

/**
 * The rules compiled once (protection.ts: exact names in a map, globs behind one prefix regex);
 * a hold whose day ended before `nowMs` (the run's start) is ignored.
 */
export const compileGuard: CompileGuard = (rules: HoldRules, nowMs: number): Guard => {
  if (noRules(rules)) return NO_GUARD;
  const protection = compileProtection({ holds: rules.holds, excludes: rules.excludes, nowMs });
  return { heldBy: (folder, name) => protection.isProtected(folder, name), inFolder: (folder) => protection.inFolder(folder) };
};
