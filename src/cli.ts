import { type CleanupFlags, type Output, type StatusFlags, parseArgs } from './args.js';
import { runCleanup } from './cleanup.js';
import {
  type Env,
  checkBaseDir,
  loadEnv,
  resolveBaseDir,
  resolveCategories,
  resolveDays,
  resolveLogFile,
  resolveLogLevel,
} from './config.js';
import { CleanupError, EXIT, errorMessage } from './errors.js';
import { openLogSink } from './log.js';
import { formatJson, formatText } from './report.js';
import { collectStatus } from './status.js';
import { formatStatusJson, formatStatusText } from './status-report.js';

/** What the program takes from its surroundings; tests pass their own. */
export interface MainDeps {
  readonly env?: Env;
  readonly cwd?: string;
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** The clock, read once when a run starts. */
  readonly now?: () => number;
}

interface Context {
  readonly env: Env;
  readonly cwd: string;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly now: () => number;
}

async function cleanupCommand(flags: CleanupFlags, ctx: Context): Promise<number> {
  // Every input is validated before anything is opened, scanned or deleted.
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  const logFile = resolveLogFile(flags.logFile, ctx.env, ctx.cwd);
  const level = resolveLogLevel(ctx.env);
  checkBaseDir(baseDir);

  const sink = openLogSink({ file: logFile, level });
  try {
    const result = await runCleanup({
      baseDir,
      days,
      dryRun: flags.dryRun === true,
      categories,
      logger: sink.logger,
      now: ctx.now,
      logBackpressure: sink.backpressure,
    });
    ctx.stdout.write(flags.json ? formatJson(result) : formatText(result));
    const first = result.errors[0];
    if (first !== undefined) {
      ctx.stderr.write(
        `vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read or deleted ` +
          `(first: ${first.path}: ${first.code}); the log has each one\n`,
      );
    }
    return result.totals.failed > 0 ? EXIT.partial : EXIT.ok;
  } catch (err) {
    if (err instanceof CleanupError) sink.logger.error({ code: err.code }, `cleanup: ${err.message}`);
    throw err;
  } finally {
    await sink.close();
  }
}

async function statusCommand(flags: StatusFlags, ctx: Context): Promise<number> {
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  checkBaseDir(baseDir);
  const result = await collectStatus({ baseDir, days, categories, now: ctx.now });
  const color = ctx.stdout.isTTY === true && ctx.env.NO_COLOR === undefined;
  ctx.stdout.write(flags.json ? formatStatusJson(result) : formatStatusText(result, color));
  const first = result.errors[0];
  if (first !== undefined) {
    ctx.stderr.write(`vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read (first: ${first.path}: ${first.code})\n`);
  }
  return result.totals.failed > 0 ? EXIT.partial : EXIT.ok;
}

/**
 * The program: parses `argv`, runs the command, and returns the exit status. The one place
 * where errors become exit statuses and messages; it never calls process.exit.
 */
export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const ctx: Context = {
    env: deps.env ?? process.env,
    cwd: deps.cwd ?? process.cwd(),
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    now: deps.now ?? Date.now,
  };
  try {
    const command = parseArgs(argv, ctx);
    if (command.kind === 'printed') return EXIT.ok;
    const withEnv = { ...ctx, env: loadEnv(ctx.cwd, ctx.env) };
    switch (command.kind) {
      case 'cleanup':
        return await cleanupCommand(command.flags, withEnv);
      case 'status':
        return await statusCommand(command.flags, withEnv);
      case 'cron':
        throw new CleanupError(`${command.kind} is not available yet`, EXIT.usage);
    }
  } catch (err) {
    if (err instanceof CleanupError) {
      ctx.stderr.write(`vigint-cleanup: ${err.message}\n`);
      return err.exitStatus;
    }
    ctx.stderr.write(`vigint-cleanup: unexpected error: ${errorMessage(err)}\n`);
    if (ctx.env.DEBUG) ctx.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.partial;
  }
}
