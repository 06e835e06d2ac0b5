import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAutoCleanup } from '../../src/auto.js';
import { runCleanup } from '../../src/cleanup.js';
import { CleanupError } from '../../src/errors.js';
import { LOCK_NAME } from '../../src/lock.js';
import { STATE_NAME } from '../../src/state.js';
import { memoryLogger } from '../helpers/logger.js';
import { DAY, HOUR, makeTree, present, tempDir } from '../helpers/tree.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function oldFiles(base: string, tag: string, now: number, n = 3): string[] {
  const spec: Record<string, { ageDays: number }> = {};
  for (let i = 0; i < n; i++) spec[`offline_incidents/offline_incident_${tag}${i}.txt`] = { ageDays: 45 };
  spec[`mock_sparse_ai_cloud/${tag}.mp4`] = { ageDays: 45 };
  makeTree(base, spec, now);
  return Object.keys(spec).map((k) => path.join(base, k));
}

/** A pino logger whose destination throws at the lines `throwsAt` says (counted from 1); `lines()`: how many came. */
function throwingLogger(throwsAt: (n: number) => boolean): { logger: pino.Logger; lines: () => number } {
  let n = 0;
  const logger = pino({}, {
    write: () => {
      if (throwsAt(++n)) throw new Error('log broken');
    },
  });
  return { logger, lines: () => n };
}

/** How many times a 0 ms timer chain runs while `work` goes on: how free the event loop stayed. */
async function loopTurnsDuring(work: () => Promise<void>): Promise<number> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    turns++;
    if (!done) setTimeout(spin, 0);
  };
  setTimeout(spin, 0);
  await work();
  done = true;
  return turns;
}

const exists = (paths: string[]): boolean[] => paths.map((p) => fs.existsSync(p));
const msgs = (lines: Record<string, unknown>[]): string[] => lines.map((l) => l.msg as string);

