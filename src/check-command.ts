import path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { Output } from './args.js';
import { CATEGORIES } from './categories.js';
import { CHECK, type CheckStatus, evaluateCheck, unknownLine } from './check.js';
import { type Env, checkBaseDir, parsePositive, resolveBaseDir, resolveDays, resolveIntervalHours } from './config.js';
import { CleanupError, errorMessage, usageError } from './errors.js';
import { fileSystemsOf } from './mounts.js';
import { parseSize } from './size.js';
import { readState, statePath } from './state.js';
import { collectStatus } from './status.js';

export interface CheckContext {
  readonly env: Env;
  readonly cwd: string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly now: () => number;
}

interface CheckFlags {
  baseDir?: string;
  days?: string;
  maxAge?: string;
  minFree?: string;
}

const HELP_AFTER = `
A monitoring plugin (Nagios, Icinga, Naemon, Sensu): one line, then perfdata, and exit status
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage too). It deletes nothing and takes no lock.
CRITICAL: no real cleanup has succeeded within --max-age hours (default 2 x CLEANUP_INTERVAL_HOURS,
48), or files more than a day past the retention remain, or free space is under --min-free.
WARNING: the last run had failures or was interrupted, or no run is recorded yet.
`;

/** Parses the check's own options; commander's errors become usage errors. */
function parseCheckArgs(argv: readonly string[], ctx: CheckContext): CheckFlags | 'printed' {
  const command = new Command('vigint-cleanup check')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s), outputError: () => {} })
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'print this help')
    .description('monitoring check of the cleanup: last success, files past the retention, free space')
    .option('--base-dir <dir>', 'base folder (default: VIGINT_BASE_DIR, else the current folder)')
    .option('--days <n>', 'retention in days (default: INCIDENT_RETENTION_DAYS, else 30)')
    .option('--max-age <hours>', 'CRITICAL when no real run has succeeded for this long (default: 2 x CLEANUP_INTERVAL_HOURS, else 48)')
    .option('--min-free <size>', 'CRITICAL when free space is under this: 10%, 500MB, 20GB (default: VIGINT_MIN_FREE, else not checked)')
    .addHelpText('after', HELP_AFTER);
  try {
    command.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return 'printed';
      throw usageError(`${err.message.replace(/^error: /, '')} (see vigint-cleanup check --help)`);
    }
    throw err;
  }
  return command.opts<CheckFlags>();
}

async function runCheck(argv: readonly string[], ctx: CheckContext): Promise<number> {
  const flags = parseCheckArgs(argv, ctx);
  if (flags === 'printed') return CHECK.ok;
  if (flags.baseDir === '') throw usageError("invalid --base-dir '': expected a folder");
  const days = resolveDays(flags.days, ctx.env);
  const maxAgeHours =
    flags.maxAge !== undefined ? parsePositive(flags.maxAge, '--max-age', 24 * 3660) : 2 * resolveIntervalHours(undefined, ctx.env);
  const rawMinFree = flags.minFree ?? (ctx.env.VIGINT_MIN_FREE === '' ? undefined : ctx.env.VIGINT_MIN_FREE);
  const minFree = rawMinFree === undefined ? undefined : { raw: rawMinFree, target: parseSize(rawMinFree, flags.minFree !== undefined ? '--min-free' : 'VIGINT_MIN_FREE') };
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  checkBaseDir(baseDir);

  const nowMs = ctx.now();
  // "More than a day past the retention": older than retention + 1 day, by the status scan.
  const status = await collectStatus({ baseDir, days: days + 1, categories: CATEGORIES.map((c) => c.id), now: () => nowMs });
  const first = status.errors[0];
  const outcome = evaluateCheck({
    nowMs,
    statePath: statePath(baseDir),
    state: readState(baseDir),
    maxAgeHours,
    retentionDays: days,
    // Held files stay past the retention on purpose: not a sign of a cleanup that does not run.
    // (The oldest file is then not said: it may be one of them.)
    pastRetention: {
      files: status.totals.old.files - status.totals.held.files,
      bytes: status.totals.old.bytes - status.totals.held.bytes,
      oldest: status.totals.held.files > 0 ? undefined : status.totals.oldest,
    },
    unreadable: { count: status.totals.failed, first: first && `${first.path}: ${first.code}` },
    filesystems: fileSystemsOf(CATEGORIES.map((c) => path.join(baseDir, c.folder))),
    minFree,
  });
  ctx.stdout.write(`${outcome.line}\n`);
  return outcome.status;
}

/**
 * `vigint-cleanup check`: the plugin's line on stdout and its exit status. Every failure, bad
 * usage included, is UNKNOWN (3), never the cleanup's 2 or 1.
 */
export async function checkCommand(argv: readonly string[], ctx: CheckContext): Promise<CheckStatus> {
  try {
    return (await runCheck(argv, ctx)) as CheckStatus;
  } catch (err) {
    const message = err instanceof CleanupError ? err.message : `unexpected error: ${errorMessage(err)}`;
    ctx.stdout.write(`${unknownLine(message)}\n`);
    ctx.stderr.write(`vigint-cleanup check: ${message}\n`);
    return CHECK.unknown;
  }
}
