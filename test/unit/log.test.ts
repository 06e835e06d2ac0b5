import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { LineFormat, mtimeText } from '../../src/log-line.js';
import { LogWriter } from '../../src/log-writer.js';
import { isoTimestamp } from '../../src/iso.js';
import { nativeScanner, useNative } from '../../src/native-scan.js';
import { type LogSink, openLogSink } from '../../src/log.js';
import { tempDir } from '../helpers/tree.js';

const NATIVE_OFF = process.env.VIGINT_CLEANUP_NATIVE === '0';
/** The two ways a file's line is made right into a buffer: by the native scanner's fileLine, or in JavaScript. */
const lineMakers = NATIVE_OFF ? ['JavaScript'] : ['native', 'JavaScript'];

const noTime = (l: string | undefined) => l?.replace(/"time":"[^"]+"/, '"time":"T"').trimEnd();

/** pino as our logs were written with it: the reference for the lines we write without it. */
const loggerOptions = (level: pino.LevelWithSilent): pino.LoggerOptions => ({ name: 'vigint-cleanup', level, timestamp: isoTimestamp });

describe('log lines without pino', () => {
  it("are pino's own lines, byte for byte (but the time)", () => {
    const format = new LineFormat('info');
    const weird = '/srv/vigint/offline_incidents/offline_incident_"quoted"\\back\tslash\u00e9\u2028.txt';
    const ours = [
      format.fileLine('cleanup: deleted', weird, 1234, mtimeText(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), false),
      format.fileLine('cleanup: would delete (dry run)', '/a/b.mp4', 0, mtimeText(0), true),
      // (lines share their start and end where they can: each change of message, flag or reason shows)
      format.fileLine('cleanup: would delete (dry run)', '/a/c.mp4', 1, mtimeText(1), true),
      format.fileLine('cleanup: would delete (dry run)', '/a/d.mp4', 2, mtimeText(2), false),
      format.fileLine('cleanup: deleted (disk pressure)', '/a/e.mp4', 3, mtimeText(3), false, 'disk-pressure'),
      format.fileLine('cleanup: deleted (disk pressure)', '/a/f.mp4', 4, mtimeText(4), true, 'disk-pressure'),
      format.fileLine('cleanup: deleted', '/a/g.mp4', 5, mtimeText(-8.7e15), false),
      format.line('warn', { path: '/x', code: 'EACCES', err: 'denied' }, 'cleanup: could not delete file'),
    ];
    const theirs: string[] = [];
    const logger = pino(loggerOptions('info'), { write: (s: string) => theirs.push(s) });
    logger.info({ path: weird, size: 1234, mtime: '2026-01-02T03:04:05.006Z' }, 'cleanup: deleted');
    logger.info({ path: '/a/b.mp4', size: 0, mtime: '1970-01-01T00:00:00.000Z', dryRun: true }, 'cleanup: would delete (dry run)');
    logger.info({ path: '/a/c.mp4', size: 1, mtime: '1970-01-01T00:00:00.001Z', dryRun: true }, 'cleanup: would delete (dry run)');
    logger.info({ path: '/a/d.mp4', size: 2, mtime: '1970-01-01T00:00:00.002Z' }, 'cleanup: would delete (dry run)');
    logger.info({ path: '/a/e.mp4', size: 3, mtime: '1970-01-01T00:00:00.003Z', reason: 'disk-pressure' }, 'cleanup: deleted (disk pressure)');
    logger.info({ path: '/a/f.mp4', size: 4, mtime: '1970-01-01T00:00:00.004Z', dryRun: true, reason: 'disk-pressure' }, 'cleanup: deleted (disk pressure)');
    logger.info({ path: '/a/g.mp4', size: 5, mtime: '@-8700000000000' }, 'cleanup: deleted');
    logger.warn({ path: '/x', code: 'EACCES', err: 'denied' }, 'cleanup: could not delete file');
    expect(ours.map(noTime)).toEqual(theirs.map(noTime));
    expect(JSON.parse(ours[0] as string)).toMatchObject({ level: 30, pid: process.pid, hostname: os.hostname(), path: weird });
  });

  it("the run's own logger writes pino's lines, byte for byte (but the time): levels, no fields, errors", async () => {
    const file = path.join(tempDir(), 'p.log');
    const sink = openLogSink({ file, level: 'debug' });
    const theirs: string[] = [];
    const logger = pino(loggerOptions('debug'), { write: (s: string) => theirs.push(s) });
    let fsError: unknown;
    try {
      fs.readFileSync(path.join(tempDir(), 'missing'));
    } catch (err) {
      fsError = err;
    }
    const withCause = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'EIO' }) });
    const aggregate = new AggregateError([new TypeError('one'), new RangeError('two')], 'both');
    const calls = (l: Pick<LogSink['logger'], 'info' | 'warn' | 'error' | 'debug' | 'fatal'>): void => {
      l.info({ baseDir: '/srv', retentionDays: 0.5, cutoff: '2026-01-01T00:00:00.000Z', dryRun: true, categories: ['incidents', 'videos'] }, 'Running automatic cleanup (retention: 0.5 days)');
      l.warn({ path: 'a"b', code: 'EACCES', err: 'denied', gone: undefined, n: Number.NaN }, 'cleanup: could not delete file');
      l.error({ code: 'E_LOCKED' }, 'cleanup: another run holds the lock');
      l.debug('cleanup: another process has just run it; not due any more');
      l.error({ err: fsError }, 'cleanup: could not record the start of this run in the state file');
      l.error({ err: withCause, baseDir: '/b' }, 'cleanup: automatic cleanup failed; the host goes on');
      l.fatal({ err: aggregate }, 'x');
      l.info({ only: 1 });
    };
    calls(sink.logger);
    calls(logger as unknown as LogSink['logger']);
    expect(await sink.close()).toBeUndefined();
    const ours = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(ours.map(noTime)).toEqual(theirs.map(noTime));
    expect(ours).toHaveLength(8);
  });

  it.each(lineMakers)("a file's line made right into the writer's buffer (%s) is fileLine's, byte for byte, in order", (maker) => {
    const now = vi.spyOn(Date, 'now');
    useNative(maker === 'native');
    try {
      const format = new LineFormat('info');
      const reference = new LineFormat('info');
      const asString = vi.spyOn(format, 'fileLine');
      const file = path.join(tempDir(), 'into.log');
      const fd = fs.openSync(file, 'a');
      const writer = new LogWriter(fd, file);
      const cases: [string, string, string, number, number, boolean, string?][] = [
        ['cleanup: deleted', '/srv/v/offline_incidents/', 'offline_incident_1.txt', 1234, Date.UTC(2026, 0, 2, 3, 4, 5, 6), false],
        // a path JSON escapes, or not ASCII: made as a string (fileLineInto declines), in its place
        ['cleanup: deleted', '/srv/v/offline_incidents/', 'offline_incident_"q"\\b\t\u00e9\u2028.txt', 1, 0, false],
        ['cleanup: would delete (dry run)', '/a/', 'b.mp4', 0, 999.9, true],
        ['cleanup: would delete (dry run)', '/a/', '\u00e9.mp4', 0, 0, true],
        ['cleanup: deleted (disk pressure)', '/a/', 'e.mp4', 3, 3, false, 'disk-pressure'],
        ['cleanup: deleted (disk pressure)', '/a/', 'f.mp4', 4, 4, true, 'disk-pressure'],
        // the sizes of every length, times before 1970 and at the ends of years 0000-9999
        ['cleanup: deleted', '/a/', 'h.mp4', 9_007_199_254_740_991, -1, false],
        ['cleanup: deleted', '/a/', 'i.mp4', 1_000_000_007, Date.UTC(0, 0, 1) - 0, false],
        ['cleanup: deleted', '/a/', 'j.mp4', 10, Date.UTC(9999, 11, 31, 23, 59, 59, 999), false],
        ['cleanup: deleted', '/a/', 'k.mp4', 99, -62_135_596_800_001, false],
        // declined: a size over 2^53, a time outside the years 0000-9999 (or none), a folder JSON escapes
        ['cleanup: deleted', '/a/', 'g.mp4', 2 ** 53, -8.7e15, false],
        ['cleanup: deleted', '/a/', 'l.mp4', 2 ** 53 + 2, 0, false],
        ['cleanup: deleted', '/a/', 'm.mp4', 5, Date.UTC(10000, 0, 1), false],
        ['cleanup: deleted', '/a/', 'n.mp4', 5, Number.NaN, false],
        ['cleanup: deleted', '/"a"/', 'o.mp4', 5, 5, false],
        ['cleanup: deleted', '/a/', `${'x'.repeat(5000)}.mp4`, 5, 5, false], // longer than a line's room: written in all the same while the buffer has it
      ];
      // (Date.UTC's years 0-99 are 1900-1999: year 0 itself, as a number)
      (cases[7] as (typeof cases)[number])[4] = new Date(0).setUTCFullYear(0, 0, 1);
      let expected = '';
      // enough lines to fill the 256 KiB buffer more than once, the time changing as they go
      for (let i = 0; i < 3000; i++) {
        const [msg, folder, name, size, mtimeMs, dryRun, reason] = cases[i % cases.length] as (typeof cases)[number];
        now.mockReturnValue(Date.UTC(2026, 11, 6, 12, 0, 0, Math.floor(i / 7)));
        expected += reference.fileLine(msg, folder + name, size, mtimeText(mtimeMs), dryRun, reason);
        writer.writeFileLine(format, msg, folder, name, size, mtimeMs, dryRun, reason, msg.includes('deleted') && !dryRun ? 1 : 0);
      }
      const deletedCases = cases.filter(([msg, , , , , dryRun]) => msg.includes('deleted') && !dryRun).length;
      const rounds = (k: number): number => Math.floor(3000 / cases.length) + (k < 3000 % cases.length ? 1 : 0);
      const deletedLines = cases.reduce((n, [msg, , , , , dryRun], k) => n + (msg.includes('deleted') && !dryRun ? rounds(k) : 0), 0);
      expect(deletedCases).toBe(13);
      expect(writer.unwritten).toBe(deletedLines); // the deleted files' lines are counted as unwritten
      // made as strings: the seven cases fileLineInto declines, each time, and a few lines at the
      // end of a full buffer (the next one goes on in a new buffer)
      const declinedCases = [1, 3, 10, 11, 12, 13, 14];
      const declined = declinedCases.reduce((n, k) => n + rounds(k), 0);
      expect(asString.mock.calls.length).toBeGreaterThanOrEqual(declined);
      expect(asString.mock.calls.length - declined).toBeLessThan(20);
      expect(writer.flush()).toBe(true);
      expect(writer.unwritten).toBe(0);
      fs.closeSync(fd);
      expect(fs.readFileSync(file, 'utf8')).toBe(expected);
      // it declines a path JSON escapes and a buffer without room
      const buf = Buffer.alloc(300, 0x2a);
      expect(format.fileLineInto(buf, 0, 'm', '/a/', '"b"', 1, 0, false)).toBe(-1);
      expect(format.fileLineInto(buf, 0, 'm', '/\\/', 'b', 1, 0, false)).toBe(-1);
      expect(format.fileLineInto(buf, 200, 'm', '/a/', 'b', 1, 0, false)).toBe(-1);
      const end = format.fileLineInto(buf, 10, 'm', '/a/', 'b', 1, 0, false);
      expect(buf.toString('utf8', 10, end)).toBe(format.fileLine('m', '/a/b', 1, mtimeText(0), false));
    } finally {
      now.mockRestore();
      useNative(!NATIVE_OFF);
    }
  });

  it.runIf(!NATIVE_OFF)("the native scanner's lines are the JavaScript ones for 100,000 random sizes and times, and decline the same", () => {
    expect(nativeScanner()).toBeDefined();
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 11, 6, 12));
    const format = new LineFormat('info');
    const a = Buffer.alloc(1024);
    const b = Buffer.alloc(1024);
    // (a seeded generator: a failure can be run again)
    let seed = 42;
    const random = (): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const times = [0, -0, -1, 0.5, -0.5, 999.999, -62_167_219_200_000, -62_167_219_200_000.5, -62_167_219_200_001, 253_402_300_799_999.9, 253_402_300_800_000, Number.NaN, Number.POSITIVE_INFINITY, -8.64e15, 8.64e15];
    const sizes = [0, -0, 1, 9, 10, 2 ** 53 - 1, 2 ** 53, -1, 0.5, Number.NaN];
    const names = ['b.mp4', '', 'x y!#$%&()*+,-./0189:;<=>?@AZ[]^_`az{|}~.json', 'a"b', 'a\\b', 'tab\t', 'caf\u00e9', '\u2028', '\ud800', 'x'.repeat(300)];
    let declined = 0;
    for (let i = 0; i < 100_000; i++) {
      // times and sizes of every scale, both signs, with fractions; and the edge cases above
      const mtimeMs = i < times.length ? (times[i] as number) : (random() - 0.3) * 10 ** (random() * 16) * (random() < 0.5 ? 1 : 1.0001);
      const size = i < sizes.length ? (sizes[i] as number) : Math.floor(random() * 10 ** (random() * 16));
      const name = names[i % names.length] as string;
      useNative(true);
      const native = format.fileLineInto(a, 7, 'cleanup: deleted', '/srv/v/', name, size, mtimeMs, i % 3 === 0);
      useNative(false);
      const js = format.fileLineInto(b, 7, 'cleanup: deleted', '/srv/v/', name, size, mtimeMs, i % 3 === 0);
      expect({ i, native, line: a.toString('latin1', 7, Math.max(7, native)) }).toEqual({ i, native: js, line: b.toString('latin1', 7, Math.max(7, js)) });
      if (js < 0) declined++;
      else expect(a.toString('latin1', 7, native)).toBe(format.fileLine('cleanup: deleted', `/srv/v/${name}`, size, mtimeText(mtimeMs), i % 3 === 0));
    }
    // at every place in a buffer up to its end: made, or declined for want of room, at the same
    // places both ways (names of ASCII, and not, whose UTF-8 bytes outnumber their characters)
    const small = Buffer.alloc(400);
    const other = Buffer.alloc(400);
    for (const name of ['b.mp4', 'x'.repeat(60), 'caf\u00e9.mp4', 'ab\u20ac', '\ud800x', '\u00e9']) {
      for (let at = 0; at <= small.length; at++) {
        useNative(true);
        const native = format.fileLineInto(small, at, 'cleanup: deleted', '/srv/v/', name, 12, 1_700_000_000_000, false);
        useNative(false);
        const js = format.fileLineInto(other, at, 'cleanup: deleted', '/srv/v/', name, 12, 1_700_000_000_000, false);
        expect({ name, at, native }).toEqual({ name, at, native: js });
        if (js >= 0) expect(small.subarray(at, native).equals(other.subarray(at, js))).toBe(true);
      }
    }
    useNative(true);
    now.mockRestore();
    // (both kinds were met: lines made, and lines declined)
    expect(declined).toBeGreaterThan(40_000);
    expect(declined).toBeLessThan(90_000);
  });

  it('write a modification time outside the range of a date as its raw seconds', () => {
    expect(mtimeText(-10_000_000_000_000 * 1000)).toBe('@-10000000000000');
    expect(mtimeText(Date.UTC(2026, 10, 26))).toBe('2026-11-26T00:00:00.000Z');
  });
});

