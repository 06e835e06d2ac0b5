import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { categoryById, nameClassifier } from '../../src/categories.js';
import { sweepCategory } from '../../src/delete.js';
import type { SweepOptions } from '../../src/sweep-options.js';
import type { Guard, HoldFollower } from '../../src/hold-follow.js';
import { type NativeFolder, nativeScanner, useNative } from '../../src/native-scan.js';
import { type ScanFailure, type ScannedFile, inShard, scanFolder } from '../../src/scan.js';
import type { CategoryResult } from '../../src/result.js';
import { systemError } from '../../src/scan-failure.js';
import { ENOENT } from '../../src/scan-native.js';
import { forgetListings } from '../../src/read-ahead.js';
import { entriesUpTo } from '../../src/entry-count.js';
import { type SweepLog, loggerLog } from '../../src/sweep-log.js';
import { type BatchFile, UnlinkBatches } from '../../src/unlink-batch.js';
import { threadsNamed } from '../helpers/threads.js';
import { makeTree, tempDir } from '../helpers/tree.js';

const names = (dir: string, id: 'incidents' | 'videos'): string[] =>
  [...scanFolder(dir, nameClassifier(categoryById(id)))].map((e) => ('failure' in e ? `!${e.failure.code}` : e.name)).sort();

/**
 * npm install builds the native scanner, and these tests require it; on a machine that cannot
 * build it, VIGINT_CLEANUP_NATIVE=0 runs the rest (the scan with Node's fs) and skips its tests.
 */
const NATIVE_OFF = process.env.VIGINT_CLEANUP_NATIVE === '0';
const scanners = NATIVE_OFF ? ['fs'] : ['native', 'fs'];

// Every case, with the native scanner (native/scan.c) and with Node's fs: the same answers.
describe.each(scanners)('scanFolder (%s)', (scanner) => {
  beforeAll(() => useNative(scanner === 'native'));
  afterAll(() => useNative(!NATIVE_OFF));
  const root = tempDir();
  const outside = tempDir();
  const servers: net.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('yields only matching regular files directly inside the folder', async () => {
    makeTree(outside, { 'secret.txt': { ageDays: 400 }, 'offline_incident_x.txt': { ageDays: 400 } });
    makeTree(root, {
      'offline_incidents/offline_incident_1.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_2.TXT': { ageDays: 40 },
      'offline_incidents/Offline_incident_3.txt': { ageDays: 40 },
      'offline_incidents/.offline_incident_4.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_5.txt.bak': { ageDays: 40 },
      'offline_incidents/incident_6.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_dir.txt': { type: 'dir', ageDays: 40 },
      'offline_incidents/offline_incident_dir.txt/offline_incident_nested.txt': { ageDays: 40 },
      'offline_incidents/sub/offline_incident_7.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_link.txt': { type: 'symlink', target: path.join(outside, 'secret.txt'), ageDays: 40 },
      'offline_incidents/offline_incident_dangling.txt': { type: 'symlink', target: '/nonexistent/x', ageDays: 40 },
      'offline_incidents/offline_incident_fifo.txt': { type: 'fifo', ageDays: 40 },
      'mock_sparse_ai_cloud/a.mp4': { ageDays: 40 },
      'mock_sparse_ai_cloud/a.json': { ageDays: 40 },
      'mock_sparse_ai_cloud/OLD.MP4': { ageDays: 40 },
      'mock_sparse_ai_cloud/b.JSON': { ageDays: 40 },
      'mock_sparse_ai_cloud/.hidden.mp4': { ageDays: 40 },
      'mock_sparse_ai_cloud/c.mp4.part': { ageDays: 40 },
      'mock_sparse_ai_cloud/notes.txt': { ageDays: 40 },
      'mock_sparse_ai_cloud/d.mp4': { type: 'symlink', target: path.join(outside, 'secret.txt') },
      'mock_sparse_ai_cloud/nested/e.mp4': { ageDays: 40 },
    });
    const socketPath = path.join(root, 'offline_incidents', 'offline_incident_sock.txt');
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));

    expect(names(path.join(root, 'offline_incidents'), 'incidents')).toEqual(['offline_incident_.txt', 'offline_incident_1.txt']);
    expect(names(path.join(root, 'mock_sparse_ai_cloud'), 'videos')).toEqual(['a.json', 'a.mp4']);
  });

  it('reports size, kind, mtime and identity from lstat', () => {
    const dir = path.join(tempDir(), 'mock_sparse_ai_cloud');
    makeTree(path.dirname(dir), { 'mock_sparse_ai_cloud/v.mp4': { size: 12345, ageDays: 2 } });
    const [entry] = [...scanFolder(dir, nameClassifier(categoryById('videos')))];
    const stat = fs.lstatSync(path.join(dir, 'v.mp4'));
    expect(entry).toEqual({
      name: 'v.mp4',
      path: path.join(dir, 'v.mp4'),
      at: path.join(dir, 'v.mp4'),
      kind: 'video',
      size: 12345,
      blocks: stat.blocks,
      nlink: 1,
      isFile: true,
      dev: stat.dev,
      ino: stat.ino,
      mtimeMs: stat.mtimeMs,
      ctimeMs: stat.ctimeMs,
    });
  });

  it('follows a category folder that is itself a link, once', () => {
    const data = tempDir();
    makeTree(data, { 'offline_incident_9.txt': { ageDays: 40 }, 'inner/offline_incident_10.txt': { ageDays: 40 } });
    const base = tempDir();
    fs.symlinkSync(data, path.join(base, 'offline_incidents'));
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual(['offline_incident_9.txt']);
  });

  it('a missing folder yields nothing; a file where the folder should be is a failure', () => {
    const base = tempDir();
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual([]);
    fs.writeFileSync(path.join(base, 'offline_incidents'), 'not a folder');
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual(['!ENOTDIR']);
  });

  it('streams a large folder without reading it whole', () => {
    const dir = path.join(tempDir(), 'offline_incidents');
    fs.mkdirSync(dir);
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, `offline_incident_${i}.txt`), '');
    let count = 0;
    for (const e of scanFolder(dir, nameClassifier(categoryById('incidents')))) if (!('failure' in e)) count++;
    expect(count).toBe(3000);
  });
});

