import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATEGORIES, type CategoryId, categoryById } from './categories.js';
import { type CleanupFlags, type CronAction, type CronFlags, type Output, type StatusFlags, parseArgs } from './args.js';
import { runCleanup } from './cleanup.js';
import {
  type Env,
  absolutePath,
  checkBaseDir,
  loadEnv,
  resolveBaseDir,
  resolveCategories,
  resolveDays,
  resolveLogFile,
  resolveDiskPressure,
  resolveExcludes,
  resolveLogLevel,
} from './config.js';
import { CleanupError, EXIT, errorMessage, plainMessage } from './errors.js';
import { escapeControl, formatDays } from './format.js';
import { openLogSink } from './log.js';
import { formatBytes } from './size.js';
import { resolveMetricsFile } from './metrics-config.js';
import { type GuardedOutput, guardOutput, useColor } from './output.js';
import { type Progress, startProgress } from './progress.js';
import { formatJson, formatText } from './report.js';
import type { LogFailure } from './result.js';
import { exitStatusOf, recordRealRunEnd } from './run-end.js';
import { guardSignals, signalExitStatus } from './signals.js';
import { IN_THREAD_SLICE_MS, cliWorkers } from './thread-choice.js';

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

interface Context {
  readonly env: Env;
  /** Undefined when the current folder was deleted: then only absolute paths work. */
  readonly cwd: string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly now: () => number;
}

/** The category folders of a run, for cliWorkers. */
function folders(baseDir: string, categories: readonly CategoryId[]): string[] {
  return categories.map((id) => path.join(baseDir, categoryById(id).folder));
}

/**
 * Run from a folder that was deleted: the sweeps change folders and come back to where they
 * started, which no longer exists. The base folder (absolute, checked) is where they come back to.
 */
function leaveDeletedFolder(baseDir: string): void {
  if (currentFolder() === undefined) process.chdir(baseDir);
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
      `vigint-cleanup: warning: ${escapeControl(baseDir)} holds neither ${CATEGORIES.map((c) => `${c.folder}/`).join(' nor ')}; is it the right base folder? (--base-dir, VIGINT_BASE_DIR)\n`,
    );
  }
}

/** True when file descriptor 2 is /dev/null (what Node opens in place of a closed one). */
function stderrDiscarded(): boolean {
  try {
    const err = fs.fstatSync(2);
    const devNull = fs.statSync('/dev/null');
    return err.isCharacterDevice() && err.rdev === devNull.rdev;
  } catch {
    return false;
  }
}

