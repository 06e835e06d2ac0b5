import { type Output, parseArgs } from './args.js';
import { cleanupCommand } from './cleanup-command.js';
import { type CommandContext, currentFolder } from './command-context.js';
import { type Env, loadEnv } from './config.js';
import { CleanupError, EXIT, errorMessage } from './errors.js';
import { escapeControl } from './format.js';
import { type GuardedOutput, guardOutput } from './output.js';
import { statusCommand } from './status-command.js';

/** What the program takes from its surroundings; tests pass their own. */
export interface MainDeps {
  readonly env?: Env;
  /** The current folder; undefined when it no longer exists (default: process.cwd(), if it does). */
  readonly cwd?: string | undefined;
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** The clock, read once when a run starts. */
  readonly now?: () => number;
}

/**
 * The program: parses `argv`, runs the command, and returns the exit status. The one place
 * where errors become exit statuses and messages; it never calls process.exit.
 */
export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const guarded: GuardedOutput | undefined = deps.stdout === undefined ? guardOutput(process.stdout) : undefined;
  const ctx: CommandContext = {
    env: deps.env ?? process.env,
    cwd: 'cwd' in deps ? deps.cwd : currentFolder(),
    stdout: deps.stdout ?? (guarded as GuardedOutput),
    stderr: deps.stderr ?? process.stderr,
    now: deps.now ?? Date.now,
  };
  const status = await run(argv, ctx);
  if (guarded === undefined) return status;
  // A reader that went away (EPIPE) is no failure of the run; anything else (a full disk) is.
  await guarded.settle();
  const failure = guarded.failure();
  if (failure === undefined) return status;
  const why = failure.message.startsWith(`${failure.code}:`) ? failure.message : `${failure.code ?? 'EIO'}: ${failure.message}`;
  ctx.stderr.write(`vigint-cleanup: cannot write to standard output: ${why}\n`);
  return status === EXIT.ok ? EXIT.partial : status;
}

async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  // A closed standard error (its reader gone) must not crash a run that is deleting: what it
  // means for the log is the log writer's to report.
  if (ctx.stderr === process.stderr) process.stderr.on('error', () => {});
  try {
    const command = parseArgs(argv, ctx);
    if (command.kind === 'printed') return EXIT.ok;
    const withEnv = { ...ctx, env: loadEnv(ctx.cwd, ctx.env, (warning) => ctx.stderr.write(`vigint-cleanup: warning: ${warning}\n`)) };
    switch (command.kind) {
      case 'cleanup':
        return await cleanupCommand(command.flags, withEnv);
      case 'status':
        return await statusCommand(command.flags, withEnv);
      case 'cron':
        return await (await import('./cron-command.js')).cronCommand(command.action, command.flags, withEnv);
      case 'check':
        return await (await import('./check-command.js')).checkCommand(command.argv, withEnv);
      case 'systemd':
        return await (await import('./systemd-command.js')).systemdCommand(command.action, command.flags, withEnv);
      case 'hold':
        // Loaded only when used: a plain cleanup does not pay for it.
        return await (await import('./hold-command.js')).holdCommand(command, withEnv);
    }
  } catch (err) {
    if (err instanceof CleanupError) {
      ctx.stderr.write(`vigint-cleanup: ${escapeControl(err.message)}\n`);
      return err.exitStatus;
    }
    ctx.stderr.write(`vigint-cleanup: unexpected error: ${errorMessage(err)}\n`);
    if (ctx.env.DEBUG) ctx.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.partial;
  }
}