describe.skipIf(NATIVE_OFF)('the native scanner (skipped with VIGINT_CLEANUP_NATIVE=0)', () => {
  it('is built, and loaded unless turned off', () => {
    expect(nativeScanner()).toBeDefined();
  });

  it('is what scanFolder reads with when it is on; Node\'s fs when it is off', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const read = vi.spyOn(native, 'read');
    try {
      const dir = path.join(tempDir(), 'offline_incidents');
      makeTree(path.dirname(dir), { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } });
      expect(scan(dir, true)).toHaveLength(1);
      expect(read).toHaveBeenCalled();
      read.mockClear();
      expect(scan(dir, false)).toHaveLength(1);
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  /** A folder of names of every shape: ASCII, accented, emoji, not UTF-8, and some non-files. */
  function oddFolder(): string {
    const dir = path.join(tempDir(), 'offline_incidents');
    fs.mkdirSync(dir);
    const names: (string | Buffer)[] = [];
    for (let i = 0; i < 700; i++) names.push(`offline_incident_${i}.txt`);
    for (const s of ['é', 'ü_ß', '日本', '😀', 'e\u0301', '\uFFFD']) names.push(`offline_incident_${s}.txt`);
    for (const bytes of [[0xff], [0xfe, 0xff], [0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80]]) {
      names.push(Buffer.concat([Buffer.from('offline_incident_'), Buffer.from(bytes), Buffer.from('.txt')]));
    }
    const old = new Date(Date.now() - 40 * 86_400_000);
    for (const name of names) {
      const file = typeof name === 'string' ? path.join(dir, name) : Buffer.concat([Buffer.from(`${dir}/`), name]);
      fs.writeFileSync(file, 'x'.repeat(names.indexOf(name) % 50));
      fs.utimesSync(file, old, old);
    }
    fs.mkdirSync(path.join(dir, 'offline_incident_dir.txt'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'offline_incident_link.txt'));
    return dir;
  }

  const scan = (dir: string, native: boolean, options: Parameters<typeof scanFolder>[2] = {}): (ScannedFile | ScanFailure)[] => {
    useNative(native);
    try {
      return [...scanFolder(dir, nameClassifier(categoryById('incidents')), options)];
    } finally {
      useNative(true);
    }
  };
  const byName = (items: (ScannedFile | ScanFailure)[]): ScannedFile[] =>
    items.filter((i): i is ScannedFile => !('failure' in i)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  it('finds the very files Node finds, with the same lstat figures, names that are not UTF-8 included', () => {
    const dir = oddFolder();
    for (const batch of [false, true]) {
      const native = byName(scan(dir, true, { batch }));
      const node = byName(scan(dir, false));
      expect(native).toHaveLength(711);
      expect(native).toEqual(node);
      // a name that is not UTF-8 is shown escaped and reached by its bytes
      const raw = native.find((f) => f.name === 'offline_incident_\\xff.txt') as ScannedFile;
      expect(Buffer.isBuffer(raw.at)).toBe(true);
      expect(fs.lstatSync(raw.at).size).toBe(raw.size);
    }
  });

  it("uses the names the count read, once, and only for the folder counted (read-ahead)", () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = oddFolder();
    const entries = fs.readdirSync(dir).length;
    const files = byName(scan(dir, true, { batch: true }));
    const read = vi.spyOn(native, 'read');
    try {
      // the count reads the folder to its end and keeps its names: the scan reads nothing more
      expect(entriesUpTo([dir], 10_000, { keep: true })).toBe(entries);
      read.mockClear();
      expect(byName(scan(dir, true, { batch: true }))).toEqual(files);
      expect(read).not.toHaveBeenCalled();
      // taken once: the next scan reads the folder
      expect(byName(scan(dir, true))).toEqual(files);
      expect(read).toHaveBeenCalled();

      // a count that reaches its limit keeps nothing, nor does one not asked to keep
      expect(entriesUpTo([dir], 100, { keep: true })).toBeGreaterThanOrEqual(100);
      expect(entriesUpTo([dir], 10_000)).toBe(entries);
      read.mockClear();
      expect(byName(scan(dir, true))).toEqual(files);
      expect(read).toHaveBeenCalled();

      // a file changed since the count (its folder is not): the scan sees it as it is now
      entriesUpTo([dir], 10_000, { keep: true });
      const young = new Date();
      fs.utimesSync(path.join(dir, 'offline_incident_1.txt'), young, young);
      read.mockClear();
      const changed = byName(scan(dir, true, { batch: true }));
      expect(read).not.toHaveBeenCalled();
      expect(changed.find((f) => f.name === 'offline_incident_1.txt')?.mtimeMs).toBeCloseTo(young.getTime(), 0);

      // files gone or made since the count change the folder: the scan reads it again, and sees
      // exactly what is there now (the folder's mtime set in the past first, so that the change
      // shows whatever the clock's granularity)
      const past = new Date(Date.now() - 86_400_000);
      fs.utimesSync(dir, past, past);
      entriesUpTo([dir], 10_000, { keep: true });
      fs.rmSync(path.join(dir, 'offline_incident_0.txt'));
      fs.writeFileSync(path.join(dir, 'offline_incident_new.txt'), 'n');
      read.mockClear();
      const after = byName(scan(dir, true, { batch: true })).map((f) => f.name);
      expect(read).toHaveBeenCalled();
      expect(after).toHaveLength(files.length);
      expect(after).not.toContain('offline_incident_0.txt');
      expect(after).toContain('offline_incident_new.txt');

      // a folder moved and another put in its place: the scan reads the one it opened
      entriesUpTo([dir], 10_000, { keep: true });
      fs.renameSync(dir, `${dir}.old`);
      makeTree(path.dirname(dir), { 'offline_incidents/offline_incident_other.txt': { ageDays: 40 } });
      read.mockClear();
      expect(byName(scan(dir, true, { batch: true })).map((f) => f.name)).toEqual(['offline_incident_other.txt']);
      expect(read).toHaveBeenCalled();

      // forgotten when the command's run is over
      entriesUpTo([dir], 10_000, { keep: true });
      forgetListings();
      read.mockClear();
      expect(byName(scan(dir, true)).map((f) => f.name)).toEqual(['offline_incident_other.txt']);
      expect(read).toHaveBeenCalled();
    } finally {
      read.mockRestore();
      forgetListings();
    }
  });

  it('read-ahead: a shard scan reads for itself; a scan from the working folder takes the names; a count past its limit over two folders keeps none', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = oddFolder();
    const files = byName(scan(dir, true, { batch: true }));
    const read = vi.spyOn(native, 'read');
    const home = process.cwd();
    try {
      // a shard's scan (a worker's) reads the folder itself, and leaves the names for the whole scan
      entriesUpTo([dir], 10_000, { keep: true });
      read.mockClear();
      const shard = byName(scan(dir, true, { shard: { from: 0, to: 1, count: 2 } }));
      expect(read).toHaveBeenCalled();
      expect(shard.length).toBeGreaterThan(0);
      expect(shard.length).toBeLessThan(files.length);
      read.mockClear();
      expect(byName(scan(dir, true, { batch: true }))).toEqual(files);
      expect(read).not.toHaveBeenCalled();

      // the CLI's sweep: in the folder, by bare names (fromCwd), the names the count read
      entriesUpTo([dir], 10_000, { keep: true });
      process.chdir(dir);
      read.mockClear();
      const fromCwd = byName(scan(dir, true, { batch: true, fromCwd: true }));
      expect(read).not.toHaveBeenCalled();
      expect(fromCwd.map((f) => f.path)).toEqual(files.map((f) => f.path));
      process.chdir(home);

      // two folders counted against one limit: the second takes the count past it, neither keeps its names
      const other = path.join(tempDir(), 'offline_incidents');
      fs.mkdirSync(other);
      for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(other, `offline_incident_${i}.txt`), '');
      const entries = fs.readdirSync(dir).length;
      expect(entriesUpTo([dir, other], entries + 50, { keep: true })).toBeGreaterThanOrEqual(entries + 50);
      read.mockClear();
      expect(byName(scan(dir, true, { batch: true }))).toEqual(files);
      expect(read).toHaveBeenCalled();
      read.mockClear();
      expect(byName(scan(other, true, { batch: true }))).toHaveLength(100);
      expect(read).toHaveBeenCalled();
    } finally {
      process.chdir(home);
      read.mockRestore();
      forgetListings();
    }
  });

  it("the count's lookahead: its looks are the scan's (one thread, in order), and its thread ends with the scan or when the names are let go", () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = oddFolder();
    const entries = fs.readdirSync(dir).length;
    const classify = [nameClassifier(categoryById('incidents'))];
    const files = byName(scan(dir, true, { batch: true }));
    expect(files).toHaveLength(711);
    const start = vi.spyOn(native, 'lstatStart');
    const many = vi.spyOn(native, 'lstatMany');
    const wait = vi.spyOn(native, 'aheadWait');
    try {
      // a dry run's scan (batch): every look made by the lookahead the count set going
      expect(entriesUpTo([dir], 10_000, { keep: true, classify })).toBe(entries);
      expect(threadsNamed('vigint-lstat')).toBe(1);
      expect(byName(scan(dir, true, { batch: true }))).toEqual(files);
      expect(start).not.toHaveBeenCalled();
      expect(many).not.toHaveBeenCalled();
      expect(wait).toHaveBeenCalled();
      expect(threadsNamed('vigint-lstat')).toBe(0); // ended with the scan

      // a folder's blocks past the first entries (here 100) are handed over only once it is read
      // to its end: every block still looked at ahead, none by the scan itself
      const events: string[] = [];
      const realRead = native.read.bind(native);
      const realPush = native.aheadPush.bind(native);
      const read = vi.spyOn(native, 'read').mockImplementation((...a) => {
        const n = realRead(...a);
        events.push(n > 0 ? 'read' : 'end');
        return n;
      });
      const push = vi.spyOn(native, 'aheadPush').mockImplementation((...a) => {
        events.push('push');
        return realPush(...a);
      });
      try {
        wait.mockClear();
        expect(entriesUpTo([dir], 10_000, { keep: true, classify, lookWhileCounting: 1 })).toBe(entries);
        // the first block handed over as it was read, the others after the end
        expect(events.slice(0, 2)).toEqual(['read', 'push']);
        const end = events.indexOf('end');
        expect(events.slice(2, end).every((e) => e === 'read')).toBe(true);
        expect(events.slice(end + 1).every((e) => e === 'push')).toBe(true);
        expect(push.mock.calls.length).toBe(events.filter((e) => e === 'read').length);
        expect(push.mock.calls.length).toBeGreaterThan(1);
        read.mockRestore();
        expect(byName(scan(dir, true, { batch: true }))).toEqual(files);
        expect(wait).toHaveBeenCalledTimes(push.mock.calls.length);
        expect(many).not.toHaveBeenCalled();
        expect(start).not.toHaveBeenCalled();
      } finally {
        read.mockRestore();
        push.mockRestore();
      }

      // a scan that looks at each file right before its unlink (no batch): the lookahead is ended
      // unused, and the files are the same
      entriesUpTo([dir], 10_000, { keep: true, classify });
      wait.mockClear();
      expect(byName(scan(dir, true))).toEqual(files);
      expect(wait).not.toHaveBeenCalled();
      expect(threadsNamed('vigint-lstat')).toBe(0);

      // names let go unused (the command is over), a count past its limit, a folder changed since
      // the count: each ends the lookahead's thread
      entriesUpTo([dir], 10_000, { keep: true, classify });
      expect(threadsNamed('vigint-lstat')).toBe(1);
      forgetListings();
      expect(threadsNamed('vigint-lstat')).toBe(0);
      expect(entriesUpTo([dir], 100, { keep: true, classify })).toBeGreaterThanOrEqual(100);
      expect(threadsNamed('vigint-lstat')).toBe(0);
      const past = new Date(Date.now() - 86_400_000);
      fs.utimesSync(dir, past, past);
      entriesUpTo([dir], 10_000, { keep: true, classify });
      fs.writeFileSync(path.join(dir, 'offline_incident_late.txt'), 'n');
      wait.mockClear();
      expect(byName(scan(dir, true, { batch: true }))).toHaveLength(712);
      expect(wait).not.toHaveBeenCalled();
      expect(threadsNamed('vigint-lstat')).toBe(0);

      // a count that fails part-way (here the second folder's classifier throws): the first
      // folder's lookahead is ended, and the error goes on
      const other = path.join(tempDir(), 'offline_incidents');
      fs.mkdirSync(other);
      fs.writeFileSync(path.join(other, 'offline_incident_1.txt'), '');
      const boom = (): never => {
        throw new Error('boom');
      };
      expect(() => entriesUpTo([dir, other], 10_000, { keep: true, classify: [classify[0] as (n: string) => undefined, boom] })).toThrow('boom');
      expect(threadsNamed('vigint-lstat')).toBe(0);
    } finally {
      start.mockRestore();
      many.mockRestore();
      wait.mockRestore();
      forgetListings();
    }
  });

  it('aheadStart, aheadPush, aheadWait, aheadEnd: the figures of lstatMany, block after block; nothing after the end', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = oddFolder();
    const folder = native.open(Buffer.from(`${dir}\0`));
    if (typeof folder === 'number') throw new Error(`open: ${folder}`);
    const ahead = native.aheadStart(folder);
    if (typeof ahead === 'number') throw new Error(`aheadStart: ${ahead}`);
    try {
      const blocks: { names: Buffer; ends: Int32Array; marks: Uint8Array; out: Float64Array; count: number; index: number }[] = [];
      for (;;) {
        const names = Buffer.alloc(1024);
        const types = new Uint8Array(64);
        const ends = new Int32Array(64);
        const count = native.read(folder, names, types, ends, 0, 1, 1);
        if (count === 0) break;
        // every other entry looked at: the unmarked ones are left as they were (NaN here)
        const marks = Uint8Array.from({ length: count }, (_, i) => i % 2);
        const out = new Float64Array(8 * count).fill(Number.NaN);
        const index = native.aheadPush(ahead, names, ends, marks, count, out);
        expect(index).toBe(blocks.length);
        blocks.push({ names, ends, marks, out, count, index });
      }
      expect(blocks.length).toBeGreaterThan(10);
      // waited for out of order too: the last first, then each
      expect(native.aheadWait(ahead, blocks.length - 1)).toBe(0);
      for (const b of blocks) {
        expect(native.aheadWait(ahead, b.index)).toBe(0);
        const expected = new Float64Array(8 * b.count).fill(Number.NaN);
        expect(native.lstatMany(folder, b.names, b.ends, b.marks, b.count, expected)).toBe(0);
        expect(b.out).toEqual(expected);
      }
      // names that do not end within their buffer are refused, as by lstatMany
      expect(() => native.aheadPush(ahead, Buffer.from('abc'), Int32Array.of(3), Uint8Array.of(1), 1, new Float64Array(8))).toThrow(/bad arguments/);
      expect(() => native.aheadWait(ahead, blocks.length)).toThrow(/bad arguments/);
      native.aheadEnd(ahead);
      native.aheadEnd(ahead); // again: nothing
      expect(native.aheadWait(ahead, 0)).toBe(-os.constants.errno.EBADF);
      expect(native.aheadPush(ahead, Buffer.from('a\0'), Int32Array.of(2), Uint8Array.of(1), 1, new Float64Array(8))).toBe(-os.constants.errno.EBADF);
      expect(threadsNamed('vigint-lstat')).toBe(0);
    } finally {
      native.aheadEnd(ahead);
      native.close(folder);
    }
  });

  it('keeps no names for a folder whose size says it holds more than the count may read (read-ahead)', (ctx) => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = tempDir('grown-');
    // 2,000 long names made and removed: ext4 never shrinks a folder, so its size stays that of 2,000
    const long = (i: number): string => path.join(dir, `offline_incident_${String(i).padStart(120, '0')}.txt`);
    for (let i = 0; i < 2000; i++) fs.writeFileSync(long(i), '');
    for (let i = 5; i < 2000; i++) fs.rmSync(long(i));
    if (fs.statSync(dir).size <= 100 * 96) ctx.skip('this file system shrinks a folder emptied (not ext4): nothing to test');
    const read = vi.spyOn(native, 'read');
    try {
      expect(entriesUpTo([dir], 100, { keep: true })).toBe(5); // read to its end, below the limit
      read.mockClear();
      expect(scan(dir, true, { batch: true })).toHaveLength(5);
      expect(read).toHaveBeenCalled(); // nothing was kept: the scan read the folder
    } finally {
      read.mockRestore();
      forgetListings();
    }
  });

  it('keeps the names of a folder whose size and first names say it ends below the line, and no others (read-ahead)', (ctx) => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const name = (i: number): string => `offline_incident_${String(i).padStart(8, '0')}.txt`;
    // 1,500 files in a folder made for them; 1,500 left of 3,000 in one that held them all
    const fresh = tempDir('fresh-');
    const emptied = tempDir('emptied-');
    for (let i = 0; i < 3000; i++) {
      if (i < 1500) fs.writeFileSync(path.join(fresh, name(i)), '');
      fs.writeFileSync(path.join(emptied, name(i)), '');
    }
    for (let i = 0; i < 3000; i += 2) fs.rmSync(path.join(emptied, name(i)));
    const sizes = [fresh, emptied].map((d) => fs.statSync(d).size);
    if ((sizes[1] as number) <= (sizes[0] as number)) ctx.skip('this file system shrinks a folder emptied (not ext4): nothing to test');
    // (the rule of 96 bytes an entry alone would keep both: each is under 2,000 x 96 bytes)
    expect(Math.max(...sizes)).toBeLessThan(2000 * 96);
    const read = vi.spyOn(native, 'read');
    try {
      for (const [dir, kept] of [[fresh, true], [emptied, false]] as const) {
        expect(entriesUpTo([dir], 2000, { keep: true })).toBe(1500); // read to its end, below the limit
        read.mockClear();
        expect(scan(dir, true, { batch: true })).toHaveLength(1500);
        // kept: the scan took the names; else it read the folder itself
        expect({ dir, read: read.mock.calls.length > 0 }).toEqual({ dir, read: !kept });
      }
    } finally {
      read.mockRestore();
      forgetListings();
    }
  });

  it("shares a folder as Node's scan does: each name in exactly one share, the same one", () => {
    const dir = oddFolder();
    const all = byName(scan(dir, true)).map((f) => f.path);
    // (names that are not UTF-8: the native scan hashes their bytes, Node's scan the text it
    // decoded; a run scans one way in every thread, so each is checked on its own)
    const text = (paths: string[]): string[] => paths.filter((p) => !p.includes('\\x'));
    for (const count of [2, 3, 16]) {
      const seen: Record<'native' | 'fs', string[]> = { native: [], fs: [] };
      for (let from = 0; from < count; from++) {
        const shard = { from, to: from + 1, count };
        const native = byName(scan(dir, true, { shard })).map((f) => f.path);
        const node = byName(scan(dir, false, { shard })).map((f) => f.path);
        expect(text(native)).toEqual(text(node));
        for (const p of text(native)) expect(inShard(path.basename(p), shard)).toBe(true);
        seen.native.push(...native);
        seen.fs.push(...node);
      }
      expect(seen.native.sort()).toEqual(all);
      expect(seen.fs.sort()).toEqual(all);
    }
  });

  it("shares a block's lstats among threads to the same figures, in the same places, failures included", () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = tempDir();
    const count = 900; // one block of the folder (getdents64 reads 32 KiB at a time)
    for (let i = 0; i < count; i++) {
      fs.writeFileSync(path.join(dir, `f${i}`), 'x'.repeat(i % 97));
      fs.utimesSync(path.join(dir, `f${i}`), 1_000 + i, 1_000_000 + i * 7.5);
    }
    const folder = native.open(Buffer.from(`${dir}\0`)) as NativeFolder;
    const names = Buffer.allocUnsafe(64 << 10);
    const types = new Uint8Array(2048);
    const ends = new Int32Array(2048);
    try {
      expect(native.read(folder, names, types, ends, 0, 1, 1)).toBe(count);
      // every third entry unmarked; a hundred files gone since the listing (ENOENT in their place)
      const marks = new Uint8Array(count).map((_, i) => (i % 3 === 2 ? 0 : 1));
      for (let i = 0; i < 100; i++) fs.rmSync(path.join(dir, names.toString('utf8', i === 0 ? 0 : (ends[i - 1] as number), (ends[i] as number) - 1)));
      const once = new Float64Array(8 * count).fill(7);
      expect(native.lstatMany(folder, names, ends, marks, count, once, 1)).toBe(0);
      for (const threads of [2, 3, 8, 64]) {
        const shared = new Float64Array(8 * count).fill(7);
        expect(native.lstatMany(folder, names, ends, marks, count, shared, threads)).toBe(0);
        expect(shared).toEqual(once);
      }
      let gone = 0;
      let looked = 0;
      for (let i = 0; i < count; i++) {
        const mode = once[8 * i] as number;
        if (marks[i] === 0) expect(mode).toBe(7); // not looked at: left as it was
        else if (mode === ENOENT) gone++;
        else {
          looked++;
          const name = names.toString('utf8', i === 0 ? 0 : (ends[i - 1] as number), (ends[i] as number) - 1);
          const n = Number(name.slice(1));
          expect(once[8 * i + 3]).toBe(n % 97);
          expect(once[8 * i + 6]).toBe((1_000_000 + n * 7.5) * 1000);
        }
      }
      expect(gone).toBe(Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 !== 2).length);
      expect(looked + gone).toBe(600);
      expect(() => native.lstatMany(folder, names, ends, marks, count, once, 0)).toThrow(TypeError);
      // the same in threads of their own, while this one goes on
      for (const threads of [1, 2, 8]) {
        const later = new Float64Array(8 * count).fill(7);
        expect(native.lstatStart(folder, names, ends, marks, count, later, threads)).toBe(0);
        expect(native.lstatStart(folder, names, ends, marks, count, later, threads)).toBe(-16); // -EBUSY: one block at a time
        expect(native.lstatMany(folder, names, ends, marks, count, later, threads)).toBe(-16);
        expect(native.read(folder, names, types, ends, 0, 1, 1)).toBe(-16); // its buffers are not written meanwhile
        expect(native.lstatWait(folder)).toBe(0);
        expect(later).toEqual(once);
      }
      expect(native.lstatWait(folder)).toBe(0); // none under way: at once
      // closed with a block under way: it waits for it
      expect(native.lstatStart(folder, names, ends, marks, count, new Float64Array(8 * count), 2)).toBe(0);
    } finally {
      native.close(folder);
    }
    expect(native.lstatStart(folder, names, ends, new Uint8Array(count).fill(1), count, new Float64Array(8 * count), 2)).toBe(-9); // -EBADF
  });

  it('unlinks a batch only of files still as chosen: each looked at again by the name it is unlinked by', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = tempDir();
    const old = Date.now() / 1000 - 90 * 86_400;
    const make = (name: string): fs.Stats => {
      fs.writeFileSync(path.join(dir, name), name);
      fs.utimesSync(path.join(dir, name), old, old);
      return fs.lstatSync(path.join(dir, name));
    };
    const names = ['same', 'touched', 'young', 'replaced', 'gone', 'link', 'folder', ...Array.from({ length: 60 }, (_, i) => `more${i}`)];
    const chosen = names.map((n) => make(n));
    // what happens to them after they were chosen
    fs.utimesSync(path.join(dir, 'touched'), old, old); // ctime changes, mtime is put back: not the same file any more
    fs.utimesSync(path.join(dir, 'young'), new Date(), new Date());
    fs.rmSync(path.join(dir, 'replaced'));
    make('replaced');
    fs.rmSync(path.join(dir, 'gone'));
    fs.rmSync(path.join(dir, 'link'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'link'));
    fs.rmSync(path.join(dir, 'folder'));
    fs.mkdirSync(path.join(dir, 'folder'));
    const paths = Buffer.from(names.map((n) => `${path.join(dir, n)}\0`).join(''));
    const ends = new Int32Array(names.length);
    for (let i = 0, at = 0; i < names.length; i++) ends[i] = at += Buffer.byteLength(path.join(dir, names[i] as string)) + 1;
    const expect4 = new Float64Array(4 * names.length);
    chosen.forEach((st, i) => expect4.set([st.dev, st.ino, st.ctimeMs, 0], 4 * i));
    const results = new Float64Array(2 * names.length + 1).fill(7);
    const unlinker = native.unlinker();
    const cutoff = Date.now() - 30 * 86_400_000;
    expect(native.unlinkStart(unlinker, paths, ends, expect4, names.length, cutoff, results, 2)).toBe(0);
    expect(native.unlinkStart(unlinker, paths, ends, expect4, names.length, cutoff, results, 2)).toBe(-16); // one batch at a time
    expect(native.unlinkWait(unlinker)).toBe(0);
    const outcome = (n: string): [number, number] => [results[2 * names.indexOf(n)] as number, results[2 * names.indexOf(n) + 1] as number];
    expect(outcome('same')).toEqual([0, 2]);
    for (const n of ['touched', 'young', 'replaced', 'link', 'folder']) expect(outcome(n)[0]).toBe(1); // kept: changed
    expect(outcome('young')[1]).toBeGreaterThan(cutoff); // with its mtime now
    expect(outcome('gone')).toEqual([ENOENT, 1]); // the lstat failed: ENOENT
    expect(results[2 * names.length]).toBeGreaterThanOrEqual(0); // the unlinks' time
    expect(fs.readdirSync(dir).sort()).toEqual(['folder', 'link', 'replaced', 'touched', 'young']);
    expect(native.unlinkWait(unlinker)).toBe(0); // none under way: at once
    expect(() => native.unlinkStart(unlinker, paths, new Int32Array([9999]), expect4, 1, cutoff, results, 1)).toThrow(TypeError);
    expect(native.unlinkEnd(unlinker)).toBe(0);
  });

  it("keeps an unlinker's threads from batch to batch, ends them with unlinkEnd, and starts them anew after", () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = tempDir('unlinker-threads-');
    const old = new Date(Date.now() - 40 * 86_400_000);
    const cutoff = Date.now() - 30 * 86_400_000;
    const threads = (): number => threadsNamed('vigint-unlink');
    const batch = (first: number): [Buffer, Int32Array, Float64Array, Float64Array] => {
      const names = Array.from({ length: 16 }, (_, i) => path.join(dir, `f${first + i}`));
      const expect4 = new Float64Array(4 * names.length);
      names.forEach((n, i) => {
        fs.writeFileSync(n, 'x');
        fs.utimesSync(n, old, old);
        const st = fs.lstatSync(n);
        expect4.set([st.dev, st.ino, st.ctimeMs, 0], 4 * i);
      });
      const ends = new Int32Array(names.length);
      for (let i = 0, at = 0; i < names.length; i++) ends[i] = at += Buffer.byteLength(names[i] as string) + 1;
      return [Buffer.from(names.map((n) => `${n}\0`).join('')), ends, expect4, new Float64Array(2 * names.length + 1)];
    };
    const run = (unlinker: ReturnType<typeof native.unlinker>, first: number): Float64Array => {
      const [paths, ends, expect4, results] = batch(first);
      expect(native.unlinkStart(unlinker, paths, ends, expect4, 16, cutoff, results, 2)).toBe(0);
      expect(native.unlinkWait(unlinker)).toBe(0);
      return results;
    };
    const before = threads();
    const unlinker = native.unlinker();
    run(unlinker, 0);
    expect(threads()).toBe(before + 2); // two threads, kept for the next batch
    run(unlinker, 16);
    expect(threads()).toBe(before + 2); // the same two
    expect(native.unlinkEnd(unlinker)).toBe(0);
    expect(threads()).toBe(before); // ended
    expect(native.unlinkEnd(unlinker)).toBe(0); // again: nothing to do
    const results = run(unlinker, 32); // a later batch starts them anew, and they work
    expect(threads()).toBe(before + 2);
    expect(Array.from({ length: 16 }, (_, i) => results[2 * i])).toEqual(new Array(16).fill(0));
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(native.unlinkEnd(unlinker)).toBe(0);
    expect(threads()).toBe(before);
  });

  it('reports every file of a batch even when reporting one throws, then throws the first error', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = tempDir('batch-throws-');
    const old = new Date(Date.now() - 40 * 86_400_000);
    const reported: string[] = [];
    const batches = new UnlinkBatches<BatchFile & { name: string }>(
      native,
      Date.now() - 30 * 86_400_000,
      2,
      (file, _freed, outcome) => {
        reported.push(`${file.name}:${'err' in outcome && outcome.err === null ? 'deleted' : 'other'}`);
        if (file.name === 'f1' || file.name === 'f3') throw new Error(`reporting ${file.name}`);
      },
      () => {},
    );
    for (let i = 0; i < 5; i++) {
      const at = path.join(dir, `f${i}`);
      fs.writeFileSync(at, 'x');
      fs.utimesSync(at, old, old);
      const st = fs.lstatSync(at);
      batches.add({ name: `f${i}`, at, dev: st.dev, ino: st.ino, ctimeMs: st.ctimeMs }, 0);
    }
    expect(() => batches.end()).toThrow('reporting f1');
    expect(reported).toEqual(['f0:deleted', 'f1:deleted', 'f2:deleted', 'f3:deleted', 'f4:deleted']);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(threadsNamed('vigint-unlink')).toBe(0); // ended all the same
  });

  it('refuses arguments that would reach outside its buffers, without crashing', () => {
    const native = nativeScanner();
    if (native === undefined) throw new Error('not built');
    const dir = oddFolder();
    const folder = native.open(Buffer.from(`${dir}\0`)) as NativeFolder;
    expect(typeof folder).toBe('object');
    const names = Buffer.alloc(256);
    const out = new Float64Array(8);
    try {
      expect(() => native.open(Buffer.from(dir))).toThrow(TypeError); // no NUL at the end
      expect(() => native.lstat(folder, names, 300, out)).toThrow(TypeError);
      expect(() => native.lstat(folder, names.fill(1), 0, out)).toThrow(TypeError); // no NUL in the buffer
      expect(() => native.lstat(folder, Buffer.from('a\0'), 0, new Float64Array(4))).toThrow(TypeError);
      expect(() => native.read(folder, names, new Uint8Array(4), new Int32Array(4), 0, 1, 0)).toThrow(TypeError);
      expect(() => native.lstatMany(folder, names, new Int32Array([999]), new Uint8Array([1]), 1, new Float64Array(8))).toThrow(TypeError);
      expect(native.open(Buffer.from(`${dir}/missing\0`))).toBe(-2); // -ENOENT
      // a buffer too small for one name
      expect(native.read(folder, Buffer.alloc(4), new Uint8Array(4), new Int32Array(4), 0, 1, 1)).toBe(-36); // -ENAMETOOLONG
    } finally {
      native.close(folder);
    }
    expect(native.read(folder, names, new Uint8Array(4), new Int32Array(4), 0, 1, 1)).toBe(-9); // closed: -EBADF
  });
});

