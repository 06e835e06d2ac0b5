import type { Command } from 'commander';
import { usageError } from './errors.js';

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

const BASE_DIR_HELP = 'base folder holding the hold file (default: VIGINT_BASE_DIR, else the current folder)';

/**
 * Adds `hold add|remove|list` to the program. `configure` gives each command the program's
 * error handling; `done` receives what was parsed. Options given before `hold` (`--base-dir B
 * hold list`) are honoured when they apply (`--base-dir`; `--json` for list), refused otherwise.
 */
export function registerHoldCommand(program: Command, configure: (c: Command) => Command, done: (h: HoldInvocation) => void): void {
  const finish = (action: HoldAction, patterns: readonly string[], flags: HoldFlags): void => {
    const before = program.opts<Record<string, unknown>>();
    const merged = { ...flags };
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) continue;
      if (key === 'baseDir' && merged.baseDir === undefined) merged.baseDir = String(value);
      else if (key === 'json' && action === 'list') merged.json = true;
      else throw usageError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to 'hold ${action}'`);
    }
    done({ action, patterns, flags: merged });
  };
  const hold = configure(program.command('hold'))
    .description('evidence holds: files that must never be deleted (add, remove, list)')
    .action(() => {
      throw usageError("hold needs an action: 'hold add <pattern>...', 'hold remove <pattern>...' or 'hold list'");
    });
  configure(hold.command('add'))
    .description('hold the files matching each pattern: offline_incidents/offline_incident_20261001_*.txt, mock_sparse_ai_cloud/cam3_*, or a bare name glob (both folders)')
    .argument('<pattern...>', 'glob relative to the base folder, or a bare file name glob')
    .option('--reason <text>', 'why the files are kept (shown by hold list)')
    .option('--until <YYYY-MM-DD>', 'protect until the end of that day (UTC); default: until removed')
    .option('--base-dir <dir>', BASE_DIR_HELP)
    .action((patterns: string[], flags: HoldFlags) => finish('add', patterns, flags));
  configure(hold.command('remove'))
    .description('remove the holds with exactly these patterns')
    .argument('<pattern...>', 'a pattern as hold list shows it')
    .option('--base-dir <dir>', BASE_DIR_HELP)
    .action((patterns: string[], flags: HoldFlags) => finish('remove', patterns, flags));
  configure(hold.command('list'))
    .description('every hold: reason, who, when, expiry, and the files and bytes it matches now')
    .option('--json', 'one JSON document on stdout')
    .option('--base-dir <dir>', BASE_DIR_HELP)
    .allowExcessArguments(true)
    .action((flags: HoldFlags, command: Command) => {
      if (command.args.length > 0) throw usageError(`hold list takes no argument (got '${command.args.join(' ')}')`);
      finish('list', [], flags);
    });
}
