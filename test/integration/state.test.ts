import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup.js';
import { STATE_NAME, readState, recordRunEnd, statePath, writeState } from '../../src/state.js';
import { memoryLogger } from '../helpers/logger.js';
import { DAY, HOUR, makeTree, tempDir } from '../helpers/tree.js';

const T0 = Date.UTC(2026, 10, 25, 3, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('state file: start, end, exit status and last success', () => {
  it('still reads the first format (start and pid only): no end recorded', () => {
    const base = tempDir();
    fs.writeFileSync(path.join(base, STATE_NAME), JSON.stringify({ lastRunStart: iso(T0), pid: 42 }));
    const state = readState(base);
    expect(state).toEqual({ kind: 'ok', lastRunStartMs: T0, lastFinished: undefined, lastSuccessStartMs: undefined });
  });

  it('records each end; a failed run keeps the last success; the next start keeps both', () => {
    const base = tempDir();
    writeState(base, T0);
    expect(recordRunEnd(base, { startMs: T0, endMs: T0 + 5000, exitStatus: 0 })).toBeUndefined();
    let state = readState(base);
    expect(state).toMatchObject({ kind: 'ok', lastRunStartMs: T0, lastSuccessStartMs: T0, lastFinished: { startMs: T0, endMs: T0 + 5000, exitStatus: 0 } });

    const t1 = T0 + 24 * HOUR;
    writeState(base, t1);
    state = readState(base);
    // under way: the new start, the previous end and success still there
    expect(state).toMatchObject({ kind: 'ok', lastRunStartMs: t1, lastSuccessStartMs: T0, lastFinished: { startMs: T0, exitStatus: 0 } });

    expect(recordRunEnd(base, { startMs: t1, endMs: t1 + 700, exitStatus: 1 })).toBeUndefined();
    state = readState(base);
    expect(state).toMatchObject({ kind: 'ok', lastRunStartMs: t1, lastSuccessStartMs: T0, lastFinished: { startMs: t1, endMs: t1 + 700, exitStatus: 1 } });
    expect(fs.readdirSync(base)).toEqual([STATE_NAME]);
  });

  it('a record with a damaged end still gives the start (the due time of the built-in cleanup)', () => {
    const base = tempDir();
    fs.writeFileSync(statePath(base), JSON.stringify({ lastRunStart: iso(T0), pid: 1, lastRunEnd: 'soon', lastExitStatus: 'x', lastSuccessStart: 7 }));
    expect(readState(base)).toEqual({ kind: 'ok', lastRunStartMs: T0, lastFinished: undefined, lastSuccessStartMs: undefined });
  });

  it('recordRunEnd with no file yet writes a whole record', () => {
    const base = tempDir();
    expect(recordRunEnd(base, { startMs: T0, endMs: T0 + 1, exitStatus: 0 })).toBeUndefined();
    expect(readState(base)).toMatchObject({ kind: 'ok', lastRunStartMs: T0, lastSuccessStartMs: T0 });
  });

  it('a state file that cannot be written is returned as a warning, never thrown, and leaves no temporary file', () => {
    const base = tempDir();
    // the state path is a folder: the rename fails (EISDIR) whoever runs the test, root included
    fs.mkdirSync(statePath(base));
    const failure = recordRunEnd(base, { startMs: T0, endMs: T0 + 1, exitStatus: 0 });
    expect(failure).toMatchObject({ path: statePath(base), code: expect.stringMatching(/^E/) });
    expect(fs.readdirSync(base)).toEqual([STATE_NAME]);
    const missing = recordRunEnd(path.join(base, 'nope'), { startMs: T0, endMs: T0 + 1, exitStatus: 0 });
    expect(missing?.code).toBe('ENOENT');
  });

  it("a real run's own start record (runCleanup) keeps the previous success", async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } }, T0);
    recordRunEnd(base, { startMs: T0 - DAY, endMs: T0 - DAY + 10, exitStatus: 0 });
    const { logger } = memoryLogger();
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: false, categories: ['incidents'], logger, now: () => T0 });
    expect(result.totals.deleted).toBe(1);
    expect(readState(base)).toMatchObject({ kind: 'ok', lastRunStartMs: T0, lastSuccessStartMs: T0 - DAY, lastFinished: { startMs: T0 - DAY } });
  });
});
