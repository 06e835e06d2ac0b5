/**
 * The CLI's sweeps change into each category folder, so that system calls take bare names (the
 * kernel resolves one component, not the whole path, as find's fstatat does). Only the CLI's own
 * process does: a library never changes its host's working directory.
 */

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