describe.each(scanners)('scanning a folder that changes (%s)', (scanner) => {
  const native = scanner === 'native';
  afterAll(() => useNative(!NATIVE_OFF));
  const category = categoryById('incidents');

  /** An incidents folder (in a new base) of `count` files offline_incident_<i>.txt, 90 days old; `make` makes them again. */
  function incidents(count: number): { dir: string; names: string[]; make: (at: string, ageDays: number, content?: string) => void } {
    const dir = path.join(tempDir(), category.folder);
    const names = Array.from({ length: count }, (_, i) => `offline_incident_${i}.txt`);
    const make = (at: string, ageDays: number, content?: string): void =>
      makeTree(path.dirname(at), Object.fromEntries(names.map((n) => [`${category.folder}/${n}`, { ageDays, content }])));
    make(dir, 90);
    return { dir, names, make };
  }

  /** A real run of the folder, cutoff 30 days; a log that says nothing unless given. */
  /** Holds that come once `due()` says so: none before, a hold on each of `held` after (`onAdopt` when taken). */
  function holdsThatCome(held: Set<string>, due: () => boolean, onAdopt?: () => void): { holds: HoldFollower; adopted: () => boolean } {
    const none: Guard = { heldBy: () => undefined, inFolder: () => () => undefined };
    const some: Guard = { heldBy: (_, n) => (held.has(n) ? 'case 1' : undefined), inFolder: () => (n) => (held.has(n) ? 'case 1' : undefined) };
    let adopted = false;
    const holds: HoldFollower = {
      get guard() {
        return adopted ? some : none;
      },
      changed: () => !adopted && due(),
      adopt: () => {
        adopted = true;
        onAdopt?.();
      },
    };
    return { holds, adopted: () => adopted };
  }

  const realRun = (dir: string, options: Partial<SweepOptions>): Promise<CategoryResult> =>
    sweepCategory(category, dir, {
      cutoff: Date.now() - 30 * 86_400_000,
      startMs: Date.now(),
      dryRun: false,
      log: loggerLog({ info: () => {}, warn: () => {} }),
      onFailure: () => {},
      ...options,
    });

  it('a real run looks at the file its unlink removes, even once the folder was moved and replaced', async () => {
    useNative(native);
    const { dir, names, make } = incidents(4);
    let calls = 0;
    // after the first file is looked at: the folder is renamed and a new one, of young files of
    // the same names, put in its place (a rotation, a remount)
    const shouldStop = (): boolean => {
      if (++calls === 1) {
        fs.renameSync(dir, `${dir}.old`);
        make(dir, 0, 'NEW');
      }
      return false;
    };
    const result = await realRun(dir, { shouldStop, concurrency: 0 });
    // The other three are looked at where they will be unlinked, found young, and kept. The first
    // one deleted is the new folder's: the swap came between its look and its unlink, both by
    // path. That window (a few instructions in a real run, none but the test's hook here) is the
    // same with Node's fs; only an unlink in the folder opened (unlinkat, as find -delete does)
    // would close it, and the unlinks stay Node's.
    expect(fs.existsSync(path.join(`${dir}.old`, 'offline_incident_0.txt')) || fs.existsSync(path.join(dir, 'offline_incident_0.txt'))).toBe(true);
    expect(result.deleted).toBe(1);
    expect(fs.readdirSync(dir)).toHaveLength(3);
    for (const n of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, n), 'utf8')).toBe('NEW');
    expect(fs.readdirSync(`${dir}.old`).sort()).toEqual(names);
  });

  it('a real run in batches (native scanner): a folder moved and replaced loses no file of either', async (ctx) => {
    if (!native) return ctx.skip();
    useNative(true);
    const { dir, names, make } = incidents(100);
    let calls = 0;
    const warned: unknown[] = [];
    const shouldStop = (): boolean => {
      if (++calls === 1) {
        fs.renameSync(dir, `${dir}.old`);
        make(dir, 0, 'NEW');
      }
      return false;
    };
    // (adaptive: the unlinks go in batches, each file looked at again by its path right before)
    const result = await realRun(dir, { log: loggerLog({ info: () => {}, warn: (o) => warned.push(o) }), shouldStop });
    // every file was looked at in the folder opened (the old one) and chosen; at its unlink, the
    // file of that path is another (the new folder's, young): kept, as changed
    expect(result).toMatchObject({ found: 100, toDelete: 100, deleted: 0, skipped: 100, failed: 0 });
    expect(warned).toHaveLength(100);
    expect(fs.readdirSync(dir).sort()).toEqual([...names].sort());
    for (const n of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, n), 'utf8')).toBe('NEW');
    expect(fs.readdirSync(`${dir}.old`).sort()).toEqual([...names].sort());
  });

  it('a real run in batches: holds that come while files are queued keep them (the queue is looked at again)', async (ctx) => {
    if (!native) return ctx.skip();
    useNative(true);
    const { dir, names } = incidents(100);
    const heldNames = new Set(names.slice(0, 50));
    let calls = 0;
    // the new holds come after 30 files were chosen: queued, none started yet (a batch is 64)
    const { holds, adopted } = holdsThatCome(heldNames, () => calls > 30);
    const result = await realRun(dir, { shouldStop: () => (calls++, false), holds });
    expect(adopted()).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual([...heldNames].sort());
    expect(result).toMatchObject({ found: 100, held: 50, toDelete: 50, deleted: 50, failed: 0, skipped: 0 });
  });

  it("a real run in batches: holds that come after a batch ran stop the unlinker's threads, which start anew for the rest", async (ctx) => {
    if (!native) return ctx.skip();
    useNative(true);
    const { dir, names } = incidents(200);
    const heldNames = new Set(names.slice(0, 100));
    let calls = 0;
    let goneAtAdoption = -1;
    // (asked twice per old file) the holds come after ~90 files: one batch of 64 started already
    const { holds, adopted } = holdsThatCome(
      heldNames,
      () => calls > 180,
      () => {
        goneAtAdoption = 200 - fs.readdirSync(dir).length;
      },
    );
    const ended = vi.spyOn(nativeScanner() as NonNullable<ReturnType<typeof nativeScanner>>, 'unlinkEnd');
    try {
      const result = await realRun(dir, { shouldStop: () => (calls++, false), holds });
      expect(adopted()).toBe(true);
      expect(goneAtAdoption).toBeGreaterThanOrEqual(64); // the holds came after a batch ran
      expect(ended.mock.calls.length).toBeGreaterThanOrEqual(2); // at the holds, and at the end
      const left = fs.readdirSync(dir);
      // nothing that is not held survives; what is held and was not gone before the holds is kept
      for (const n of left) expect(heldNames.has(n)).toBe(true);
      expect(left).toHaveLength(200 - result.deleted);
      expect(result).toMatchObject({ found: 200, failed: 0, skipped: 0 });
      expect(result.held + result.deleted).toBe(200);
      expect(result.held).toBe(left.length);
      expect(threadsNamed('vigint-unlink')).toBe(0);
    } finally {
      ended.mockRestore();
    }
  });

  it('a real run in batches told to stop: what is queued is not started, nor counted as to delete', async (ctx) => {
    if (!native) return ctx.skip();
    useNative(true);
    const { dir } = incidents(200);
    let calls = 0;
    // (asked twice per old file) stopped after 65 files: the first batch of 64 started, one more queued
    const result = await realRun(dir, { shouldStop: () => ++calls > 130 });
    expect(result).toMatchObject({ found: 65, deleted: 64, toDelete: 64, skipped: 0, failed: 0 });
    expect(fs.readdirSync(dir)).toHaveLength(200 - 64);
  });

  it('a real run whose log throws part-way: that error, nothing deleted after it, nothing queued started, the folder closed', async () => {
    useNative(native);
    const { dir } = incidents(100);
    const fds = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    let lines = 0;
    // the 10th deleted file's line cannot be written: the sweep must stop there, not go on unlogged
    const log: SweepLog = {
      ...loggerLog({ info: () => {}, warn: () => {} }),
      file: () => {
        if (++lines === 10) throw new Error('log broke');
      },
    };
    await expect(realRun(dir, { log })).rejects.toThrow('log broke');
    const left = fs.readdirSync(dir).length;
    // one at a time (Node's fs): the 10th file's line threw right after its unlink. In batches
    // (native): the first batch of 64 ran and was reported whole (each of its lines asked for),
    // the other 36 were queued and not started.
    expect({ left, lines }).toEqual(native ? { left: 36, lines: 64 } : { left: 90, lines: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fs.readdirSync(dir)).toHaveLength(left);
    expect(fds()).toBe(before);
  });

  it('a path longer than PATH_MAX: the dry run says what the real run will (a failure, not a file)', () => {
    useNative(native);
    let base = tempDir('vigint-long-');
    while (base.length < 4_039) base = path.join(base, 'd'.repeat(Math.min(250, 4_040 - base.length - 1)));
    const dir = path.join(base, 'offline_incidents');
    fs.mkdirSync(dir, { recursive: true });
    // made from inside: the whole path is too long for the system calls
    execFileSync('/bin/sh', ['-c', 'cd "$1" && touch offline_incident_00000000000000000000000000000000000000000000000001.txt', 'sh', dir]);
    expect(dir.length + 1 + 70).toBeGreaterThan(4095);
    for (const batch of [true, false]) {
      const got = [...scanFolder(dir, nameClassifier(categoryById('incidents')), { batch })].map((i) => ('failure' in i ? i.failure.code : 'file'));
      expect(got).toEqual(['ENAMETOOLONG']);
    }
  });

  it('a folder removed while it is read ends the scan, with no failure', () => {
    useNative(native);
    const dir = path.join(tempDir(), 'offline_incidents');
    fs.mkdirSync(dir);
    for (let i = 0; i < 5000; i++) fs.writeFileSync(path.join(dir, `offline_incident_${i}.txt`), '');
    for (const batch of [false, true]) {
      if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir);
        for (let i = 0; i < 5000; i++) fs.writeFileSync(path.join(dir, `offline_incident_${i}.txt`), '');
      }
      const failures: string[] = [];
      let files = 0;
      for (const item of scanFolder(dir, nameClassifier(categoryById('incidents')), { batch })) {
        if ('failure' in item) failures.push(item.failure.code);
        else if (++files === 1) fs.rmSync(dir, { recursive: true });
      }
      expect(failures).toEqual([]);
      // looked at one by one, the files gone are passed over; a block looked at in one call (a
      // dry run, status) may still show the rest of its block
      if (!batch || !native) expect(files).toBe(1);
    }
  });
});

describe('systemError', () => {
  it("words a failure as Node does: code, description, system call, path", () => {
    const err = systemError(-5, 'scandir', '/x');
    expect(err.message).toBe("EIO: i/o error, scandir '/x'");
    expect(err).toMatchObject({ code: 'EIO', errno: -5, syscall: 'scandir', path: '/x' });
    let node: NodeJS.ErrnoException | undefined;
    try {
      fs.opendirSync('/nonexistent-vigint');
    } catch (e) {
      node = e as NodeJS.ErrnoException;
    }
    expect(systemError(-2, 'opendir').message).toBe(node?.message);
  });
});
