import type { Command } from 'commander';
import { usageError } from './errors.js';

/** Flags of `systemd install|show|remove`, as given (validated in systemd-command.ts). */
export interface SystemdFlags {
  user?: boolean;
  time?: string;
  days?: string;
  baseDir?: string;
  logFile?: string;
  metricsFile?: string;
}

export type SystemdAction = 'install' | 'remove' | 'show';

export type MonitorCommand =
  /** The check parses its own options (check-command.ts), so that even bad usage exits 3, not 2. */
  | { readonly kind: 'check'; readonly argv: readonly string[] }
  | { readonly kind: 'systemd'; readonly action: SystemdAction; readonly flags: SystemdFlags };

/**
 * Adds `check` and `systemd` to the program. Only declarations: the commands' code is loaded by
 * cli.ts when one of them runs, so a plain cleanup pays nothing for them.
 */
export function registerMonitorCommands(program: Command, configure: (c: Command) => Command, set: (parsed: MonitorCommand) => void): void {
  configure(program.command('check'))
    .description('monitoring check (Nagios/Icinga plugin): OK, WARNING, CRITICAL or UNKNOWN; deletes nothing')
    .usage('[--base-dir d] [--days n] [--max-age <hours>] [--min-free <size>] (vigint-cleanup check --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]')
    .action((argv: string[]) => set({ kind: 'check', argv }));

  const systemd = configure(program.command('systemd'))
    .description('the daily systemd timer: install, remove or show it (system-wide as root, or --user)')
    .argument('[action]')
    .action((action?: string) => {
      throw usageError(
        action === undefined
          ? "systemd needs an action: 'systemd install', 'systemd remove' or 'systemd show'"
          : `unknown systemd action '${action}': expected systemd install, systemd remove or systemd show`,
      );
    });
  const user = (c: Command): Command => c.option('--user', 'the current user\'s systemd instance (~/.config/systemd/user) instead of the system\'s (/etc/systemd/system, as root)');
  user(configure(systemd.command('install')))
    .description('install (or replace) vigint-cleanup.service and vigint-cleanup.timer, and start the timer')
    .option('--time <HH:MM>', 'time of day, 24-hour clock (default 03:00)')
    .option('--days <n>', 'retention in days (default: the configured retention)')
    .option('--base-dir <dir>', 'base folder to clean (default: the current folder)')
    .option('--log-file <path>', 'append the JSON log lines there (default: the journal)')
    .option('--metrics-file <path>', 'write the Prometheus metrics there after each run')
    .action((flags: SystemdFlags) => set({ kind: 'systemd', action: 'install', flags }));
  user(configure(systemd.command('remove')))
    .description('stop and remove the timer and the service')
    .action((flags: SystemdFlags) => set({ kind: 'systemd', action: 'remove', flags }));
  user(configure(systemd.command('show')))
    .description('print the installed units (exit 1 when not installed)')
    .action((flags: SystemdFlags) => set({ kind: 'systemd', action: 'show', flags }));
}
