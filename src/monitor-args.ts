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
