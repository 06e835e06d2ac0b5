import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATEGORIES, type CategoryId, type FileKind, categoryById, nameClassifier } from './categories.js';
import type { Env } from './config.js';
import { escapeControl } from './format.js';
import type { Output } from './args.js';

/** What a command takes from the program's surroundings (cli.ts makes it; tests pass their own). */
export interface CommandContext {
  readonly env: Env;
  /** Undefined when the current folder was deleted: then only absolute paths work. */
  readonly cwd: string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
  /** The clock, read once when a run starts. */
  readonly now: () => number;
}

/** The current folder, or undefined when it was deleted under us (uv_cwd ENOENT). */
export function currentFolder(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

/** Who runs the program, for messages (a uid without a name in /etc/passwd is said as such). */
export function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** The category folders of a run, for cliWorkers. */
export function folders(baseDir: string, categories: readonly CategoryId[]): string[] {
  return categories.map((id) => path.join(baseDir, categoryById(id).folder));
}

/** How the names of each of those folders are sorted, for cliWorkers' lookahead. */
export function classifiers(categories: readonly CategoryId[]): ((name: string) => FileKind | undefined)[] {
  return categories.map((id) => nameClassifier(categoryById(id)));
}

/**
 * Run from a folder that was deleted: the sweeps change folders and come back to where they
 * started, which no longer exists. The base folder (absolute, checked) is where they come back to.
 */
export function leaveDeletedFolder(baseDir: string): void {
  if (currentFolder() === undefined) process.chdir(baseDir);
}

/** A base folder holding neither category folder may be the wrong one: say so (exit status unchanged). */
export function warnIfNoCategoryFolder(baseDir: string, ctx: CommandContext): void {
  const present = CATEGORIES.some((c) => {
    try {
      fs.lstatSync(path.join(baseDir, c.folder));
      return true;
    } catch {
      return false;
    }
  });
  if (!present) {
    ctx.stderr.write(
      `vigint-cleanup: warning: ${escapeControl(baseDir)} holds neither ${CATEGORIES.map((c) => `${c.folder}/`).join(' nor ')}; is it the right base folder? (--base-dir, VIGINT_BASE_DIR)\n`,
    );
  }
}

/** True when file descriptor 2 is /dev/null (what Node opens in place of a closed one). */
export function stderrDiscarded(): boolean {
  try {
    const err = fs.fstatSync(2);
    const devNull = fs.statSync('/dev/null');
    return err.isCharacterDevice() && err.rdev === devNull.rdev;
  } catch {
    return false;
  }
}
