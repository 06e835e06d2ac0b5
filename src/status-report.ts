import { categoryById } from './categories.js';
import { escapeControl, formatBytes, formatDays, groupDigits } from './format.js';
import { mtimeText } from './log-line.js';
import { MS_PER_DAY } from './plan.js';
import { AGE_BUCKETS, type FileMark, type StorageFigures } from './figures.js';
import type { StatusResult } from './status.js';

const RULE = '='.repeat(70);
const BAR_WIDTH = 30;

const ANSI = { bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39] } as const;
type Paint = (style: keyof typeof ANSI, text: string) => string;
const ansi: Paint = (style, text) => `\u001b[${ANSI[style][0]}m${text}\u001b[${ANSI[style][1]}m`;

const plural = (n: number, word: string): string => `${groupDigits(n)} ${word}${n === 1 ? '' : 's'}`;

/** "3 days ago", "5 hours ago", "in 2 days" (future). */
export function formatAge(ageMs: number): string {
  const abs = Math.abs(ageMs);
  const [n, unit] =
    abs >= MS_PER_DAY ? [Math.floor(abs / MS_PER_DAY), 'day'] : abs >= 3_600_000 ? [Math.floor(abs / 3_600_000), 'hour'] : [Math.floor(abs / 60_000), 'minute'];
  return ageMs < 0 ? `in ${plural(n, unit)}` : `${plural(n, unit)} ago`;
}

/** To the second; a time outside the range of a date (a file can carry one) as its raw seconds. */
const isoSeconds = (ms: number): string => {
  const text = mtimeText(ms);
  return text.startsWith('@') ? text : `${text.slice(0, 19)}Z`;
};

function markLine(label: string, mark: FileMark | undefined, startMs: number): string {
  return mark === undefined ? `  ${label}none` : `  ${label}${isoSeconds(mark.mtimeMs)} (${formatAge(startMs - mark.mtimeMs)})  ${escapeControl(mark.path)}`;
}

function figuresLines(f: StorageFigures, result: StatusResult, paint: Paint, withKinds: 'incidents' | 'videos' | 'all'): string[] {
  const startMs = result.startedAt.getTime();
  const kinds =
    withKinds === 'videos'
      ? ` (${f.kinds.video} videos, ${f.kinds.metadata} metadata)`
      : withKinds === 'all' && f.kinds.video + f.kinds.metadata > 0
        ? ` (${f.kinds.incident} incidents, ${f.kinds.video} videos, ${f.kinds.metadata} metadata)`
        : '';
  const lines = [
    `  Files:    ${groupDigits(f.files)}${kinds}, ${formatBytes(f.bytes)}`,
    `  Older than ${formatDays(result.retentionDays)}: ${paint(f.old.files > 0 ? 'yellow' : 'green', `${plural(f.old.files, 'file')}, ${formatBytes(f.old.bytes)}`)} (what a cleanup would free now)`,
    ...(f.held.files > 0 ? [`  On hold:  ${plural(f.held.files, 'file')}, ${formatBytes(f.held.bytes)} of those (kept by holds; a cleanup does not free them)`] : []),
    markLine('Oldest:   ', f.oldest, startMs),
    markLine('Newest:   ', f.newest, startMs),
  ];
  if (f.future.files > 0) {
    lines.push(paint('red', `  Dated in the future: ${plural(f.future.files, 'file')}, ${formatBytes(f.future.bytes)} (check the clock; never deleted)`));
  }
  if (f.failed > 0) lines.push(paint('red', `  Could not be read (left out of these figures): ${f.failed}`));
  const widest = Math.max(...f.buckets.map((b) => b.files));
  lines.push(`  Age${' '.repeat(11 + BAR_WIDTH)}${'files'.padStart(9)} ${'size'.padStart(10)}`);
  AGE_BUCKETS.forEach((bucket, i) => {
    const b = f.buckets[i] ?? { files: 0, bytes: 0 };
    const length = widest === 0 ? 0 : Math.max(b.files > 0 ? 1 : 0, Math.round((b.files / widest) * BAR_WIDTH));
    const old = bucket.fromDays >= result.retentionDays;
    const bar = paint(old ? 'yellow' : 'green', '█'.repeat(length)) + ' '.repeat(BAR_WIDTH - length);
    lines.push(`    ${bucket.label.padEnd(12)} ${bar} ${groupDigits(b.files).padStart(9)} ${formatBytes(b.bytes).padStart(10)}`);
  });
  return lines;
}

