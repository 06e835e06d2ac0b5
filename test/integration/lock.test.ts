import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CleanupError } from '../../src/errors.js';
import { LOCK_NAME, MAX_TARGET_BYTES, acquireLock, hostId } from '../../src/lock.js';
import { ROOT, chownTree, isRoot, runCli, unprivilegedIds } from '../helpers/cli.js';
import { listTree, makeTree, tempDir } from '../helpers/tree.js';

/** The built lock, as the CLI runs it: child processes import it. */
const LOCK_JS = pathToFileURL(path.join(ROOT, 'dist', 'lock.js')).href;

const trees: string[] = [];
afterAll(() => {
  for (const t of trees) fs.rmSync(t, { recursive: true, force: true });
});

function base(): string {
  const b = tempDir('vigint-lock-');
  trees.push(b);
  return b;
}

/** A pid that no process has: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** Puts a lock link at `file` as another holder would, its lease renewed `ageMs` ago. */
function plantLink(file: string, target: string, ageMs = 0): void {
  fs.symlinkSync(target, file);
  const when = new Date(Date.now() - ageMs);
  fs.lutimesSync(file, when, when);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const breakLinks = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.includes('.break.'));

/** Two old incidents and one recent: a real run deletes exactly two. */
function smallTree(dir: string): string[] {
  makeTree(dir, {
    'offline_incidents/offline_incident_1.txt': { ageDays: 40 },
    'offline_incidents/offline_incident_2.txt': { ageDays: 40 },
    'offline_incidents/offline_incident_3.txt': { ageDays: 1 },
  });
  return ['offline_incidents/offline_incident_1.txt', 'offline_incidents/offline_incident_2.txt'].map((f) => path.join(dir, f));
}

/**
 * A contender: for each round, blocks on opening that round's FIFO (the parent opens and closes
 * it: every contender wakes at once), tries the lock, writes the outcome; the holder keeps the
 * lock until the round's release file appears, then says whether the link was still its own.
 */
const CONTENDER = `
import fs from 'node:fs';
import path from 'node:path';
const [lockJs, base, dir, id, rounds] = process.argv.slice(2);
const { acquireLock } = await import(lockJs);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// written aside and renamed: the parent never reads a file half-written
const put = (name, text) => {
  fs.writeFileSync(path.join(dir, 'tmp.' + id), text);
  fs.renameSync(path.join(dir, 'tmp.' + id), path.join(dir, name));
};
for (let r = 0; r < Number(rounds); r++) {
  fs.writeFileSync(path.join(dir, 'ready.' + r + '.' + id), '');
  fs.closeSync(fs.openSync(path.join(dir, 'go.' + r), 'r'));
  let lock;
  try {
    lock = await acquireLock(base);
  } catch (e) {
    put('out.' + r + '.' + id, JSON.stringify({ status: e.exitStatus ?? -1, message: String(e.message) }));
    continue;
  }
  put('out.' + r + '.' + id, JSON.stringify({ status: 0, target: lock.target }));
  while (!fs.existsSync(path.join(dir, 'release.' + r))) await sleep(2);
  let ours = false;
  try {
    ours = fs.readlinkSync(lock.path) === lock.target;
  } catch {}
  lock.release();
  put('done.' + r, JSON.stringify({ ours }));
}
`;

