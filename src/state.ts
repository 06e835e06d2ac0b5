import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from './errors.js';

export const STATE_NAME = '.vigint-cleanup-state.json';

/** What `<base>/.vigint-cleanup-state.json` holds: the start of the last real cleanup. */
export interface RunRecord {
  readonly lastRunStart: string;
  readonly pid: number;
}

export type StateRead =
  | { readonly kind: 'ok'; readonly lastRunStartMs: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string };

export function statePath(baseDir: string): string {
  return path.join(baseDir, STATE_NAME);
}

/** Reads the record; a missing, empty or corrupt file is reported, never thrown. */
export function readState(baseDir: string): StateRead {
  let text: string;
  try {
    text = fs.readFileSync(statePath(baseDir), 'utf8');
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? { kind: 'none' } : { kind: 'invalid', reason: `unreadable (${errnoCode(err)})` };
  }
  try {
    const record = JSON.parse(text) as Partial<RunRecord>;
    const ms = typeof record.lastRunStart === 'string' ? Date.parse(record.lastRunStart) : Number.NaN;
    if (Number.isFinite(ms)) return { kind: 'ok', lastRunStartMs: ms };
    return { kind: 'invalid', reason: 'no valid lastRunStart' };
  } catch {
    return { kind: 'invalid', reason: text.trim() === '' ? 'empty' : 'not JSON' };
  }
}

/** Records the start of a real run: written aside, then renamed over, so readers never see half. */
export function writeState(baseDir: string, startMs: number): void {
  const file = statePath(baseDir);
  const temp = `${file}.${process.pid}.tmp`;
  const record: RunRecord = { lastRunStart: new Date(startMs).toISOString(), pid: process.pid };
  try {
    fs.writeFileSync(temp, `${JSON.stringify(record)}\n`, { mode: 0o644 });
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true }); // a full disk leaves an empty temporary file behind
    throw err;
  }
}
