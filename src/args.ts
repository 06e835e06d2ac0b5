import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { usageError } from './errors.js';
import { COMMANDS, type CommandSpec, GROUPS, HELP_AFTER, OPTIONS, type OptionKey, type OptionSpec, type TakenOption } from './command-table.js';
import type { HoldInvocation } from './hold-args.js';
import type { MonitorCommand } from './monitor-args.js';

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
