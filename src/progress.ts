import type { Output } from './args.js';
import type { CategoryId } from './categories.js';
import { formatMB, groupDigits } from './format.js';
import type { CategoryResult } from './result.js';

/** Nothing is drawn for runs shorter than this; then at most one redraw per REDRAW_MS. */
const QUIET_MS = 1000;
const REDRAW_MS = 200;

export interface Progress {
  /** The latest counters of one category (as runCleanup's onProgress gives them). */
  update(id: CategoryId, soFar: CategoryResult): void;
  /** Erases the line, if one was drawn. */
  stop(): void;
}

/** One line, redrawn in place: files found, deleted (or to delete), MB freed, rate. */
export function formatProgress(found: number, done: number, bytes: number, elapsedMs: number, dryRun: boolean): string {
  const rate = Math.round(found / Math.max(elapsedMs / 1000, 0.001));
  const n = (x: number): string => groupDigits(x);
  return dryRun
    ? `scanned ${n(found)} files, ${n(done)} to delete (${formatMB(bytes)} MB), ${n(rate)} files/s`
    : `scanned ${n(found)} files, deleted ${n(done)}, ${formatMB(bytes)} MB freed, ${n(rate)} files/s`;
}

/**
 * Progress on a terminal for a person watching a long run; nothing at all when `out` is not a
 * terminal (pipes, cron) or the run ends within a second. The reports on stdout are unchanged.
 */
export function startProgress(out: Output, dryRun: boolean, now: () => number = Date.now): Progress {
  const start = now();
  const latest = new Map<CategoryId, CategoryResult>();
  let drawn = false;
  let lastDraw = 0;
  const draw = (): void => {
    const t = now();
    if (t - start < QUIET_MS || t - lastDraw < REDRAW_MS) return;
    lastDraw = t;
    let found = 0;
    let done = 0;
    let bytes = 0;
    for (const r of latest.values()) {
      found += r.found;
      done += dryRun ? r.toDelete : r.deleted;
      bytes += dryRun ? r.bytesToDelete : r.bytesFreed;
    }
    out.write(`\r\u001b[2K${formatProgress(found, done, bytes, t - start, dryRun)}`);
    drawn = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    update(id, soFar) {
      latest.set(id, soFar);
      draw();
    },
    stop() {
      clearInterval(timer);
      if (drawn) out.write('\r\u001b[2K');
    },
  };
}
