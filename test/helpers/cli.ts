import crypto from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'vigint-cleanup.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Variables on top of a bare environment (PATH, HOME, and VIGINT_CLEANUP_NATIVE if the tests have it). */
  env?: Record<string, string>;
  /** Run as the unprivileged test user (see `unprivilegedPrefix()`), or as the user named. */
  asUser?: boolean | string;
  input?: string;
  /**
   * What the program's standard output is: a pipe read here (default); a pipe whose reader has
   * gone (`| true`: writes fail with EPIPE); /dev/full (writes fail with ENOSPC).
   */
  stdout?: 'pipe' | 'closed' | 'full';
  /** Run from a folder deleted just before the program starts (its current folder is gone). */
  deletedCwd?: boolean;
}

/**
 * VIGINT_CLEANUP_NATIVE as the tests have it (`VIGINT_CLEANUP_NATIVE=0 npm test` where the native
 * scanner cannot be built): the program spawned scans the way the tests expect it to.
 */
export function scannerEnv(): Record<string, string> {
  const v = process.env.VIGINT_CLEANUP_NATIVE;
  return v === undefined ? {} : { VIGINT_CLEANUP_NATIVE: v };
}

/** Spawns the built program as a user would, with a bare environment. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...scannerEnv(), ...options.env };
  const prefix =
    typeof options.asUser === 'string'
      ? [SETPRIV, `--reuid=${options.asUser}`, `--regid=${options.asUser}`, '--init-groups', '--']
      : options.asUser
        ? unprivilegedPrefix()
        : [];
  const inGone = options.deletedCwd ? ['/bin/sh', '-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', fs.mkdtempSync(path.join(os.tmpdir(), 'vigint-gone-'))] : [];
  const program = options.asUser ? programForOthers() : BIN;
  const [cmd, ...rest] = [...prefix, ...inGone, process.execPath, program, ...args];
  return spawnCapture(cmd as string, rest, { cwd: options.cwd ?? ROOT, env, input: options.input, stdout: options.stdout });
}

let othersCache: string | undefined;

/**
 * The built program as another user (the throwaway test user) can run it: this checkout's own
 * bin/vigint-cleanup.js when that user can read it, else a copy of the built program (bin, bundle,
 * dist, package.json, node_modules, and the native scanner in build/ when it is built) in a folder
 * everyone may read, made once per build. A checkout under a
 * private folder (`git clone … "$(mktemp -d)/repo"`, mode 700) is the case for the copy.
 */
export function programForOthers(): string {
  if (othersCache !== undefined) return othersCache;
  if (!isRoot || canRun(TEST_USER, BIN)) return (othersCache = BIN);
  const stamp = `${fs.statSync(path.join(ROOT, 'bundle', 'cli.cjs')).mtimeMs}:${ROOT}`;
  const hash = crypto.createHash('sha256').update(stamp).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `vigint-cleanup-program-${hash}`);
  const program = path.join(dir, 'bin', 'vigint-cleanup.js');
  if (!fs.existsSync(program)) {
    // built aside and renamed into place: test files running at once never see half a copy
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigint-cleanup-copy-'));
    for (const part of ['bin', 'bundle', 'dist', 'package.json', 'node_modules', 'build']) {
      if (part === 'build' && !fs.existsSync(path.join(ROOT, part))) continue; // (not built: the copy scans with Node's fs too)
      fs.cpSync(path.join(ROOT, part), path.join(temp, part), { recursive: true, dereference: true });
    }
    execFileSync('chmod', ['-R', 'a+rX', temp]);
    try {
      fs.renameSync(temp, dir);
    } catch {
      fs.rmSync(temp, { recursive: true, force: true }); // another test file made it first
    }
  }
  return (othersCache = program);
}

/** True when `user` can run `program` with node (it may read it and what it loads). */
function canRun(user: string, program: string): boolean {
  try {
    execFileSync(SETPRIV, [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', process.execPath, program, '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Quotes a word for sh. */
const shWord = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the built program on a terminal (a pseudo-terminal from util-linux `script`): what a
 * person sees, standard output and error together, with `\r\n` line ends.
 */
export function runCliOnTerminal(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', TERM: 'xterm', ...options.env };
  const command = [process.execPath, BIN, ...args].map(shWord).join(' ');
  return spawnCapture('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd: options.cwd ?? ROOT, env });
}

/** Spawns a program and collects its exit code, stdout and stderr. */
export function spawnCapture(
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string | undefined; stdout?: 'pipe' | 'closed' | 'full' | undefined },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const full = options.stdout === 'full' ? fs.openSync('/dev/full', 'w') : undefined;
    const stdio: ('pipe' | number)[] = ['pipe', full ?? 'pipe', 'pipe'];
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio });
    if (full !== undefined) fs.closeSync(full);
    let stdout = '';
    let stderr = '';
    // the reader goes away before the program has written anything
    if (options.stdout === 'closed') child.stdout?.destroy();
    else child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.input ?? '');
  });
}

export const TEST_USER = 'vigint-test';

/** setpriv by absolute path: some tests give the program a PATH without it. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p)) ?? 'setpriv';
export const isRoot = process.getuid?.() === 0;

let prefixCache: string[] | undefined;

/**
 * How to run the CLI so that file modes apply to it. Not root: as is. Root: as the unprivileged
 * user `vigint-test` (created by .ci/run, or here), through setpriv. If that user cannot read
 * the program (a checkout under a private folder), root without the capabilities that bypass
 * file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER): the kernel then checks modes
 * against uid 0 as an ordinary owner.
 */
export function unprivilegedPrefix(): string[] {
  if (prefixCache) return prefixCache;
  if (!isRoot) return (prefixCache = []);
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER], { stdio: 'ignore' });
    } catch {
      // fall through to the capability-drop way below
    }
  }
  const asUser = [SETPRIV, `--reuid=${TEST_USER}`, `--regid=${TEST_USER}`, '--clear-groups', '--'];
  try {
    execFileSync(asUser[0] as string, [...asUser.slice(1), process.execPath, programForOthers(), '--version'], { stdio: 'ignore' });
    return (prefixCache = asUser);
  } catch {
    const caps = '-dac_override,-dac_read_search,-fowner';
    return (prefixCache = [SETPRIV, `--inh-caps=${caps}`, `--bounding-set=${caps}`, '--']);
  }
}

/** The uid and gid the unprivileged runs have, to chown test trees to them. */
export function unprivilegedIds(): { uid: number; gid: number } {
  const prefix = unprivilegedPrefix();
  if (!prefix.some((p) => p.startsWith('--reuid'))) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** chown -R, to hand a test tree to the unprivileged user. */
export function chownTree(root: string, ids: { uid: number; gid: number }): void {
  const walk = (p: string): void => {
    fs.lchownSync(p, ids.uid, ids.gid);
    if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(root);
}

/** Parses JSON log lines (pino). */
export function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