describe('the log writer', () => {
  it('keeps every line, in order, across many writes, and lines longer than a write', async () => {
    const file = path.join(tempDir(), 'b.log');
    const sink = openLogSink({ file, level: 'info' });
    const long = 'x'.repeat(300_000);
    for (let i = 0; i < 50_000; i++) sink.logger.info({ i, path: i === 25_000 ? long : `/p/${i}` }, 'line');
    expect(await sink.close()).toBeUndefined();
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { i: number; path: string });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
    expect(lines[25_000]?.path).toBe(long);
  });

  it('writes at once and counts the deletions whose lines are written, per source', () => {
    const file = path.join(tempDir(), 'c.log');
    const fd = fs.openSync(file, 'a');
    const writer = new LogWriter(fd, file);
    const acked: [number, number][] = [];
    writer.onWritten = (source, deletions) => acked.push([source, deletions]);
    writer.write('{"a":1}\n{"a":2}\n', 2, 0, true);
    writer.write('{"b":1}\n', 1, 1, true);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"b":1}\n');
    expect(acked).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(writer.unwritten).toBe(0);
    fs.closeSync(fd);
  });

  it("keeps this thread's lines and the workers' batches in the order they came, and their counts", () => {
    const file = path.join(tempDir(), 'order.log');
    const fd = fs.openSync(file, 'a');
    const writer = new LogWriter(fd, file);
    const acked: [number, number][] = [];
    writer.onWritten = (source, deletions) => acked.push([source, deletions]);
    writer.write('{"m":1}\n', 1);
    writer.write('{"m":2,"s":"é€𝄞"}\n');
    writer.write('{"w":1}\n', 1, 0);
    writer.write('{"m":3}\n', 1);
    writer.write(`{"long":"${'y'.repeat(100_000)}"}\n`, 1); // more than a staging buffer holds
    writer.write('{"m":4}\n');
    expect(writer.unwritten).toBe(4);
    expect(fs.readFileSync(file, 'utf8')).toBe(''); // nothing yet: written on the next turn, or at flush
    expect(writer.flush()).toBe(true);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.map((l) => l.slice(0, 8))).toEqual(['{"m":1}', '{"m":2,"', '{"w":1}', '{"m":3}', '{"long":', '{"m":4}', ''].map((l) => l.slice(0, 8)));
    expect(lines[1]).toBe('{"m":2,"s":"é€𝄞"}');
    expect(lines[4]).toHaveLength(100_011);
    expect(acked).toEqual([
      [-1, 1],
      [0, 1],
      [-1, 1],
      [-1, 1],
    ]);
    expect(writer.unwritten).toBe(0);
    expect(writer.queuedBytes).toBe(0);
    fs.closeSync(fd);
  });

  it('keeps the lines it could not write, says why, and writes them when it can again', async () => {
    const file = path.join(tempDir(), 'd.log');
    fs.writeFileSync(file, '');
    // a descriptor open for reading only refuses every write (EBADF), as a full disk would
    const fd = fs.openSync(file, 'r');
    const writer = new LogWriter(fd, file);
    writer.write('{"x":1}\n', 1, -1, true);
    expect(writer.failure?.code).toBe('EBADF');
    expect(writer.unwritten).toBe(1);
    expect(await writer.retry()).toBe(false);
    expect(writer.unwritten).toBe(1); // kept, not dropped
    fs.closeSync(fd);
  });

  it('a level above info writes no file lines', async () => {
    const file = path.join(tempDir(), 'e.log');
    const sink = openLogSink({ file, level: 'warn' });
    expect(sink.format.enabled('info')).toBe(false);
    sink.logger.info({ path: '/y' }, 'not written');
    sink.logger.warn({ path: '/y', code: 'EACCES' }, 'cleanup: could not delete file');
    await sink.close();
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(1);
  });
});