describe('the lock', () => {
  it('is a symbolic link of at most 59 bytes naming its owner, released only by its owner', async () => {
    const b = base();
    const lock = await acquireLock(b);
    const target = fs.readlinkSync(path.join(b, LOCK_NAME));
    expect(target).toBe(lock.target);
    expect(Buffer.byteLength(target)).toBeLessThanOrEqual(MAX_TARGET_BYTES);
    expect(target).toMatch(new RegExp(`^vcl1:${process.pid}:[0-9a-z]{8}:\\d{13}:${hostId()}:`));
    // replaced by someone else meanwhile: release leaves the other lock alone
    fs.unlinkSync(lock.path);
    fs.symlinkSync('vcl1:1:someone0:1:00000000:other', lock.path);
    lock.release();
    expect(fs.readlinkSync(lock.path)).toBe('vcl1:1:someone0:1:00000000:other');
  });

  it('8 processes race to take over the same dead lock, 10 rounds: exactly one holder each round, nothing left behind', async () => {
    const b = base();
    const ctl = tempDir('vigint-race-');
    trees.push(ctl);
    const N = 8;
    const ROUNDS = 10;
    const script = path.join(ctl, 'contender.mjs');
    fs.writeFileSync(script, CONTENDER);
    for (let r = 0; r < ROUNDS; r++) execFileSync('mkfifo', [path.join(ctl, `go.${r}`)]);
    const children: ChildProcess[] = [];
    for (let i = 0; i < N; i++) {
      children.push(spawn(process.execPath, [script, LOCK_JS, b, ctl, String(i), String(ROUNDS)], { stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    const exited = children.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve)));
    const file = path.join(b, LOCK_NAME);
    try {
      for (let r = 0; r < ROUNDS; r++) {
        // the lock a dead run left: same host, pid gone (even rounds); another host, lease lapsed (odd)
        const target = r % 2 === 0 ? `vcl1:${deadPid()}:dead${r}000:1:${hostId()}:here` : `vcl1:1:dead${r}000:1:0badc0de:a-container`;
        plantLink(file, target, r % 2 === 0 ? 0 : 3 * 60_000);
        await waitFor(`round ${r}: contenders ready`, () => fs.readdirSync(ctl).filter((n) => n.startsWith(`ready.${r}.`)).length === N);
        // every contender opens the FIFO and blocks until a writer opens it: this wakes them all at
        // once. The write end stays open until all have answered: one that reaches its open after
        // a close would wait for ever.
        const go = fs.openSync(path.join(ctl, `go.${r}`), 'w');
        try {
          await waitFor(`round ${r}: outcomes`, () => fs.readdirSync(ctl).filter((n) => n.startsWith(`out.${r}.`)).length === N);
        } finally {
          fs.closeSync(go);
        }
        const outcomes = Array.from({ length: N }, (_, i) => JSON.parse(fs.readFileSync(path.join(ctl, `out.${r}.${i}`), 'utf8')) as { status: number; target?: string; message?: string });
        const holders = outcomes.filter((o) => o.status === 0);
        expect(holders, `round ${r}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
        for (const o of outcomes) if (o.status !== 0) expect(o.status, o.message).toBe(75);
        expect(fs.readlinkSync(file)).toBe(holders[0]?.target);
        fs.writeFileSync(path.join(ctl, `release.${r}`), '');
        await waitFor(`round ${r}: release`, () => fs.existsSync(path.join(ctl, `done.${r}`)));
        expect(JSON.parse(fs.readFileSync(path.join(ctl, `done.${r}`), 'utf8'))).toEqual({ ours: true });
        expect(fs.readdirSync(b)).toEqual([]);
      }
      expect(await Promise.all(exited)).toEqual(Array(N).fill(0));
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }, 120_000);

  it('a break link left by a contender that died while breaking is itself taken over once stale; a fresh one is respected', async () => {
    const b = base();
    const file = path.join(b, LOCK_NAME);
    plantLink(file, 'vcl1:1:dead0000:1:0badc0de:elsewhere', 10_000);
    const brk = `${file}.break.${fs.lstatSync(file).ino}`;
    plantLink(brk, 'vcl1:1:breaker0:1:0badc0de:elsewhere', 0);
    const err = await acquireLock(b, { leaseMs: 1000 }).catch((e: unknown) => e);
    expect((err as CleanupError).exitStatus).toBe(75);
    expect(fs.readlinkSync(file)).toBe('vcl1:1:dead0000:1:0badc0de:elsewhere');
    const old = new Date(Date.now() - 5000);
    fs.lutimesSync(brk, old, old);
    const lock = await acquireLock(b, { leaseMs: 1000 });
    expect(fs.readlinkSync(file)).toBe(lock.target);
    expect(breakLinks(b)).toEqual([]);
    lock.release();
    expect(fs.readdirSync(b)).toEqual([]);
  });

  describe('the lease', () => {
    it('a lock with our own pid (PID 1 again in a new container) is taken over only once its lease lapses', async () => {
      const b = base();
      const file = path.join(b, LOCK_NAME);
      const leftover = `vcl1:${process.pid}:previous:1:${hostId()}:container`;
      plantLink(file, leftover, 500);
      const err = await acquireLock(b, { leaseMs: 2000 }).catch((e: unknown) => e);
      expect((err as CleanupError).exitStatus).toBe(75);
      expect((err as CleanupError).message).toContain('the lock is taken over once it has not been renewed for 2 s');
      expect(fs.readlinkSync(file)).toBe(leftover);
      const lapsed = new Date(Date.now() - 2500);
      fs.lutimesSync(file, lapsed, lapsed);
      const lock = await acquireLock(b, { leaseMs: 2000 });
      expect(fs.readlinkSync(file)).toBe(lock.target);
      lock.release();
    });

    it('a pid of this host that lives but started after the lock was taken (the pid was reused): the lease decides', async () => {
      const b = base();
      const file = path.join(b, LOCK_NAME);
      // pid 1 lives, and started at boot: after a lock taken in 2020, so it is not that lock's holder
      const reused = `vcl1:1:crashed0:1600000000000:${hostId()}:here`;
      plantLink(file, reused, 500);
      const err = await acquireLock(b, { leaseMs: 2000 }).catch((e: unknown) => e);
      expect((err as CleanupError).exitStatus).toBe(75); // within its lease: respected
      const lapsed = new Date(Date.now() - 2500);
      fs.lutimesSync(file, lapsed, lapsed);
      const lock = await acquireLock(b, { leaseMs: 2000 });
      expect(fs.readlinkSync(file)).toBe(lock.target);
      lock.release();
      // a live pid whose process started before its lock (the real holder) is never taken for dead
      plantLink(file, `vcl1:1:holder00:${Date.now()}:${hostId()}:here`, 10_000);
      const held = await acquireLock(b, { leaseMs: 2000 }).catch((e: unknown) => e);
      expect((held as CleanupError).exitStatus).toBe(75);
    });

    it('another host or container (pid 1, new hostname): the CLI respects it within VIGINT_LOCK_LEASE_MS, takes it over after', async () => {
      const b = base();
      const old = smallTree(b);
      const file = path.join(b, LOCK_NAME);
      plantLink(file, 'vcl1:1:crashed0:1795000000000:0badc0de:ct-7f3a9', 0);
      const env = { VIGINT_LOCK_LEASE_MS: '1500' };
      const held = await runCli([], { cwd: b, env });
      expect(held.code).toBe(75);
      expect(held.stderr).toContain(`another cleanup of ${b} is running (pid 1 on ct-7f3a9`);
      expect(old.every((f) => fs.existsSync(f))).toBe(true);
      const lapsed = new Date(Date.now() - 2000);
      fs.lutimesSync(file, lapsed, lapsed);
      const r = await runCli(['--json'], { cwd: b, env });
      expect(r.code, r.stderr).toBe(0);
      expect(old.some((f) => fs.existsSync(f))).toBe(false);
      expect(fs.readdirSync(b)).not.toContain(LOCK_NAME);
      expect(breakLinks(b)).toEqual([]);
    });

    it('VIGINT_LOCK_LEASE_MS that is not a whole number of ms from 100 to a day: exit 2, nothing deleted', async () => {
      const b = base();
      const old = smallTree(b);
      for (const bad of ['abc', '50', '1.5', '-1000', '86400001']) {
        const r = await runCli([], { cwd: b, env: { VIGINT_LOCK_LEASE_MS: bad } });
        expect(r.code, bad).toBe(2);
        expect(r.stderr).toContain(`invalid VIGINT_LOCK_LEASE_MS '${bad}'`);
      }
      expect(old.every((f) => fs.existsSync(f))).toBe(true);
      expect(fs.readdirSync(b)).not.toContain(LOCK_NAME);
    });

    it('is renewed while held: a holder is never taken for dead, however long it runs', async () => {
      const b = base();
      const leaseMs = 400;
      const lock = await acquireLock(b, { leaseMs });
      try {
        const file = lock.path;
        // set the lease back: the holder renews it within lease/8
        const old = new Date(Date.now() - 10 * leaseMs);
        fs.lutimesSync(file, old, old);
        await waitFor('the lease renewed', () => Date.now() - fs.lstatSync(file).mtimeMs < leaseMs);
        // three leases later, a contender that only the lease can judge (our own pid) still finds it held
        const start = Date.now();
        await waitFor('three leases', () => Date.now() - start > 3 * leaseMs);
        const err = await acquireLock(b, { leaseMs }).catch((e: unknown) => e);
        expect((err as CleanupError).exitStatus).toBe(75);
        expect(fs.readlinkSync(file)).toBe(lock.target);
      } finally {
        lock.release();
      }
      expect(fs.readdirSync(b)).toEqual([]);
    });
  });

  describe('a lock that cannot be read is never taken over', () => {
    it('root holds a 0.1.x lock file of mode 600 in a folder the user may write: exit 75 naming the lock, nothing deleted, lock kept', async (ctx) => {
      if (!isRoot) return ctx.skip(); // needs a lock owned by another user
      const b = base();
      const old = smallTree(b);
      chownTree(b, unprivilegedIds());
      const file = path.join(b, LOCK_NAME);
      // a live owner on this host (this test's process), written by root with umask 077
      const content = JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: 'root' });
      fs.writeFileSync(file, content, { mode: 0o600 });
      const before = listTree(b);
      const r = await runCli([], { cwd: b, asUser: true });
      expect(r.code).toBe(75);
      expect(r.stderr).toContain(`the lock ${file} exists and cannot be read (EACCES)`);
      expect(listTree(b)).toEqual(before);
      expect(old.every((f) => fs.existsSync(f))).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
      expect(fs.statSync(file).uid).toBe(0);
    });

    it("root's live link lock (umask 077 does not apply to links): the user reads it, the pid is alive (EPERM): exit 75", async (ctx) => {
      if (!isRoot) return ctx.skip();
      const b = base();
      const old = smallTree(b);
      chownTree(b, unprivilegedIds());
      const lock = await acquireLock(b);
      try {
        const r = await runCli([], { cwd: b, asUser: true });
        expect(r.code).toBe(75);
        expect(r.stderr).toContain(`another cleanup of ${b} is running (pid ${process.pid}`);
        expect(old.every((f) => fs.existsSync(f))).toBe(true);
        expect(fs.readlinkSync(lock.path)).toBe(lock.target);
      } finally {
        lock.release();
      }
    });
  });

  describe('a lock path that is not a lock: exit 1 naming it, nothing created, removed or deleted', () => {
    const cases: [string, (p: string) => void, string][] = [
      ['a folder', (p) => fs.mkdirSync(p), 'a directory'],
      ['a FIFO', (p) => execFileSync('mkfifo', [p]), 'a FIFO (named pipe)'],
      ['a regular file that is not a lock', (p) => fs.writeFileSync(p, 'hello\n'), 'a regular file that is not a vigint-cleanup lock'],
      ['a symbolic link to something else', (p) => fs.symlinkSync('/etc/passwd', p), 'a symbolic link to "/etc/passwd"'],
    ];
    for (const [label, make, what] of cases) {
      it(label, async () => {
        const b = base();
        const old = smallTree(b);
        const file = path.join(b, LOCK_NAME);
        make(file);
        const before = listTree(b);
        const r = await runCli([], { cwd: b });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`the lock path ${file} is ${what}, not a vigint-cleanup lock`);
        expect(r.stderr).not.toContain('unexpected error');
        expect(listTree(b)).toEqual(before);
        expect(old.every((f) => fs.existsSync(f))).toBe(true);
      });
    }
  });

  it('a full disk (tmpfs of 64 KiB, filled): the lock is created and a real cleanup deletes; the state file is only a warning', async (ctx) => {
    if (!isRoot) return ctx.skip(); // mounting a file system needs root
    const mnt = tempDir('vigint-fulldisk-');
    trees.push(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      return ctx.skip(); // no mount permission here (a container without CAP_SYS_ADMIN)
    }
    try {
      const old = smallTree(mnt);
      const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
      try {
        for (;;) fs.writeSync(filler, Buffer.alloc(4096));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.closeSync(filler);
      }
      expect(() => fs.writeFileSync(path.join(mnt, 'probe'), 'x')).toThrow(/ENOSPC/);
      fs.rmSync(path.join(mnt, 'probe'), { force: true });
      // the lock alone: a link needs no data block
      const lock = await acquireLock(mnt);
      expect(fs.lstatSync(lock.path).isSymbolicLink()).toBe(true);
      lock.release();
      // a real run
      const r = await runCli(['--json'], { cwd: mnt });
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { totals: { deleted: number } }).totals.deleted).toBe(2);
      expect(old.some((f) => fs.existsSync(f))).toBe(false);
      expect(fs.readdirSync(mnt).sort()).not.toContain(LOCK_NAME);
      expect(fs.readdirSync(mnt).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
});
