import type { StatusFlags } from './args.js';
import { type CommandContext, classifiers, folders, leaveDeletedFolder } from './command-context.js';
import { checkBaseDir, resolveBaseDir, resolveCategories, resolveDays, resolveDiskPressure } from './config.js';
import { EXIT } from './errors.js';
import { escapeControl } from './format.js';
import { useColor } from './output.js';
import { guardSignals, signalExitStatus } from './signals.js';
import { forgetListings } from './read-ahead.js';
import { IN_THREAD_SLICE_MS, cliWorkers, inThreadMaxEntries } from './thread-choice.js';

/** `status`: the storage figures of each category, nothing changed. */
export async function statusCommand(flags: StatusFlags, ctx: CommandContext): Promise<number> {
  const days = resolveDays(flags.days, ctx.env);
  const categories = resolveCategories(flags);
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  const minFree = resolveDiskPressure({ minFree: flags.minFree }, ctx.env);
  const workersFrom = inThreadMaxEntries(ctx.env);
  checkBaseDir(baseDir);
  leaveDeletedFolder(baseDir);
  // loaded here, not at start-up: a plain cleanup has no use for them
  const { collectStatus } = await import('./status.js');
  const { formatStatusJson, formatStatusText } = await import('./status-report.js');
  const signals = guardSignals(() => {});
  let result: Awaited<ReturnType<typeof collectStatus>>;
  try {
    // (the count keeps the names it read for this thread's scan: forgotten in the finally below)
    const workers = cliWorkers(folders(baseDir, categories), workersFrom, classifiers(categories));
    result = await collectStatus({ baseDir, days, categories, now: ctx.now, workers, chdir: true, sliceMs: workers === 0 ? IN_THREAD_SLICE_MS : undefined, signal: signals.signal, minFree });
  } finally {
    forgetListings();
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
