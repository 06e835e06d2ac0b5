/**
 * The decisions, and nothing else: no file system, no clock. Every input is an argument, so the
 * age rule can be tested to the millisecond.
 */

export const MS_PER_DAY = 86_400_000;

/** Files whose mtime is strictly before this instant are old enough to delete. */
export function cutoffMs(startMs: number, days: number): number {
  return startMs - days * MS_PER_DAY;
}

/** What the planner says of one regular file. */
export type Verdict = 'delete' | 'keep' | 'future';

/**
 * `delete` iff the mtime is strictly earlier than the cutoff. A file dated after the start of the
 * run is `future`: kept, and reported, because it means a clock is wrong somewhere.
 */
export function decide(mtimeMs: number, cutoff: number, startMs: number): Verdict {
  if (mtimeMs < cutoff) return 'delete';
  return mtimeMs > startMs ? 'future' : 'keep';
}

/** The identity and age of a file as the scan saw it, or as a second look sees it. */
export interface FileLook {
  readonly isFile: boolean;
  readonly dev: number;
  readonly ino: number;
  readonly mtimeMs: number;
  /** Inode change time: set by the kernel on every change, and by nobody to a chosen value. */
  readonly ctimeMs: number;
}

/**
 * The last check before unlink: still the same regular file (device and inode) and still older
 * than the cutoff. Anything else (replaced, touched, turned into a link) is skipped. The inode
 * change time must be unchanged too: file systems reuse a freed inode number at once, so a file
 * deleted and re-created (even with an old mtime set by utimes) can come back with the same
 * device and inode, but never with the same ctime, since creating it and utimes both set it.
 */
export function stillDeletable(scanned: FileLook, now: FileLook, cutoff: number): boolean {
  return (
    now.isFile &&
    now.dev === scanned.dev &&
    now.ino === scanned.ino &&
    now.ctimeMs === scanned.ctimeMs &&
    now.mtimeMs < cutoff
  );
}
