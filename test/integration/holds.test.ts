import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CleanupError } from '../../src/errors.js';
import { CLEANUP_LOCK_NAME, SEEN_NAME, acknowledgeHolds, readAcknowledgement, runningCleanup, waitForAcknowledgement } from '../../src/hold-ack.js';
import {
  HOLDS_LOCK_NAME,
  type Hold,
  holdsPath,
  holdsVersion,
  loadHolds,
  snapshotHolds,
  updateHolds,
  versionIncludes,
} from '../../src/holds.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';

const hold = (pattern: string): Hold => ({ pattern, reason: null, who: 'test', when: '2026-11-27T00:00:00.000Z', until: null });
const append = (...patterns: string[]) => (current: readonly Hold[]) => ({ holds: [...current, ...patterns.map(hold)], result: undefined });

function loadError(base: string): CleanupError {
  try {
    loadHolds(base);
  } catch (err) {
    expect(err).toBeInstanceOf(CleanupError);
    return err as CleanupError;
  }
  throw new Error('expected loadHolds to throw');
}

/** Runs a node script (ESM) that can import the built modules as `DIST`. */
function runScript(dir: string, body: string): Promise<{ code: number | null; stderr: string }> {
  const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, `const DIST = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist')).href)};\n${body}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the hold file', () => {
  it('missing: no holds, version "none"; written: pretty JSON with every field, no temporary file left', async () => {
    const base = tempDir();
    expect(loadHolds(base)).toEqual([]);
    expect(holdsVersion(base)).toBe('none');
    const { version } = await updateHolds(base, append('cam3_*', 'offline_incidents/offline_incident_1.txt'));
    expect(version).toBe(holdsVersion(base));
    expect(loadHolds(base).map((h) => h.pattern)).toEqual(['cam3_*', 'offline_incidents/offline_incident_1.txt']);
    const doc = JSON.parse(fs.readFileSync(holdsPath(base), 'utf8'));
    expect(doc).toEqual({ format: 'vigint-holds/1', holds: [hold('cam3_*'), hold('offline_incidents/offline_incident_1.txt')] });
    expect(fs.readdirSync(base).sort()).toEqual(['.vigint-holds.json']);
    expect(snapshotHolds(base)).toEqual({ version, holds: loadHolds(base) });
  });

  it('a change that returns no list, or throws, leaves the file (and its absence) alone', async () => {
    const base = tempDir();
    await updateHolds(base, () => ({ holds: undefined, result: 1 }));
    expect(fs.existsSync(holdsPath(base))).toBe(false);
    await updateHolds(base, append('a'));
    const before = fs.readFileSync(holdsPath(base), 'utf8');
    await expect(
      updateHolds(base, () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(fs.readFileSync(holdsPath(base), 'utf8')).toBe(before);
    expect(fs.readdirSync(base).sort()).toEqual(['.vigint-holds.json']);
  });

  it('keeps the mode of the existing file; every write gives a new version, later ones including earlier ones', async () => {
    const base = tempDir();
    await updateHolds(base, append('a'));
    fs.chmodSync(holdsPath(base), 0o640);
    const versions = [holdsVersion(base)];
    for (const p of ['b', 'c', 'd']) versions.push((await updateHolds(base, append(p))).version);
    expect(fs.statSync(holdsPath(base)).mode & 0o7777).toBe(0o640);
    expect(new Set(versions).size).toBe(4);
    // Written in the same millisecond or not, each mtime is later than the one before.
    for (let i = 1; i < versions.length; i++) {
      expect(versionIncludes(versions[i] as string, versions[i - 1] as string)).toBe(true);
      expect(versionIncludes(versions[i - 1] as string, versions[i] as string)).toBe(false);
    }
    expect(versionIncludes('none', versions[0] as string)).toBe(false);
    // The clock stepped back (or a tool set the mtime ahead): the next version is still later.
    const ahead = new Date(Date.now() + 3_600_000);
    fs.utimesSync(holdsPath(base), ahead, ahead);
    const before = holdsVersion(base);
    const after = (await updateHolds(base, append('e'))).version;
    expect(versionIncludes(after, before)).toBe(true);
  });

  it('readers never see a half-written file while another process rewrites it 300 times', async () => {
    const base = tempDir();
    await updateHolds(base, append('seed'));
    const writer = runScript(
      base,
      `const { updateHolds } = await import(DIST + '/holds.js');
       for (let i = 0; i < 300; i++) {
         await updateHolds(${JSON.stringify(base)}, (c) => ({ holds: [...c.slice(-50), { pattern: 'p' + i + '_' + 'x'.repeat(i % 7 * 500), reason: null, who: 'w', when: null, until: null }], result: 0 }));
       }`,
    );
    let reads = 0;
    let done = false;
    void writer.then(() => (done = true));
    while (!done) {
      const holds = loadHolds(base); // throws on a half-written or missing file
      expect(holds.length).toBeGreaterThan(0);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    expect((await writer).code).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(fs.readdirSync(base).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it.each([
    ['', 'is empty'],
    ['{"holds": [', 'is not valid JSON'],
    ['[]', 'has no "holds" list'],
    ['{"holds": {}}', 'has no "holds" list'],
    ['{"holds": [{"pattern": "a"}, {"reason": "x"}]}', 'has no pattern in hold 2'],
    ['{"holds": [{"pattern": "../x"}]}', "has an invalid pattern in hold 1: invalid hold pattern '../x'"],
    ['{"holds": [{"pattern": "a", "until": "2026-02-30"}]}', 'has an invalid "until" in hold 1'],
    ['{"holds": [{"pattern": "a", "until": 5}]}', 'has an invalid "until" in hold 1'],
    ['{"holds": [{"pattern": "a", "reason": 5}]}', 'has a "reason" that is not a string in hold 1'],
  ])('a hold file %j is a usage error (exit 2) naming the file and the fault', (text, fault) => {
    const base = tempDir();
    fs.writeFileSync(holdsPath(base), text);
    const err = loadError(base);
    expect(err.exitStatus).toBe(2);
    expect(err.message).toContain(holdsPath(base));
    expect(err.message).toContain(fault);
  });

  it('a hold file that cannot be read is a usage error too; a minimal hand-written one is fine', () => {
    const base = tempDir();
    fs.mkdirSync(holdsPath(base));
    expect(loadError(base).message).toMatch(/cannot be read \(EISDIR\)/);
    const other = tempDir();
    fs.writeFileSync(holdsPath(other), '{"holds":[{"pattern":"cam3_*"}]}');
    expect(loadHolds(other)).toEqual([{ pattern: 'cam3_*', reason: null, who: null, when: null, until: null }]);
  });

  it('concurrent writers from 6 processes lose nothing (90 holds)', async () => {
    const base = tempDir();
    const script = (w: number) =>
      `const { updateHolds } = await import(DIST + '/holds.js');
       for (let i = 0; i < 15; i++) {
         await updateHolds(${JSON.stringify(base)}, (c) => ({ holds: [...c, { pattern: 'w${w}_' + i, reason: null, who: 'w', when: null, until: null }], result: 0 }), { lockTimeoutMs: 60000 });
       }`;
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((w) => runScript(base, script(w))));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const patterns = loadHolds(base).map((h) => h.pattern);
    expect(patterns).toHaveLength(90);
    expect(new Set(patterns).size).toBe(90);
    expect(fs.existsSync(path.join(base, HOLDS_LOCK_NAME))).toBe(false);
  });

  it('a lock left by a dead process is taken over; a live one is waited for, then refused (exit 1)', async () => {
    const base = tempDir();
    const lock = path.join(base, HOLDS_LOCK_NAME);
    fs.symlinkSync(`999999999@${os.hostname()}`, lock);
    await updateHolds(base, append('a'));
    expect(fs.existsSync(lock)).toBe(false);
    expect(loadHolds(base)).toHaveLength(1);

    fs.symlinkSync(`${process.pid}@${os.hostname()}`, lock);
    const err = await updateHolds(base, append('b'), { lockTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CleanupError);
    expect((err as CleanupError).exitStatus).toBe(1);
    expect((err as CleanupError).message).toContain(lock);
    expect(loadHolds(base)).toHaveLength(1);
    expect(fs.readlinkSync(lock)).toBe(`${process.pid}@${os.hostname()}`);

    // A dead owner whose takeover another live process is doing: waited for, not spun on.
    fs.rmSync(lock);
    fs.symlinkSync(`999999999@${os.hostname()}`, lock);
    fs.symlinkSync(`${process.pid}@${os.hostname()}`, `${lock}.takeover`);
    const t0 = Date.now();
    const stuck = await updateHolds(base, append('c'), { lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((stuck as CleanupError).exitStatus).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
    fs.rmSync(`${lock}.takeover`);
    await updateHolds(base, append('c'));
    expect(loadHolds(base).map((h) => h.pattern)).toEqual(['a', 'c']);

    // Not a lock at all: an error naming it, not a wait.
    expect(fs.existsSync(lock)).toBe(false);
    fs.mkdirSync(lock);
    await expect(updateHolds(base, append('d'))).rejects.toThrow(`${lock} is in the way`);
    expect(loadHolds(base)).toHaveLength(2);
  });
});

describe('the acknowledgement handshake', () => {
  const lockLink = (base: string, pid: number) => fs.symlinkSync(`vcl1:${pid}:host:token`, path.join(base, CLEANUP_LOCK_NAME));

  it('acknowledgeHolds writes <pid>:<version> as a symbolic link, replaced atomically', () => {
    const base = tempDir();
    expect(readAcknowledgement(base)).toBeUndefined();
    acknowledgeHolds(base, 'v1', 123);
    acknowledgeHolds(base, 'v2', 124);
    expect(fs.lstatSync(path.join(base, SEEN_NAME)).isSymbolicLink()).toBe(true);
    expect(readAcknowledgement(base)).toEqual({ pid: 124, version: 'v2' });
    expect(fs.readdirSync(base)).toEqual([SEEN_NAME]);
  });

  it('runningCleanup reads the pid of a vcl1 link; an old JSON lock or another link: pid unknown', () => {
    const base = tempDir();
    expect(runningCleanup(base)).toBeUndefined();
    lockLink(base, 4321);
    expect(runningCleanup(base)).toEqual({ pid: 4321 });
    fs.rmSync(path.join(base, CLEANUP_LOCK_NAME));
    fs.writeFileSync(path.join(base, CLEANUP_LOCK_NAME), '{"pid": 77}');
    expect(runningCleanup(base)).toEqual({ pid: undefined });
    fs.rmSync(path.join(base, CLEANUP_LOCK_NAME));
    fs.symlinkSync('something-else', path.join(base, CLEANUP_LOCK_NAME));
    expect(runningCleanup(base)).toEqual({ pid: undefined });
  });

  it('no run: returns at once; a run that acknowledges the version (or a later one): acknowledged', async () => {
    const base = tempDir();
    const { version } = await updateHolds(base, append('a'));
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 5000 })).toEqual({ kind: 'no-run' });

    lockLink(base, process.pid);
    setTimeout(() => acknowledgeHolds(base, version, process.pid), 100);
    const t0 = Date.now();
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 5000 })).toEqual({ kind: 'acknowledged', pid: process.pid });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);

    const later = (await updateHolds(base, append('b'))).version;
    const { version: latest } = await updateHolds(base, append('c'));
    acknowledgeHolds(base, latest, process.pid);
    expect(await waitForAcknowledgement(base, later, { timeoutMs: 5000 })).toEqual({ kind: 'acknowledged', pid: process.pid });
  });

  it('an acknowledgement by another pid or of an older version does not count; the lock going away ends the wait', async () => {
    const base = tempDir();
    const old = (await updateHolds(base, append('a'))).version;
    const { version } = await updateHolds(base, append('b'));
    lockLink(base, process.pid);
    acknowledgeHolds(base, version, process.pid + 1);
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 150 })).toEqual({ kind: 'timeout', pid: process.pid });
    acknowledgeHolds(base, old, process.pid);
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 150 })).toEqual({ kind: 'timeout', pid: process.pid });
    setTimeout(() => fs.rmSync(path.join(base, CLEANUP_LOCK_NAME)), 100);
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 5000 })).toEqual({ kind: 'run-ended' });
  });

  it('with an old-format lock (pid unknown), an acknowledgement from any pid counts', async () => {
    const base = tempDir();
    const { version } = await updateHolds(base, append('a'));
    fs.writeFileSync(path.join(base, CLEANUP_LOCK_NAME), '{"pid": 1}');
    acknowledgeHolds(base, version, 999);
    expect(await waitForAcknowledgement(base, version, { timeoutMs: 150 })).toEqual({ kind: 'acknowledged', pid: 999 });
  });
});
