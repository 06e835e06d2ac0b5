import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { usageError } from './errors.js';
import { type HoldInvocation, registerHoldCommand } from './hold-args.js';

/** Flags of the cleanup command, as given (validation happens in config.ts). */
export interface CleanupFlags {
  days?: string;
  dryRun?: boolean;
  incidentsOnly?: boolean;
  videosOnly?: boolean;
  baseDir?: string;
  json?: boolean;
  logFile?: string;
}

export interface StatusFlags {
  days?: string;
  incidentsOnly?: boolean;
  videosOnly?: boolean;
  baseDir?: string;
  json?: boolean;
}

export interface CronFlags {
  time?: string;
  days?: string;
  logFile?: string;
  baseDir?: string;
}

export type CronAction = 'install' | 'remove' | 'show';

export type ParsedCommand =
  | { readonly kind: 'cleanup'; readonly flags: CleanupFlags }
  | { readonly kind: 'status'; readonly flags: StatusFlags }
  | { readonly kind: 'cron'; readonly action: CronAction; readonly flags: CronFlags }
  | ({ readonly kind: 'hold' } & HoldInvocation)
  /** Help or version was printed: nothing else to do. */
  | { readonly kind: 'printed' };

export interface Output {
  write(text: string): unknown;
  /** True for a terminal (colour and progress are only for people watching). */
  readonly isTTY?: boolean;
}

export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const HELP_AFTER = `
Deletes offline incident reports (offline_incidents/offline_incident_*.txt) and fallback videos
with their metadata (mock_sparse_ai_cloud/*.mp4, *.json) whose modification time is more than
the retention period ago. Only regular files directly inside those two folders are ever deleted;
symbolic links, folders and other names are never touched.

Examples:
  vigint-cleanup --dry-run                 what would be deleted, with the default retention
  vigint-cleanup --days 7                  delete files older than 7 days
  vigint-cleanup --videos-only --json      clean videos only, print the report as JSON
  vigint-cleanup status                    storage status (deletes nothing)
  vigint-cleanup cron install --time 03:00 daily cron job for the current user

Environment (also read from ./.env; flags win, then the environment, then .env):
  INCIDENT_RETENTION_DAYS  retention in days (default 30)
  VIGINT_BASE_DIR          base folder (default: the current folder)
  VIGINT_LOG_FILE          append JSON log lines there (default: standard error)
  LOG_LEVEL                fatal, error, warn, info, debug, trace or silent (default info)
  CLEANUP_INTERVAL_HOURS   hours between built-in cleanups (library; default 24)

Exit status: 0 done; 1 done, but some files or folders could not be read or deleted;
2 usage or configuration error (nothing done); 75 another cleanup of the folder is running.
`;

function commonOptions(command: Command): Command {
  return command
    .option('--days <n>', 'retention in days, a number > 0 such as 7, 30 or 0.5 (default: INCIDENT_RETENTION_DAYS, else 30)')
    .option('--incidents-only', 'only the offline incident files')
    .option('--videos-only', 'only the videos and their metadata')
    .option('--base-dir <dir>', 'folder holding offline_incidents/ and mock_sparse_ai_cloud/ (default: VIGINT_BASE_DIR, else the current folder)')
    .option('--json', 'print the report as one JSON document on stdout');
}

/**
 * Parses the command line into a typed command. Never exits the process: commander's exits
 * become exceptions (exitOverride), usage errors a CleanupError with exit status 2.
 */
export function parseArgs(argv: readonly string[], out: { stdout: Output; stderr: Output }): ParsedCommand {
  let parsed: ParsedCommand | undefined;
  const program = new Command('vigint-cleanup');
  const configure = (c: Command): Command =>
    c
      .exitOverride()
      .configureOutput({
        writeOut: (s) => out.stdout.write(s),
        writeErr: (s) => out.stderr.write(s),
        outputError: () => {
          // reported once, by cli.ts, from the thrown error
        },
      })
      .allowExcessArguments(false)
      .showSuggestionAfterError(true);

  configure(program)
    .description('Delete Vigint offline incidents and fallback videos older than the retention period.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .enablePositionalOptions();
  commonOptions(program)
    .option('--dry-run', 'delete nothing; report and log what would be deleted')
    .option('--log-file <path>', 'append the JSON log lines there (default: VIGINT_LOG_FILE, else standard error)')
    .addHelpText('after', HELP_AFTER)
    .action((flags: CleanupFlags) => {
      parsed = { kind: 'cleanup', flags };
    });

  configure(commonOptions(program.command('status')))
    .description('storage status per category: sizes, ages, what a cleanup would free; deletes nothing')
    .action((flags: StatusFlags) => {
      parsed = { kind: 'status', flags };
    });

  const cron = configure(program.command('cron'))
    .description('the daily cron job for the current user: install, remove or show it')
    .action(() => {
      throw usageError("cron needs an action: 'cron install', 'cron remove' or 'cron show'");
    });
  configure(cron.command('install'))
    .description('install (or replace) the daily cleanup line in your crontab')
    .addOption(new Option('--time <HH:MM>', 'time of day, 24-hour clock (default 03:00)'))
    .option('--days <n>', 'retention in days (default: the configured retention)')
    .option('--log-file <path>', 'append the cleanup output there (default /tmp/vigint_cleanup.log)')
    .option('--base-dir <dir>', 'base folder to clean (default: the current folder)')
    .action((flags: CronFlags) => {
      parsed = { kind: 'cron', action: 'install', flags };
    });
  configure(cron.command('remove'))
    .description('remove the cleanup line from your crontab')
    .action(() => {
      parsed = { kind: 'cron', action: 'remove', flags: {} };
    });
  configure(cron.command('show'))
    .description('print the cleanup line of your crontab')
    .action(() => {
      parsed = { kind: 'cron', action: 'show', flags: {} };
    });

  registerHoldCommand(program, configure, (hold) => {
    parsed = { kind: 'hold', ...hold };
  });

  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return { kind: 'printed' };
      }
      const message =
        err.code === 'commander.excessArguments'
          ? argv[0] === 'cron'
            ? `unknown cron action in '${argv.join(' ')}': expected cron install, cron remove or cron show`
            : `unexpected argument in '${argv.join(' ')}': the commands are status and cron; options start with --`
          : err.message.replace(/^error: /, '').replace(/\n+/g, ' ');
      throw usageError(`${message} (see vigint-cleanup --help)`);
    }
    throw err;
  }
  if (parsed === undefined) throw usageError('nothing to do (see vigint-cleanup --help)');
  return parsed;
}
