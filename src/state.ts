import { writeFileAtomic } from './atomic-write.js';
import path from 'node:path';
import { errnoCode, errorMessage } from './errors.js';
import { readRegularFile } from './read-file.js';

export const STATE_NAME = '.vigint-cleanup-state.json';

/** The last run that reached its end: its start, end (ms since the epoch) and exit status. */
export interface FinishedRun {
  readonly startMs: number;
  readonly endMs: number;
  readonly exitStatus: number;
}

/**
 * What `<base>/.vigint-cleanup-state.json` holds. `lastRunStart` and `pid` are the first format
 * (the start of the last real run, which decides when the next one is due) and are still all a
 * reader needs; the other fields are written once a run ends, and kept when the next one starts.
 */
export interface RunRecord {
  readonly lastRunStart: string;
  readonly pid: number;
  readonly lastRunEnd?: string;
  /** Start of the run that ended at `lastRunEnd`. */
  readonly lastFinishedStart?: string;
  readonly lastExitStatus?: number;
  /** Start of the last run that ended with exit status 0. */
  readonly lastSuccessStart?: string;
}

export type StateRead =
  | {
      readonly kind: 'ok';
      readonly lastRunStartMs: number;
      /** Absent in the first format, and until a run has ended. */
      readonly lastFinished?: FinishedRun | undefined;
      readonly lastSuccessStartMs?: number | undefined;
    }
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The state file could not be written: a warning for the caller to log, never a reason to stop. */
export interface StateWriteFailure {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export function statePath(baseDir: string): string {
  return path.join(baseDir, STATE_NAME);
}

const dateMs = (value: unknown): number | undefined => {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/** The record as stored, or undefined when missing or unreadable. */
function readRecord(file: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readRegularFile(file));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the record; a missing, empty or corrupt file is reported, never thrown. */
export function readState(baseDir: string): StateRead {
  let text: string;
  try {
    text = readRegularFile(statePath(baseDir));
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? { kind: 'none' } : { kind: 'invalid', reason: `unreadable (${errnoCode(err)})` };
  }
  let record: Partial<Record<keyof RunRecord, unknown>>;
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    return { kind: 'invalid', reason: text.trim() === '' ? 'empty' : 'not JSON' };
  }
  const lastRunStartMs = dateMs(record?.lastRunStart);
  if (lastRunStartMs === undefined) return { kind: 'invalid', reason: 'no valid lastRunStart' };
  // The end of a run is an addition: when it is damaged, the start alone still counts.
  const startMs = dateMs(record.lastFinishedStart);
  const endMs = dateMs(record.lastRunEnd);
  const exitStatus = record.lastExitStatus;
  const lastFinished =
    startMs !== undefined && endMs !== undefined && Number.isInteger(exitStatus) ? { startMs, endMs, exitStatus: exitStatus as number } : undefined;
  return { kind: 'ok', lastRunStartMs, lastFinished, lastSuccessStartMs: dateMs(record.lastSuccessStart) };
}

/** Writes aside, then renames over, so readers never see half a record (atomic-write.ts). */
function writeRecord(file: string, record: Record<string, unknown>): void {
  writeFileAtomic(file, `${JSON.stringify(record)}\n`);
}

/**
 * Records the start of a real run. The end of the previous run and the last success are kept,
 * so that `check` still sees them while this run is under way. Throws when it cannot write.
 */
export function writeState(baseDir: string, startMs: number): void {
  const file = statePath(baseDir);
  writeRecord(file, { ...readRecord(file), lastRunStart: new Date(startMs).toISOString(), pid: process.pid });
}

/**
 * Records the end of a real run (one that held the lock): its start, end and exit status, and,
 * for exit status 0, its start as the last success. Never throws: a failure to write is
 * returned, for the caller to log as a warning.
 */
export function recordRunEnd(baseDir: string, run: FinishedRun): StateWriteFailure | undefined {
  const file = statePath(baseDir);
  try {
    const previous = readRecord(file) ?? {};
    const record: Record<string, unknown> = {
      lastRunStart: new Date(run.startMs).toISOString(),
      pid: process.pid,
      ...previous,
      lastFinishedStart: new Date(run.startMs).toISOString(),
      lastRunEnd: new Date(run.endMs).toISOString(),
      lastExitStatus: run.exitStatus,
    };
    // A run started after this one (the record's own start is later) stays the last run started.
    if (dateMs(previous.lastRunStart) === undefined) record.lastRunStart = new Date(run.startMs).toISOString();
    if (run.exitStatus === 0) record.lastSuccessStart = new Date(run.startMs).toISOString();
    writeRecord(file, record);
    return undefined;
  } catch (err) {
    return { path: file, code: errnoCode(err), message: errorMessage(err) };
  }
}