/**
 * The text status report. `color`: ANSI colours (see output.ts, useColor). Names and paths have
 * their control characters escaped: the text goes to a terminal.
 */
export function formatStatusText(result: StatusResult, color = false): string {
  const paint: Paint = color ? ansi : (_style, text) => text;
  const lines = [
    RULE,
    `STORAGE STATUS - Retention: ${formatDays(result.retentionDays)}`,
    RULE,
    `Base folder: ${escapeControl(result.baseDir)}`,
    `Now: ${isoSeconds(result.startedAt.getTime())}   Cutoff: ${isoSeconds(result.cutoff.getTime())}`,
    '',
  ];
  const categories = Object.values(result.categories);
  for (const c of categories) {
    lines.push(paint('bold', `${categoryById(c.id).title} (${escapeControl(c.dir)})`), ...figuresLines(c, result, paint, c.id), '');
  }
  if (categories.length > 1) lines.push(paint('bold', 'All categories'), ...figuresLines(result.totals, result, paint, 'all'), '');
  if (result.filesystems.length > 0) lines.push(paint('bold', 'Disk space'), ...diskLines(result, paint), '');
  return `${lines.join('\n')}`;
}

const days = (d: number | null): string => (d === null ? 'never at this rate' : d < 1 ? 'less than a day' : `${groupDigits(Math.floor(d))} days`);

/** Per file system: size, used, free, the target, the week's growth of our files, days left. */
function diskLines(result: StatusResult, paint: Paint): string[] {
  const lines: string[] = [];
  for (const f of result.filesystems) {
    lines.push(
      `  ${escapeControl(f.mount)}: size ${formatBytes(f.sizeBytes)}, used ${formatBytes(f.usedBytes)}, free ${formatBytes(f.freeBytes)}` +
        (f.targetBytes === null ? '' : `, target ${result.minFree} (${formatBytes(f.targetBytes)}) free`),
      `    Our files grew by ${formatBytes(Math.round(f.growthBytesPerDay))} a day over the last 7 days (by modification time)`,
    );
    if (f.targetBytes !== null) {
      const short = f.freeBytes < f.targetBytes;
      lines.push(paint(short ? 'red' : f.daysToTarget !== null && f.daysToTarget < 7 ? 'yellow' : 'green', short ? '    Free space is under the target now' : `    At that rate, free space reaches the target in ${days(f.daysToTarget)}`));
    }
    lines.push(`    At that rate, the disk is full in ${days(f.daysToFull)}`);
  }
  return lines;
}

function figuresJson(f: StorageFigures, startMs: number): object {
  const mark = (m: FileMark | undefined): object | null =>
    m === undefined ? null : { path: m.path, mtime: mtimeText(m.mtimeMs), ageDays: (startMs - m.mtimeMs) / MS_PER_DAY };
  return {
    files: f.files,
    bytes: f.bytes,
    incidents: f.kinds.incident,
    videos: f.kinds.video,
    metadata: f.kinds.metadata,
    old: { ...f.old },
    future: { ...f.future },
    oldest: mark(f.oldest),
    newest: mark(f.newest),
    histogram: AGE_BUCKETS.map((b, i) => ({ label: b.label, fromDays: b.fromDays, toDays: b.toDays, ...f.buckets[i] })),
    failed: f.failed,
    held: { ...f.held },
  };
}

/** The JSON status report: the same figures as data (bytes, counts, ISO times). */
export function formatStatusJson(result: StatusResult): string {
  const startMs = result.startedAt.getTime();
  const categories: Record<string, object> = {};
  for (const c of Object.values(result.categories)) categories[c.id] = { dir: c.dir, ...figuresJson(c, startMs) };
  const doc = {
    retentionDays: result.retentionDays,
    now: result.startedAt.toISOString(),
    cutoff: result.cutoff.toISOString(),
    baseDir: result.baseDir,
    categories,
    totals: figuresJson(result.totals, startMs),
    errors: result.errors,
    minFree: result.minFree,
    filesystems: result.filesystems,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
