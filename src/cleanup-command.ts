import { type CleanupFlags } from './args.js';
import { runCleanup } from './cleanup.js';
import { type CommandContext, classifiers, folders, leaveDeletedFolder, stderrDiscarded, warnIfNoCategoryFolder } from './command-context.js';
import {
  checkBaseDir,
  resolveBaseDir,
  resolveCategories,
  resolveDays,
  resolveDiskPressure,
  resolveExcludes,
  resolveLogFile,
  resolveLogLevel,
} from './config.js';
import { CleanupError, EXIT, plainMessage } from './errors.js';
import { escapeControl } from './format.js';
import { openLogSink } from './log.js';
import { resolveMetricsFile } from './metrics-config.js';
import { type Progress, startProgress } from './progress.js';
import { formatJson, formatText } from './report.js';
import type { LogFailure } from './result.js';
import { exitStatusOf, recordRealRunEnd } from './run-end.js';
import { guardSignals } from './signals.js';
import { formatBytes } from './size.js';
import { forgetListings } from './read-ahead.js';
import { IN_THREAD_SLICE_MS, cliWorkers, inThreadMaxEntries } from './thread-choice.js';
import { changesIntoFolders } from './working-dir.js';

/** The cleanup itself: a real run or a dry run, its report on standard output, its log. */
export async function cleanupCommand(flags: CleanupFlags, ctx: CommandContext): Promise<number> {
  // Every input is validated before anything is opened, scanned or deleted.
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  const logFile = resolveLogFile(flags.logFile, ctx.env, ctx.cwd);
  const level = resolveLogLevel(ctx.env);
  const metricsFile = resolveMetricsFile(flags.metricsFile, ctx.env, ctx.cwd);
  const diskPressure = resolveDiskPressure(flags, ctx.env);
  const excludes = resolveExcludes(flags.exclude, ctx.env);
  const workersFrom = inThreadMaxEntries(ctx.env);
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
    // (the count keeps the names it read for this thread's sweep: forgotten in the finally below)
    const dirs = folders(baseDir, categories);
    // (the files looked at ahead while the count reads on, see entry-count.ts; a real run chooses
    // by those looks, and its unlinker looks at each file again right before its unlink)
    const workers = cliWorkers(dirs, workersFrom, classifiers(categories));
    const result = await runCleanup({
      baseDir,
      days,
      dryRun: flags.dryRun === true,
      categories,
      log: sink,
      now: ctx.now,
      workers,
      chdir: changesIntoFolders(flags.dryRun === true, dirs),
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
    forgetListings();
    signals.dispose();
    if (!closed) await sink.close();
  }
}
