/**
 * The command table: every option and every command of the CLI, and the help text after the
 * options (args.ts parses argv with it). Adding a command or an option is one entry here.
 */
import type { CleanupFlags, CronFlags, ParsedCommand, StatusFlags } from './args.js';
import type { HoldFlags } from './hold-args.js';
import type { SystemdFlags } from './monitor-args.js';

/** One option, as every command that takes it spells it. */
export interface OptionSpec {
  /** Commander's flags: `--days <n>` takes a value, `--json` does not. */
  readonly flags: string;
  readonly help: string;
  /** For an option taking a value: what is accepted, said when the value is empty. */
  readonly expects?: string;
  /** May be given several times; the values are collected in order (`--exclude a --exclude b`). */
  readonly repeatable?: boolean;
}

/**
 * Every option of every command, by the key it has in the parsed flags. A command lists the keys
 * it takes (COMMANDS); `help` may be overridden there where a command means something narrower.
 */
export const OPTIONS = {
  days: {
    flags: '--days <n>',
    help: 'retention in days, a number > 0 such as 7, 30 or 0.5 (default: INCIDENT_RETENTION_DAYS, else 30)',
    expects: 'a number greater than 0, such as 7, 30 or 0.5',
  },
  dryRun: { flags: '--dry-run', help: 'delete nothing; report and log what would be deleted' },
  incidentsOnly: { flags: '--incidents-only', help: 'only the offline incident files' },
  videosOnly: { flags: '--videos-only', help: 'only the videos and their metadata' },
  baseDir: {
    flags: '--base-dir <dir>',
    help: 'folder holding offline_incidents/ and mock_sparse_ai_cloud/ (default: VIGINT_BASE_DIR, else the current folder)',
    expects: 'a folder (. for the current folder)',
  },
  json: { flags: '--json', help: 'print the report as one JSON document on stdout' },
  logFile: {
    flags: '--log-file <path>',
    help: 'append the JSON log lines there (default: VIGINT_LOG_FILE, else standard error)',
    expects: 'a file path',
  },
  time: { flags: '--time <HH:MM>', help: 'time of day, 24-hour clock (default 03:00)', expects: 'HH:MM on a 24-hour clock, such as 03:00' },
  metricsFile: {
    flags: '--metrics-file <path>',
    help: 'after a real run, write Prometheus metrics there (default: VIGINT_METRICS_FILE, else none)',
    expects: 'a file path',
  },
  exclude: {
    flags: '--exclude <glob>',
    help: 'keep files matching this glob for this run, as a hold would (repeatable; also VIGINT_EXCLUDE, comma-separated)',
    expects: 'a glob such as mock_sparse_ai_cloud/cam3_* or *_case42.*',
    repeatable: true,
  },
  minFree: {
    flags: '--min-free <size>',
    help: 'after the age pass, delete the oldest files until each file system has this much free: 10%, 20GB, 500MB (default: VIGINT_MIN_FREE, else off)',
    expects: 'a share such as 10% or a size such as 500MB or 20GB',
  },
  keepNewest: {
    flags: '--keep-newest <days>',
    help: 'never delete files younger than this for space (default: VIGINT_KEEP_NEWEST_DAYS, else 1)',
    expects: 'a number of days, 0 or more',
  },
  reason: { flags: '--reason <text>', help: 'why the files are kept (shown by hold list)', expects: 'a text, such as "case 4411"' },
  until: {
    flags: '--until <YYYY-MM-DD>',
    help: 'protect until the end of that day (UTC); default: until removed',
    expects: 'a date such as 2027-03-31',
  },
  user: {
    flags: '--user',
    help: "the current user's systemd instance (~/.config/systemd/user) instead of the system's (/etc/systemd/system, as root)",
  },
} satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;
/** An option a command takes, with its own help text where it differs. */
export type TakenOption = OptionKey | readonly [OptionKey, string];

export interface CommandSpec {
  /** Words after the program name: [] for the default command, ['cron', 'install']. */
  readonly path: readonly string[];
  readonly description: string;
  readonly options: readonly TakenOption[];
  /** The parsed command, from the flags (and positional arguments, for commands that take some). */
  readonly result: (flags: Record<string, unknown>, args: readonly string[]) => ParsedCommand;
  /** `<pattern...>` and the like, for commands taking arguments. */
  readonly args?: string;
  /**
   * The command parses its own arguments (`check`: even bad usage must exit 3, as a monitoring
   * plugin does): commander passes them on untouched; `options` are only those that may also
   * stand before the command's name.
   */
  readonly raw?: { readonly usage: string };
}

/** Command groups: a word that needs an action after it (`cron install`). */
export const GROUPS: Record<string, { readonly description: string }> = {
  cron: { description: 'the daily cron job for the current user: install, remove or show it' },
  systemd: { description: 'the daily systemd timer: install, remove or show it (system-wide as root, or --user)' },
  hold: { description: 'evidence holds: files that must never be deleted (add, remove, list)' },
};