describe('createAutoCleanup', () => {
  it('notify() returns before the cleanup runs; idle() resolves once it is done; the log shows it', async () => {
    const base = tempDir();
    const files = oldFiles(base, 'a', T0);
    makeTree(base, { 'offline_incidents/offline_incident_new.txt': { ageDays: 1 } }, T0);
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: base, retentionDays: 30, intervalHours: 24, logger: log.logger, now: () => T0, env: {} });
    auto.notify();
    expect(exists(files)).toEqual([true, true, true, true]);
    await auto.idle();
    expect(exists(files)).toEqual([false, false, false, false]);
    expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual(['offline_incident_new.txt']);
    expect(msgs(log.lines)).toContain('Running automatic cleanup (retention: 30 days)');
    expect(msgs(log.lines)).toContain('Cleanup complete: 4 files deleted, 0.00 MB freed');
    expect(JSON.parse(fs.readFileSync(path.join(base, STATE_NAME), 'utf8'))).toMatchObject({ lastRunStart: new Date(T0).toISOString() });
  });

  it('calls while a run is under way do nothing, and a run is not repeated within the interval', async () => {
    const base = tempDir();
    oldFiles(base, 'b', T0, 200);
    const log = memoryLogger();
    let now = T0;
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => now, env: {} });
    for (let i = 0; i < 5; i++) auto.notify();
    await auto.idle();
    now = T0 + 23 * HOUR;
    auto.notify();
    await auto.idle();
    expect(msgs(log.lines).filter((m) => m.startsWith('Running automatic cleanup'))).toHaveLength(1);
    now = T0 + 24 * HOUR;
    auto.notify();
    await auto.idle();
    expect(msgs(log.lines).filter((m) => m.startsWith('Running automatic cleanup'))).toHaveLength(2);
  });

  it('due-ness survives a restart: a new instance reads the state file', async () => {
    const base = tempDir();
    const first = createAutoCleanup({ baseDir: base, logger: memoryLogger().logger, now: () => T0, env: {} });
    first.notify();
    await first.idle();

    // the host restarts an hour later: files aged since are not touched until the interval is over
    const later = oldFiles(base, 'c', T0 + HOUR);
    const log = memoryLogger();
    const second = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0 + HOUR, env: {} });
    second.notify();
    await second.idle();
    expect(exists(later)).toEqual([true, true, true, true]);
    expect(msgs(log.lines)).not.toContain('Running automatic cleanup (retention: 30 days)');

    const third = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0 + 24 * HOUR, env: {} });
    third.notify();
    await third.idle();
    expect(exists(later)).toEqual([false, false, false, false]);
  });

  it('CLEANUP_INTERVAL_HOURS sets the interval', async () => {
    const base = tempDir();
    const log = memoryLogger();
    let now = T0;
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => now, env: { CLEANUP_INTERVAL_HOURS: '12' } });
    auto.notify();
    await auto.idle();
    now = T0 + 12 * HOUR;
    auto.notify();
    await auto.idle();
    expect(msgs(log.lines).filter((m) => m.startsWith('Running automatic cleanup'))).toHaveLength(2);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['corrupt', '{"lastRunStart": '],
    ['without a date', '{"lastRunStart": "yesterday"}'],
  ])('a %s state file means due (logged), never a crash', async (label, content) => {
    const base = tempDir();
    const files = oldFiles(base, 'd', T0);
    if (content !== null) fs.writeFileSync(path.join(base, STATE_NAME), content);
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0, env: {} });
    auto.notify();
    await auto.idle();
    expect(exists(files)).toEqual([false, false, false, false]);
    if (label !== 'missing') expect(msgs(log.lines)).toContain('cleanup: the state file is not valid; a cleanup is due');
  });

  it('shares the lock with the CLI: while another run holds it, nothing is deleted', async () => {
    const base = tempDir();
    const files = oldFiles(base, 'e', T0);
    fs.writeFileSync(path.join(base, LOCK_NAME), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: '', token: 'cli' }));
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0, env: {} });
    auto.notify();
    await auto.idle();
    expect(exists(files)).toEqual([true, true, true, true]);
    expect(msgs(log.lines)).toContain('cleanup: skipped, another cleanup of this folder is running');
  });

  it('errors are logged, never thrown to the host', async () => {
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: '/nonexistent/vigint', logger: log.logger, now: () => T0, env: {} });
    expect(() => auto.notify()).not.toThrow();
    await expect(auto.idle()).resolves.toBeUndefined();
    const failure = log.lines.find((l) => l.msg === 'cleanup: automatic cleanup failed; the host goes on');
    expect(failure).toMatchObject({ level: 50 });

    const throwing = pino({}, { write: () => { throw new Error('log broken'); } });
    const auto2 = createAutoCleanup({ baseDir: tempDir(), logger: throwing, now: () => T0, env: {} });
    expect(() => auto2.notify()).not.toThrow();
    await expect(auto2.idle()).resolves.toBeUndefined();
  });

  it("a host logger that throws from its third line on, in the workers' forwarding: no crash, lock released", async () => {
    const base = tempDir();
    const files = oldFiles(base, 'g', T0, 2000);
    const throwing = throwingLogger((n) => n >= 3);
    const auto = createAutoCleanup({ baseDir: base, logger: throwing.logger, now: () => T0, env: {} });
    expect(() => auto.notify()).not.toThrow();
    await expect(auto.idle()).resolves.toBeUndefined();
    expect(throwing.lines()).toBeGreaterThan(3); // the workers' lines did reach it
    expect(present(path.join(base, LOCK_NAME))).toBe(false);
    expect(exists(files).every((e) => !e)).toBe(true);
  });

  it('a host logger that throws, the sweep in the host\'s own thread (runCleanup, workers 0): ignored, every file deleted', async () => {
    const base = tempDir();
    const files = oldFiles(base, 'h', T0, 500);
    const throwing = throwingLogger((n) => n % 100 === 0);
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: false, categories: ['incidents', 'videos'], logger: throwing.logger, now: () => T0, workers: 0 });
    expect(result.totals.deleted).toBe(files.length);
    expect(exists(files).every((e) => !e)).toBe(true);
    expect(throwing.lines()).toBeGreaterThan(files.length);
    expect(present(path.join(base, LOCK_NAME))).toBe(false);
  });

  it('stop(): stops a cleanup under way within 2 s, every deleted file logged, lock released; notify() then does nothing', async () => {
    const base = tempDir();
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir);
    const old = new Date(T0 - 60 * DAY);
    const all: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      const p = path.join(dir, `offline_incident_${i}.txt`);
      fs.closeSync(fs.openSync(p, 'w'));
      fs.utimesSync(p, old, old);
      all.push(p);
    }
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0, env: {} });
    auto.notify();
    const deleted = (): number => log.lines.filter((l) => l.msg === 'cleanup: deleted').length;
    const until = Date.now() + 20_000;
    while (deleted() < 1000 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    const asked = Date.now();
    await auto.stop();
    expect(Date.now() - asked).toBeLessThan(2000);
    const logged = new Set(log.lines.filter((l) => l.msg === 'cleanup: deleted').map((l) => l.path as string));
    const gone = all.filter((p) => !fs.existsSync(p));
    expect(gone.length).toBeLessThan(all.length);
    expect(gone.sort()).toEqual([...logged].sort());
    expect(msgs(log.lines)).toContain('cleanup: interrupted by stop');
    expect(present(path.join(base, LOCK_NAME))).toBe(false);
    auto.notify();
    await auto.idle();
    expect(all.filter((p) => !fs.existsSync(p))).toHaveLength(gone.length);
  });

  it('invalid settings are refused at creation, with what is accepted', () => {
    expect(() => createAutoCleanup({ env: { CLEANUP_INTERVAL_HOURS: 'daily' } })).toThrow(CleanupError);
    expect(() => createAutoCleanup({ env: { CLEANUP_INTERVAL_HOURS: 'daily' } })).toThrow(/invalid CLEANUP_INTERVAL_HOURS 'daily': expected a number greater than 0/);
    expect(() => createAutoCleanup({ env: {}, retentionDays: 0 })).toThrow(/invalid retentionDays '0'/);
    expect(() => createAutoCleanup({ env: { INCIDENT_RETENTION_DAYS: '-3' } })).toThrow(/invalid INCIDENT_RETENTION_DAYS/);
  });

  it.each([
    [5, true],
    [1e9, false],
  ])('in the host thread, sliceMs %d: the host event loop keeps turning during a long scan: %s', async (sliceMs, yields) => {
    const base = tempDir();
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir);
    // recent files: nothing to delete, so no unlink gives the loop a turn; only the slicing can
    const recent = new Date(T0 - DAY);
    for (let i = 0; i < 30_000; i++) {
      const p = path.join(dir, `offline_incident_${i}.txt`);
      fs.writeFileSync(p, '');
      fs.utimesSync(p, recent, recent);
    }
    const auto = createAutoCleanup({ baseDir: base, logger: pino({ level: 'silent' }), now: () => T0, env: {}, workers: 0, sliceMs });
    const turns = await loopTurnsDuring(async () => {
      auto.notify();
      await auto.idle();
    });
    expect(fs.readdirSync(dir)).toHaveLength(30_000);
    // a cleanup that holds the loop from start to end lets the timer run once or twice
    if (yields) expect(turns).toBeGreaterThan(10);
    else expect(turns).toBeLessThan(4);
  });

  it('in a worker (the default), the host thread only logs: its loop keeps turning, every line reaches the host logger', async () => {
    const base = tempDir();
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir);
    const old = new Date(T0 - 60 * DAY);
    for (let i = 0; i < 20_000; i++) {
      const p = path.join(dir, `offline_incident_${i}.txt`);
      fs.writeFileSync(p, '');
      fs.utimesSync(p, old, old);
    }
    const log = memoryLogger();
    const auto = createAutoCleanup({ baseDir: base, logger: log.logger, now: () => T0, env: {} });
    const turns = await loopTurnsDuring(async () => {
      auto.notify();
      await auto.idle();
    });
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(log.lines.filter((l) => l.msg === 'cleanup: deleted')).toHaveLength(20_000);
    expect(msgs(log.lines)).toContain('Cleanup complete: 20000 files deleted, 0.00 MB freed');
    expect(turns).toBeGreaterThan(10);
  });
});