async function cleanupCommand(flags: CleanupFlags, ctx: Context): Promise<number> {
  // Every input is validated before anything is opened, scanned or deleted.
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  const logFile = resolveLogFile(flags.logFile, ctx.env, ctx.cwd);
  const level = resolveLogLevel(ctx.env);
  const metricsFile = resolveMetricsFile(flags.metricsFile, ctx.env, ctx.cwd);
  const diskPressure = resolveDiskPressure(flags, ctx.env);
  const excludes = resolveExcludes(flags.exclude, ctx.env);
  checkBaseDir(baseDir);
  if (logFile === undefined && flags.dryRun !== true && ctx.stderr === process.stderr && stderrDiscarded()) {
    // Node gives a closed standard error /dev/null: the lines would go nowhere
    throw new CleanupError(
      'standard error is closed or /dev/null and no --log-file is given: a real run needs its log (the audit trail); nothing was deleted',
      EXIT.partial,
    );
  }
  leaveDeletedFolder(baseDir);
  warnIfNoCategoryFolder(baseDir, ctx);

  const workers = cliWorkers(folders(baseDir, categories));
  // JSON in files, pipes and cron; a readable form for a person at a terminal
  const sink = openLogSink({ file: logFile, level, readable: ctx.stderr.isTTY === true && ctx.env.TERM !== 'dumb' });
  // Progress is for a person at a terminal, and only where the log lines are not drawn already.
  let progress: Progress | undefined;
  if (ctx.stderr.isTTY === true && ctx.env.TERM !== 'dumb' && logFile !== undefined) {
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
      workers,
      chdir: true,
      // in this thread, the event loop must turn now and then: signals, hold changes, progress
      sliceMs: workers === 0 ? IN_THREAD_SLICE_MS : undefined,
      signal: signals.signal,
      onProgress: progress && ((id, soFar) => progress?.update(id, soFar)),
      excludes,
      diskPressure,
    });
    progress?.stop();
    // The log written out first: its failure changes the exit status the state file records.
    let late: LogFailure | undefined;
    if (!result.logFailure && !(await sink.writer.retry())) {
      const err = sink.writer.failure;
      late = { destination: sink.writer.name, code: err?.code ?? 'EIO', message: err ? plainMessage(err) : 'lines left unwritten', deleted: result.totals.deleted };
    }
    if (!result.dryRun) {
      // The run's end in the state file, and the metrics: each a warning when it cannot be written.
      const ended = late ? { ...result, logFailure: late } : result;
      const failures = await recordRealRunEnd({ result: ended, endMs: ctx.now(), exitStatus: exitStatusOf(ended), metricsFile });
      if (failures.state) sink.logger.warn({ path: failures.state.path, code: failures.state.code }, 'cleanup: could not record the end of this run in the state file');
      if (failures.metrics) {
        sink.logger.warn({ path: failures.metrics.path, code: failures.metrics.code, err: failures.metrics.message }, 'cleanup: could not write the metrics file');
        ctx.stderr.write(`vigint-cleanup: warning: cannot write the metrics file ${failures.metrics.path}: ${failures.metrics.code} ${failures.metrics.message}\n`);
      }
    }
    // Every line written, or why not: the report must not claim a log that is not there.
    const unwritten = await sink.close();
    closed = true;
    const logFailure =
      result.logFailure ?? late ?? (unwritten && { destination: sink.writer.name, code: unwritten.code ?? 'EIO', message: plainMessage(unwritten), deleted: result.totals.deleted });
    const final = logFailure === result.logFailure ? result : { ...result, logFailure };
    ctx.stdout.write(flags.json ? formatJson(final) : formatText(final));
    const first = result.errors[0];
    if (first !== undefined) {
      ctx.stderr.write(
        `vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read or deleted ` +
          `(first: ${escapeControl(first.path)}: ${first.code}); the log has each one\n`,
      );
    }
    if (logFailure) {
      ctx.stderr.write(
        `vigint-cleanup: cannot write the log (${logFailure.destination}): ${logFailure.code} ${logFailure.message}; stopped after ${logFailure.deleted} deletions\n`,
      );
    }
    if (result.holdsFailure !== undefined) {
      ctx.stderr.write(`vigint-cleanup: ${result.holdsFailure}; the run stopped deleting after ${result.totals.deleted} deletions\n`);
    }
    for (const f of result.diskPressure?.filesystems ?? []) {
      if (!f.reached) {
        ctx.stderr.write(
          `vigint-cleanup: the free-space target ${result.diskPressure?.target} ${result.dryRun ? 'would not be' : 'was not'} reached on ${escapeControl(f.mount)}: ` +
            `${formatBytes(f.freeAfter)} free of ${formatBytes(f.targetBytes)} wanted; nothing old enough is left (--keep-newest, holds)\n`,
        );
      }
    }
    return exitStatusOf(final);
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
  const minFree = resolveDiskPressure({ minFree: flags.minFree }, ctx.env);
  checkBaseDir(baseDir);
  leaveDeletedFolder(baseDir);
  const workers = cliWorkers(folders(baseDir, categories));
  // loaded here, not at start-up: a plain cleanup has no use for them
  const { collectStatus } = await import('./status.js');
  const { formatStatusJson, formatStatusText } = await import('./status-report.js');
  const signals = guardSignals(() => {});
  let result: Awaited<ReturnType<typeof collectStatus>>;
  try {
    result = await collectStatus({ baseDir, days, categories, now: ctx.now, workers, chdir: true, sliceMs: workers === 0 ? IN_THREAD_SLICE_MS : undefined, signal: signals.signal, minFree });
  } finally {
    signals.dispose();
  }
  if (signals.signal.aborted) {
    const name = String(signals.signal.reason);
    ctx.stderr.write(`vigint-cleanup: status interrupted by ${name}; nothing was changed\n`);
    return signalExitStatus(name);
  }
  ctx.stdout.write(flags.json ? formatStatusJson(result) : formatStatusText(result, useColor(ctx.stdout, ctx.env)));
  const first = result.errors[0];
  if (first !== undefined) {
    ctx.stderr.write(`vigint-cleanup: ${result.totals.failed} file(s) or folder(s) could not be read (first: ${escapeControl(first.path)}: ${first.code})\n`);
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

async function cronCommand(action: CronAction, flags: CronFlags, ctx: Context): Promise<number> {
  // loaded here, not at start-up: a plain cleanup has no use for it
  const { Crontab, DEFAULT_CRON_LOG, DEFAULT_CRON_TIME, checkCronLogFile, checkCronPath, cronLine, findCrontab, findOurLine, parseCronTime, programPath, withOurLine, withoutOurLine } =
    await import('./cron.js');
  // Validate everything before touching the crontab, as the cleanup itself would validate it:
  // a line that the job then refuses fails silently every night.
  const time = parseCronTime(flags.time ?? DEFAULT_CRON_TIME);
  const user = userName();
  if (action !== 'install') {
    const crontab = new Crontab(findCrontab(ctx.env.PATH));
    const current = crontab.read();
    const ours = findOurLine(current);
    if (action === 'show') {
      if (ours === undefined) {
        ctx.stderr.write(`vigint-cleanup: no vigint-cleanup line in the crontab of ${user}\n`);
        return EXIT.partial;
      }
      ctx.stdout.write(`${ours}\n`);
      return EXIT.ok;
    }
    if (ours === undefined) {
      ctx.stdout.write(`No vigint-cleanup line in the crontab of ${user}; nothing changed.\n`);
      return EXIT.ok;
    }
    crontab.write(withoutOurLine(current));
    ctx.stdout.write(`Removed from the crontab of ${user}:\n${ours}\n`);
    return EXIT.ok;
  }
  const days = resolveDays(flags.days, ctx.env);
  const baseDir = checkCronPath(resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd), 'the base folder');
  checkBaseDir(baseDir);
  const logFile = checkCronPath(absolutePath(flags.logFile ?? DEFAULT_CRON_LOG, ctx.cwd, '--log-file'), 'the log file');
  checkCronLogFile(logFile);
  const node = checkCronPath(process.execPath, 'the node program');
  const program = checkCronPath(programPath(), 'the vigint-cleanup program');
  const line = cronLine({ ...time, node, program, baseDir, days, logFile });
  const crontab = new Crontab(findCrontab(ctx.env.PATH));
  const current = crontab.read();
  const ours = findOurLine(current);
  crontab.write(withOurLine(current, line));
  const hhmm = `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
  ctx.stdout.write(
    `${ours === undefined ? 'Installed in' : 'Replaced in'} the crontab of ${user}:\n${line}\n` +
      `Every day at ${hhmm}, files in ${baseDir} older than ${formatDays(days)} are deleted; output is appended to ${logFile}.\n` +
      `The job runs in ${baseDir}: the .env it reads is ${baseDir}/.env.\n` +
      'Check it with: vigint-cleanup cron show (or crontab -l); remove it with: vigint-cleanup cron remove\n',
  );
  return EXIT.ok;
}

/** The current folder, or undefined when it was deleted under us (uv_cwd ENOENT). */
function currentFolder(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

/**
 * The program: parses `argv`, runs the command, and returns the exit status. The one place
 * where errors become exit statuses and messages; it never calls process.exit.
 */
export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const guarded: GuardedOutput | undefined = deps.stdout === undefined ? guardOutput(process.stdout) : undefined;
  const ctx: Context = {
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

async function run(argv: readonly string[], ctx: Context): Promise<number> {
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
        return await cronCommand(command.action, command.flags, withEnv);
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
