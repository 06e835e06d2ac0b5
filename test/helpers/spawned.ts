/**
 * Runs of the real program on trees large enough for a signal, or a hold, to land mid-run: the
 * tests wait for the log to grow, never a fixed time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN } from './cli.js';
import { DAY } from './tree.js';

/** `count` old files in each category folder, and as many young ones (kept). */
export function bigTree(base: string, count: number): { old: Set<string>; young: number } {
  const old = new Set<string>();
  const then = new Date(Date.now() - 40 * DAY);
  const folders = [
    ['offline_incidents', (i: number) => `offline_incident_${i}.txt`],
    ['mock_sparse_ai_cloud', (i: number) => `cam${i % 8}_${i}.${i % 2 ? 'json' : 'mp4'}`],
  ] as const;
  for (const [folder, name] of folders) {
    const dir = path.join(base, folder);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, name(i));
      fs.closeSync(fs.openSync(file, 'w'));
      fs.utimesSync(file, then, then);
      old.add(file);
      fs.closeSync(fs.openSync(path.join(dir, name(count + i)), 'w'));
    }
  }
  return { old, young: 2 * count };
}

/** The paths of the `cleanup: deleted` lines of a log, and how many lines did not parse. */
export function deletedLines(log: string): { paths: string[]; broken: number } {
  const paths: string[] = [];
  let broken = 0;
  for (const line of log.split('\n')) {
    if (line === '') continue;
    try {
      const record = JSON.parse(line) as { msg?: string; path?: string };
      if (record.msg === 'cleanup: deleted') paths.push(record.path as string);
    } catch {
      broken++;
    }
  }
  return { paths, broken };
}

export const gone = (old: Set<string>): string[] => [...old].filter((f) => !fs.existsSync(f));

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(args: string[], cwd: string, stdio: 'pipe' | 'ignore-stderr' = 'pipe', env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...env },
    stdio: ['ignore', 'pipe', stdio === 'pipe' ? 'pipe' : 'ignore'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Resolves once `file` holds at least `lines` deletion lines (polled), or rejects after 60 s. */
export async function waitForDeletions(file: string, lines: number): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (deletedLines(text).paths.length >= lines) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the log ${file} never reached ${lines} deletions`);
}
