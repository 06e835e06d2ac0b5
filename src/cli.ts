import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATEGORIES } from './categories.js';
import { type CleanupFlags, type CronAction, type CronFlags, type Output, type StatusFlags, parseArgs } from './args.js';
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
import {
  Crontab,
  DEFAULT_CRON_LOG,
  DEFAULT_CRON_TIME,
  cronLine,
  findCrontab,
  findOurLine,
  parseCronTime,
  programPath,
  withOurLine,
  withoutOurLine,
} from './cron.js';
import { CleanupError, EXIT, errorMessage } from './errors.js';
import { openLogSink } from './log.js';
import { type Progress, startProgress } from './progress.js';
import { formatJson, formatText } from './report.js';
import { guardSignals, signalExitStatus } from './signals.js';
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

/**
 * Worker threads of the CLI's sweeps: one per core, at most two. Beyond two, the folder's own
 * lock in the kernel (unlinks in one directory take it in turn) leaves little to gain.
 */
function cliWorkers(): number {
  return Math.min(2, os.availableParallelism());
}

/** A base folder holding neither category folder may be the wrong one: say so (exit status unchanged). */
function warnIfNoCategoryFolder(baseDir: string, ctx: Context): void {
  const present = CATEGORIES.some((c) => {
    try {
      fs.lstatSync(path.join(baseDir, c.folder));
      return true;
    } catch {
      return false;
    }
  });
  if (!present) {
    ctx.stderr.write(
      `vigint-cleanup: warning: ${baseDir} holds neither ${CATEGORIES.map((c) => `${c.folder}/`).join(' nor ')}; is it the right base folder? (--base-dir, VIGINT_BASE_DIR)\n`,
    );
  }
}

async function cleanupCommand(flags: CleanupFlags, ctx: Context): Promise<number> {
  // Every input is validated before anything is opened, scanned or deleted.
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  const logFile = resolveLogFile(flags.logFile, ctx.env, ctx.cwd);
  const level = resolveLogLevel(ctx.env);
  checkBaseDir(baseDir);
  warnIfNoCategoryFolder(baseDir, ctx);

  const sink = openLogSink({ file: logFile, level });
  // Progress is for a person at a terminal, and only where the log lines are not drawn already.
  let progress: Progress | undefined;
  if (ctx.stderr.isTTY === true && (logFile !== undefined || level === 'silent')) {
    progress = startProgress(ctx.stderr, flags.dryRun === true);
  }
  const signals = guardSignals(() => sink.writer.flush());
  let closed = false;
  try {
    const result = await runCleanup({
      baseDir,
      days,
      dryRun: flags.dryRun === true,
      categories,
      log: sink,
      now: ctx.now,
      workers: cliWorkers(),
      chdir: true,
      signal: signals.signal,
      onProgress: progress && ((id, soFar) => progress?.update(id, soFar)),
    });
    progress?.stop();
    // Every line written, or why not: the report must not claim a log that is not there.
    const unwritten = await sink.close();
    closed = true;
    const logFailure = result.logFailure ?? (unwritten && { destination: sink.writer.name, code: unwritten.code ?? 'EIO', message: unwritten.message, deleted: result.totals.deleted });
    const final = logFailure === result.logFailure ? result : { ...result, logFailure };
    ctx.stdout.write(flags.json ? formatJson(final) : formatText(final));
    const first = result.errors[0];
    if (first !== undefined) {
      ctx.stderr.write(
        `vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read or deleted ` +
          `(first: ${first.path}: ${first.code}); the log has each one\n`,
      );
    }
    if (logFailure) {
      ctx.stderr.write(
        `vigint-cleanup: cannot write the log (${logFailure.destination}): ${logFailure.code} ${logFailure.message}; stopped after ${logFailure.deleted} deletions\n`,
      );
      return EXIT.partial;
    }
    if (result.interrupted !== null) return signalExitStatus(result.interrupted);
    return result.totals.failed > 0 ? EXIT.partial : EXIT.ok;
  } catch (err) {
    progress?.stop();
    if (err instanceof CleanupError) sink.logger.error({ code: err.code }, `cleanup: ${err.message}`);
    throw err;
  } finally {
    signals.dispose();
    if (!closed) await sink.close();
  }
}

async function statusCommand(flags: StatusFlags, ctx: Context): Promise<number> {
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  checkBaseDir(baseDir);
  const signals = guardSignals(() => {});
  let result: Awaited<ReturnType<typeof collectStatus>>;
  try {
    result = await collectStatus({ baseDir, days, categories, now: ctx.now, workers: cliWorkers(), chdir: true, signal: signals.signal });
  } finally {
    signals.dispose();
  }
  if (signals.signal.aborted) {
    const name = String(signals.signal.reason);
    ctx.stderr.write(`vigint-cleanup: status interrupted by ${name}; nothing was changed\n`);
    return signalExitStatus(name);
  }
  const color = ctx.stdout.isTTY === true && ctx.env.NO_COLOR === undefined;
  ctx.stdout.write(flags.json ? formatStatusJson(result) : formatStatusText(result, color));
  const first = result.errors[0];
  if (first !== undefined) {
    ctx.stderr.write(`vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read (first: ${first.path}: ${first.code})\n`);
  }
  return result.totals.failed > 0 ? EXIT.partial : EXIT.ok;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function cronCommand(action: CronAction, flags: CronFlags, ctx: Context): number {
  // Validate everything before touching the crontab.
  const time = parseCronTime(flags.time ?? DEFAULT_CRON_TIME);
  const days = action === 'install' ? resolveDays(flags.days, ctx.env) : 0;
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  if (action === 'install') checkBaseDir(baseDir);
  const crontab = new Crontab(findCrontab(ctx.env.PATH));
  const current = crontab.read();
  const ours = findOurLine(current);
  const user = userName();
  if (action === 'show') {
    if (ours === undefined) ctx.stderr.write(`vigint-cleanup: no vigint-cleanup line in the crontab of ${user}\n`);
    else ctx.stdout.write(`${ours}\n`);
    return EXIT.ok;
  }
  if (action === 'remove') {
    if (ours === undefined) {
      ctx.stdout.write(`No vigint-cleanup line in the crontab of ${user}; nothing changed.\n`);
      return EXIT.ok;
    }
    crontab.write(withoutOurLine(current));
    ctx.stdout.write(`Removed from the crontab of ${user}:\n${ours}\n`);
    return EXIT.ok;
  }
  const logFile = path.resolve(ctx.cwd, flags.logFile ?? DEFAULT_CRON_LOG);
  const line = cronLine({ ...time, node: process.execPath, program: programPath(), baseDir, days, logFile });
  crontab.write(withOurLine(current, line));
  const hhmm = `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
  ctx.stdout.write(
    `${ours === undefined ? 'Installed in' : 'Replaced in'} the crontab of ${user}:\n${line}\n` +
      `Every day at ${hhmm}, files in ${baseDir} older than ${days} days are deleted; output is appended to ${logFile}.\n` +
      'Check it with: vigint-cleanup cron show (or crontab -l); remove it with: vigint-cleanup cron remove\n',
  );
  return EXIT.ok;
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
  // A closed standard error (its reader gone) must not crash a run that is deleting: what it
  // means for the log is the log writer's to report.
  if (deps.stderr === undefined) process.stderr.on('error', () => {});
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
        return cronCommand(command.action, command.flags, withEnv);
      case 'hold':
        // Loaded only when used: a plain cleanup does not pay for it.
        return await (await import('./hold-command.js')).holdCommand(command, withEnv);
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