/**
 * Every command and the options it takes: adding a command or an option is one entry here.
 * Options given before the command's words are moved after them (see `hoistOptions`).
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    path: [],
    description: 'Delete Vigint offline incidents and fallback videos older than the retention period.',
    options: ['days', 'incidentsOnly', 'videosOnly', 'baseDir', 'json', 'dryRun', 'logFile', 'metricsFile', 'exclude', 'minFree', 'keepNewest'],
    result: (flags) => ({ kind: 'cleanup', flags: flags as CleanupFlags }),
  },
  {
    path: ['status'],
    description: 'storage status per category: sizes, ages, what a cleanup would free; deletes nothing',
    options: ['days', 'incidentsOnly', 'videosOnly', 'baseDir', 'json', ['minFree', 'the free-space target, for the forecast: 10%, 20GB (default: VIGINT_MIN_FREE, else none)']],
    result: (flags) => ({ kind: 'status', flags: flags as StatusFlags }),
  },
  {
    path: ['cron', 'install'],
    description: 'install (or replace) the daily cleanup line in your crontab',
    options: [
      'time',
      ['days', 'retention in days (default: the configured retention)'],
      ['logFile', 'append the cleanup output there (default /tmp/vigint_cleanup.log)'],
      ['baseDir', 'base folder to clean (default: the current folder)'],
    ],
    result: (flags) => ({ kind: 'cron', action: 'install', flags: flags as CronFlags }),
  },
  {
    path: ['cron', 'remove'],
    description: 'remove the cleanup line from your crontab',
    options: [],
    result: () => ({ kind: 'cron', action: 'remove', flags: {} }),
  },
  {
    path: ['cron', 'show'],
    description: 'print the cleanup line of your crontab (exit 1 when there is none)',
    options: [],
    result: () => ({ kind: 'cron', action: 'show', flags: {} }),
  },
  {
    path: ['hold', 'add'],
    description:
      'hold the files matching each pattern: offline_incidents/offline_incident_20261001_*.txt, mock_sparse_ai_cloud/cam3_*, or a bare name glob (both folders)',
    args: '<pattern...>',
    options: ['reason', 'until', ['baseDir', 'base folder holding the hold file (default: VIGINT_BASE_DIR, else the current folder)']],
    result: (flags, args) => ({ kind: 'hold', action: 'add', patterns: args, flags: flags as HoldFlags }),
  },
  {
    path: ['hold', 'remove'],
    description: 'remove the holds with exactly these patterns',
    args: '<pattern...>',
    options: [['baseDir', 'base folder holding the hold file (default: VIGINT_BASE_DIR, else the current folder)']],
    result: (flags, args) => ({ kind: 'hold', action: 'remove', patterns: args, flags: flags as HoldFlags }),
  },
  {
    path: ['hold', 'list'],
    description: 'every hold: reason, who, when, expiry, and the files and bytes it matches now',
    options: [['json', 'one JSON document on stdout'], ['baseDir', 'base folder holding the hold file (default: VIGINT_BASE_DIR, else the current folder)']],
    result: (flags) => ({ kind: 'hold', action: 'list', patterns: [], flags: flags as HoldFlags }),
  },
  {
    path: ['check'],
    description: 'monitoring check (Nagios/Icinga plugin): OK, WARNING, CRITICAL or UNKNOWN; deletes nothing',
    options: ['baseDir', 'days'],
    raw: { usage: '[--base-dir d] [--days n] [--max-age <hours>] [--min-free <size>] (vigint-cleanup check --help)' },
    result: (_flags, args) => ({ kind: 'check', argv: args }),
  },
  {
    path: ['systemd', 'install'],
    description: 'install (or replace) vigint-cleanup.service and vigint-cleanup.timer, and start the timer',
    options: [
      'user',
      'time',
      ['days', 'retention in days (default: the configured retention)'],
      ['baseDir', 'base folder to clean (default: the current folder)'],
      ['logFile', 'append the JSON log lines there (default: the journal)'],
      ['metricsFile', 'write the Prometheus metrics there after each run'],
    ],
    result: (flags) => ({ kind: 'systemd', action: 'install', flags: flags as SystemdFlags }),
  },
  {
    path: ['systemd', 'remove'],
    description: 'stop and remove the timer and the service',
    options: ['user'],
    result: (flags) => ({ kind: 'systemd', action: 'remove', flags: flags as SystemdFlags }),
  },
  {
    path: ['systemd', 'show'],
    description: 'print the installed units (exit 1 when not installed)',
    options: ['user'],
    result: (flags) => ({ kind: 'systemd', action: 'show', flags: flags as SystemdFlags }),
  },
];

export const HELP_AFTER = `
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
  vigint-cleanup systemd install           daily systemd timer instead (Persistent=true)
  vigint-cleanup check                     monitoring check (exit 0-3, Nagios/Icinga)

Options may stand before or after the command (--base-dir /srv/v status); one a command does not
take is refused.

Environment (also read from ./.env; flags win, then the environment, then .env; an empty variable
counts as unset, except INCIDENT_RETENTION_DAYS, which must be a valid number when set):
  INCIDENT_RETENTION_DAYS  retention in days (default 30)
  VIGINT_BASE_DIR          base folder (default: the current folder)
  VIGINT_LOG_FILE          append JSON log lines there (default: standard error)
  LOG_LEVEL                fatal, error, warn, info, debug, trace or silent (default info)
  CLEANUP_INTERVAL_HOURS   hours between built-in cleanups (library; default 24)
  NO_COLOR                 non-empty: no colours in status on a terminal

Exit status: 0 done; 1 done, but some files or folders could not be read or deleted (or standard
output could not be written); 2 usage or configuration error (nothing done); 75 another cleanup of
the folder is running; 129, 130, 143 interrupted by SIGHUP, SIGINT, SIGTERM.
`;
