import fs from 'node:fs';
import path from 'node:path';

/** One line of /proc/self/mountinfo that matters here. */
export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** The free space of one file system, as an unprivileged user sees it (statfs `bavail × bsize`). */
export interface FileSystemSpace {
  readonly mount: string;
  readonly sizeBytes: number;
  readonly freeBytes: number;
  /** The folders given that live on it. */
  readonly dirs: string[];
}

/** mountinfo writes space, tab, newline and backslash as octal escapes (`\040`). */
const unescapeOctal = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** Parses mountinfo text (see proc(5)); lines it cannot read are passed over. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const mountPoint = fields[4];
    if (dash < 6 || mountPoint === undefined) continue;
    entries.push({ mountPoint: unescapeOctal(mountPoint), fsType: fields[dash + 1] ?? '', source: unescapeOctal(fields[dash + 2] ?? '') });
  }
  return entries;
}

const isUnder = (p: string, mount: string): boolean => mount === '/' || p === mount || p.startsWith(`${mount}/`);

/**
 * The mount point holding an absolute, resolved path: the longest mount point it is under; of
 * mounts stacked on one point, the last listed (the one on top, which is the one you see).
 */
export function mountPointOf(resolved: string, mounts: readonly MountEntry[]): string {
  let best: string | undefined;
  for (const m of mounts) {
    if (isUnder(resolved, m.mountPoint) && (best === undefined || m.mountPoint.length >= best.length)) best = m.mountPoint;
  }
  return best ?? '/';
}

export function readMounts(): MountEntry[] {
  try {
    return parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return []; // not Linux: every path then counts as on '/'
  }
}

/**
 * The file systems holding these folders, one entry each. A folder that is a symbolic link is
 * followed (a data disk mounted elsewhere is that disk); a missing folder counts as on the file
 * system of its parent (where it would be made). A folder whose file system cannot be read (a
 * link to an unmounted disk) is left out.
 */
export function fileSystemsOf(dirs: readonly string[], mounts: readonly MountEntry[] = readMounts()): FileSystemSpace[] {
  const byMount = new Map<string, FileSystemSpace>();
  for (const dir of dirs) {
    let resolved: string;
    try {
      resolved = fs.realpathSync(dir);
    } catch {
      if (fs.lstatSync(dir, { throwIfNoEntry: false }) !== undefined) continue; // a dangling link
      try {
        resolved = fs.realpathSync(path.dirname(dir));
      } catch {
        continue;
      }
    }
    const mount = mountPointOf(resolved, mounts);
    const known = byMount.get(mount);
    if (known) {
      known.dirs.push(dir);
      continue;
    }
    const space = spaceOf(resolved);
    // (cannot be measured: left out, as said above)
    if (space) byMount.set(mount, { mount, ...space, dirs: [dir] });
  }
  return [...byMount.values()];
}

/** A file system's size, and the space free for unprivileged users (statfs `bavail × bsize`). */
function spaceOf(dir: string): { sizeBytes: number; freeBytes: number } | undefined {
  try {
    const s = fs.statfsSync(dir);
    return { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

/** The space free now on the file system holding `dir`, as the cleanup counts it; undefined if unknown. */
export function freeBytes(dir: string): number | undefined {
  return spaceOf(dir)?.freeBytes;
}
