/**
 * The CLI's sweeps change into each category folder, so that system calls take bare names (the
 * kernel resolves one component, not the whole path, as find's fstatat does). Only the CLI's own
 * process does: a library never changes its host's working directory.
 */

/** The longest path a system call takes, its NUL byte included (Linux), and the longest name. */
export const PATH_MAX = 4096;
const NAME_MAX = 255;

/**
 * Whether the CLI's sweeps of `dirs` change into each folder: a dry run's and `status`'s always;
 * a real run's only when a folder's path is so long that its files' paths could not be named
 * whole. A real run by bare names follows the folder, not its path: were the folder moved during
 * the run and another put in its place, it would go on deleting in the folder moved, out of the
 * category folder, and log those deletions under the path that now names the other folder's files.
 * By full paths, each file is looked at again by its path right before its unlink: a file of that
 * path that is another is kept (see README, "The last look").
 */
export function changesIntoFolders(dryRun: boolean, dirs: readonly string[]): boolean {
  return dryRun || dirs.some((dir) => Buffer.byteLength(dir) + 1 + NAME_MAX + 1 > PATH_MAX);
}

/**
 * Back to the working directory of before the sweep; if it was deleted meanwhile, to `/` (the
 * run is done: its report must not be lost to a folder someone removed).
 */
export function returnTo(home: string): void {
  try {
    process.chdir(home);
  } catch {
    process.chdir('/');
  }
}

/** Changes into `dir`; false if that cannot be done (the scan, with full paths, reports why). */
export function enter(dir: string): boolean {
  try {
    process.chdir(dir);
    return true;
  } catch {
    return false;
  }
}

/** A folder's path as the start of its files' paths: with its slash at the end. */
export const folderPrefix = (dir: string): string => (dir.endsWith('/') ? dir : `${dir}/`);
