import { categoryById } from './categories.js';
import { escapeControl, formatDays, formatMB } from './format.js';
import type { DiskPressureReport } from './pressure.js';
import { type CategoryResult, type CleanupResult, type Tally, TALLY_KEYS } from './result.js';

const RULE = '='.repeat(70);

function categorySection(result: CategoryResult, errors: CleanupResult['errors']): string[] {
  const lines = [`${categoryById(result.id).title} Cleanup Summary:`];
  // a folder that could not be read is not "0 files": say so where its figures are
  for (const e of errors) if (e.path === result.dir) lines.push(`  Folder could not be read (${e.code}): ${escapeControl(result.dir)}`);
  const found =
    result.id === 'videos'
      ? `${result.found} (${result.kinds.video} videos, ${result.kinds.metadata} metadata)`
      : `${result.found}`;
  lines.push(`  Total files found: ${found}`, `  Files to be deleted: ${result.toDelete}`);
  // As the original tool: no size line for an empty category.
  if (result.found > 0) lines.push(`  Total size: ${formatMB(result.bytesFound)} MB`);
  if (result.held > 0) lines.push(`  Files on hold (kept): ${result.held}`);
  if (result.skipped > 0) lines.push(`  Files skipped (changed or gone since the scan): ${result.skipped}`);
  if (result.future > 0) lines.push(`  Files dated in the future (kept): ${result.future}`);
  return lines;
}

const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GB`;

/** `Disk Space:`: per file system, its space before and after, the target, what went for space. */
function diskSection(dryRun: boolean, report: DiskPressureReport): string[] {
  const lines = [`Disk Space (target: ${report.target} free):`];
  for (const f of report.filesystems) {
    lines.push(
      `  ${f.mount}: size ${gb(f.sizeBytes)}, free before ${gb(f.freeBefore)}, free after ${gb(f.freeAfter)}${dryRun ? ' (forecast)' : ''}, target ${gb(f.targetBytes)}`,
      dryRun
        ? `    Files to be deleted for space: ${f.toDelete} (${formatMB(f.bytesToDelete)} MB)`
        : `    Files deleted for space: ${f.deleted} (${formatMB(f.bytesFreed)} MB)`,
    );
    if (!f.reached) lines.push(`    Target not reached: nothing old enough is left to delete (--keep-newest, holds)`);
  }
  return lines;
}

/** The text report, as printed on stdout (ends with a newline). */
export function formatText(result: CleanupResult): string {
  const { totals } = result;
  const lines = [RULE, `${result.dryRun ? 'DRY RUN: ' : ''}AUTOMATIC CLEANUP - Retention: ${formatDays(result.retentionDays)}`, RULE, ''];
  for (const category of Object.values(result.categories)) lines.push(...categorySection(category, result.errors), '');
  if (result.interrupted !== null) {
    lines.push(`Interrupted by ${result.interrupted}: the run stopped early; run it again to finish.`, '');
  }
  if (result.logFailure) {
    lines.push(`The log (${result.logFailure.destination}) could not be written (${result.logFailure.code}): deleting stopped.`, '');
  }
  if (result.diskPressure) lines.push(...diskSection(result.dryRun, result.diskPressure), '');
  lines.push('TOTAL CLEANUP SUMMARY');
  if (result.dryRun) {
    lines.push(`Files to be deleted: ${totals.toDelete}`, `Space to be freed: ${formatMB(totals.bytesToDelete)} MB`);
  } else {
    lines.push(`Files deleted: ${totals.deleted}`, `Space freed: ${formatMB(totals.bytesFreed)} MB`);
  }
  if (totals.failed > 0) lines.push(`Errors: ${totals.failed}`);
  return `${lines.join('\n')}\n`;
}

function tallyJson(tally: Tally): Tally {
  const out = {} as Tally;
  for (const key of TALLY_KEYS) out[key] = tally[key];
  return out;
}

/** The JSON report: exactly the documented keys, in the documented order. */
export function toJson(result: CleanupResult): object {
  const categories: Record<string, object> = {};
  for (const c of Object.values(result.categories)) {
    categories[c.id] =
      c.id === 'videos'
        ? { dir: c.dir, ...tallyJson(c), videos: c.kinds.video, metadata: c.kinds.metadata }
        : { dir: c.dir, ...tallyJson(c) };
  }
  return {
    dryRun: result.dryRun,
    retentionDays: result.retentionDays,
    cutoff: result.cutoff.toISOString(),
    baseDir: result.baseDir,
    categories,
    totals: tallyJson(result.totals),
    errors: result.errors.map(({ path, code, message }) => ({ path, code, message })),
    interrupted: result.interrupted,
    diskPressure: result.diskPressure ?? null,
  };
}

export function formatJson(result: CleanupResult): string {
  return `${JSON.stringify(toJson(result), null, 2)}\n`;
}
