import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** One entry of a test tree. Ages are relative to `now` (default Date.now()). */
export interface EntrySpec {
  /** Age of the mtime in days (negative: in the future). */
  ageDays?: number;
  /** Age in ms, for edges finer than a day. */
  ageMs?: number;
  /** Bytes of content (filled with 'x'); default: the entry's name. */
  size?: number;
  content?: string;
  type?: 'file' | 'dir' | 'symlink' | 'fifo';
  /** For symlinks: where it points (absolute, or relative to the link). */
  target?: string;
}

export type TreeSpec = Record<string, EntrySpec>;

export function tempDir(prefix = 'vigint-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Builds the entries under `root`, with their mtimes set (lutimes for links). */
export function makeTree(root: string, spec: TreeSpec, now = Date.now()): void {
  for (const [rel, entry] of Object.entries(spec)) {
    const full = path.join(root, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    const type = entry.type ?? 'file';
    if (type === 'file') {
      fs.writeFileSync(full, entry.content ?? (entry.size !== undefined ? 'x'.repeat(entry.size) : path.basename(rel)));
    } else if (type === 'dir') {
      fs.mkdirSync(full, { recursive: true });
    } else if (type === 'symlink') {
      fs.symlinkSync(entry.target ?? '/nonexistent', full);
    } else {
      execFileSync('mkfifo', [full]);
    }
    const ageMs = entry.ageMs ?? (entry.ageDays ?? 0) * DAY;
    const when = new Date(now - ageMs);
    if (type === 'symlink') fs.lutimesSync(full, when, when);
    else fs.utimesSync(full, when, when);
  }
}

/** Every entry below `root`, relative and sorted, folders with a trailing slash. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const rel = path.relative(root, path.join(dir, d.name));
      if (d.isDirectory()) {
        out.push(`${rel}/`);
        walk(path.join(dir, d.name));
      } else out.push(rel);
    }
  };
  walk(root);
  return out.sort();
}

/** True when `file` is there, whatever it is: a symbolic link (the lock) counts even if it points nowhere. */
export function present(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
