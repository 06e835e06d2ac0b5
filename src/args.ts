import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { usageError } from './errors.js';
import type { HoldFlags, HoldInvocation } from './hold-args.js';
import type { MonitorCommand, SystemdFlags } from './monitor-args.js';

/** Flags of the cleanup command, as given (validation happens in config.ts). */
export interface CleanupFlags {
  days?: string;
  dryRun?: boolean;
  incidentsOnly?: boolean;
  videosOnly?: boolean;
  baseDir?: string;
  json?: boolean;
  logFile?: string;
  /** Prometheus metrics after each real run (resolved by metrics-config.ts). */
  metricsFile?: string;
  /** Globs protected for this run, as given (repeatable). */
  exclude?: string[];
  /** Free-space target and the youngest files kept from it (config.ts resolveDiskPressure). */
  minFree?: string;
  keepNewest?: string;
}

export interface StatusFlags {
  minFree?: string;
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
  | MonitorCommand
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

/** One option, as every command that takes it spells it. */
interface OptionSpec {
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
const OPTIONS = {
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

type OptionKey = keyof typeof OPTIONS;
/** An option a command takes, with its own help text where it differs. */
type TakenOption = OptionKey | readonly [OptionKey, string];

interface CommandSpec {
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
const GROUPS: Record<string, { readonly description: string }> = {
  cron: { description: 'the daily cron job for the current user: install, remove or show it' },
  systemd: { description: 'the daily systemd timer: install, remove or show it (system-wide as root, or --user)' },
  hold: { description: 'evidence holds: files that must never be deleted (add, remove, list)' },
};

/**
 * Every command and the options it takes: adding a command or an option is one entry here.
 * Options given before the command's words are moved after them (see `hoistOptions`).
 */
const COMMANDS: readonly CommandSpec[] = [
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

const HELP_FLAGS = new Set(['-h', '--help', '-V', '--version']);
const specOf = (taken: TakenOption): [OptionKey, string | undefined] => (typeof taken === 'string' ? [taken, undefined] : [taken[0], taken[1]]);
const optionName = (key: OptionKey): string => OPTIONS[key].flags.split(' ')[0] as string;
const takesValue = (key: OptionKey): boolean => OPTIONS[key].flags.includes('<');
const keyOfName = (name: string): OptionKey | undefined => (Object.keys(OPTIONS) as OptionKey[]).find((k) => optionName(k) === name);
/** "status and cron": the first words of the commands, from the table. */
const topWords = (): string => {
  const words = [...new Set(COMMANDS.map((c) => c.path[0]).filter((w) => w !== undefined))];
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? 'none');
};
const commandName = (path: readonly string[]): string => (path.length === 0 ? 'the cleanup (no command)' : `'${path.join(' ')}'`);

/**
 * Finds the command words in `argv` and moves every option given before them to just after
 * them, so `--base-dir B status` is `status --base-dir B`. An option the command does not take
 * is refused here, naming it: an option is never silently dropped.
 */
function hoistOptions(argv: readonly string[]): { argv: string[] } {
  const words: string[] = [];
  const before: { key: OptionKey; tokens: string[] }[] = [];
  const keep: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') break;
    // a command that parses its own arguments (check) gets what follows its name untouched
    if (words.length > 0 && COMMANDS.some((c) => c.raw !== undefined && c.path.join(' ') === words.join(' '))) break;

    if (token.startsWith('-')) {
      const name = token.split('=')[0] as string;
      const key = keyOfName(name);
      if (key === undefined) {
        // help, version, or an unknown option: commander handles it where it stands
        if (words.length > 0) break;
        keep.push(token);
        continue;
      }
      const tokens = [token];
      if (takesValue(key) && !token.includes('=') && i + 1 < argv.length) tokens.push(argv[++i] as string);
      before.push({ key, tokens });
      continue;
    }
    const next = [...words, token];
    if (!COMMANDS.some((c) => next.every((w, j) => c.path[j] === w))) break;
    words.push(token);
  }
  const group = words.length > 0 ? GROUPS[words.join(' ')] : undefined;
  if (group !== undefined && [argv[i] ?? '', ...keep].some((t) => HELP_FLAGS.has(t))) {
    return { argv: [...argv] };
  }
  if (group !== undefined) {
    const actions = COMMANDS.filter((c) => c.path.length === words.length + 1 && words.every((w, j) => c.path[j] === w)).map((c) => c.path.join(' '));
    const action = argv[i];
    const choices = `${actions.slice(0, -1).join(', ')} or ${actions.at(-1)}`;
    throw usageError(
      action === undefined || action.startsWith('-')
        ? `${words.join(' ')} needs an action: ${choices} (see vigint-cleanup --help)`
        : `unknown ${words.join(' ')} action '${action}': expected ${choices} (see vigint-cleanup --help)`,
    );
  }
  const spec = COMMANDS.find((c) => c.path.length === words.length && c.path.every((w, j) => words[j] === w)) as CommandSpec;
  const taken = new Set(spec.options.map((t) => specOf(t)[0]));
  for (const { key } of before) {
    // (a command with its own parser judges them itself: check's bad usage is UNKNOWN, exit 3)
    if (!taken.has(key) && words.length > 0 && spec.raw === undefined) {
      const accepted = spec.options.length === 0 ? 'it takes no options' : `it takes ${spec.options.map((t) => optionName(specOf(t)[0])).join(', ')}`;
      throw usageError(`${optionName(key)} does not apply to ${commandName(spec.path)}: ${accepted} (see vigint-cleanup ${spec.path.join(' ')} --help)`);
    }
  }
  return { argv: [...keep, ...words, ...before.flatMap((b) => b.tokens), ...argv.slice(i)] };
}

/**
 * A value option's parser: refuses an empty value (it would otherwise mean "the default" for a
 * path, or the current folder) and the same option given twice with different values.
 */
function valueParser(key: OptionKey): (value: string, previous: unknown) => unknown {
  const spec: OptionSpec = OPTIONS[key];
  const name = optionName(key);
  return (value, previous) => {
    if (value === '') throw usageError(`invalid ${name} '': expected ${spec.expects ?? 'a value'}`);
    if (spec.repeatable) return [...((previous as string[] | undefined) ?? []), value];
    if (previous !== undefined && previous !== value) {
      throw usageError(`${name} given twice, as '${String(previous)}' and '${value}': give it once`);
    }
    return value;
  };
}

function addOptions(command: Command, options: readonly TakenOption[]): Command {
  for (const taken of options) {
    const [key, help] = specOf(taken);
    const option = new Option(OPTIONS[key].flags, help ?? OPTIONS[key].help);
    if (takesValue(key)) option.argParser(valueParser(key));
    command.addOption(option);
  }
  return command;
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
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .enablePositionalOptions()
    .addHelpText('after', HELP_AFTER);

  const groups = new Map<string, Command>();
  for (const spec of COMMANDS) {
    let parent = program;
    for (let depth = 0; depth < spec.path.length - 1; depth++) {
      const key = spec.path.slice(0, depth + 1).join(' ');
      let group = groups.get(key);
      if (group === undefined) {
        group = configure(parent.command(spec.path[depth] as string)).description(GROUPS[key]?.description ?? '');
        groups.set(key, group);
      }
      parent = group;
    }
    const last = spec.path.at(-1);
    const command = last === undefined ? program : configure(parent.command(last));
    command.description(spec.description);
    if (spec.raw !== undefined) {
      // its own parser sees every argument, options included (and prints its own help)
      command.usage(spec.raw.usage).helpOption(false).allowUnknownOption().allowExcessArguments().argument('[arguments...]');
      command.action((args: string[]) => {
        parsed = spec.result({}, args);
      });
      continue;
    }
    if (spec.args !== undefined) command.arguments(spec.args);
    addOptions(command, spec.options).action((...params: unknown[]) => {
      const cmd = params.at(-1) as Command;
      parsed = spec.result(cmd.opts(), cmd.args);
    });
  }

  try {
    const { argv: ordered } = hoistOptions(argv);
    program.parse(ordered, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return { kind: 'printed' };
      }
      const message =
        err.code === 'commander.excessArguments'
          ? `unexpected argument in '${argv.join(' ')}': the commands are ${topWords()}; options start with --`
          : err.message.replace(/^error: /, '').replace(/\n+/g, ' ');
      throw usageError(`${message} (see vigint-cleanup --help)`);
    }
    throw err;
  }
  if (parsed === undefined) throw usageError('nothing to do (see vigint-cleanup --help)');
  return parsed;
}
