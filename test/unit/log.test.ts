import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, openLogSink } from '../../src/log.js';
import { tempDir } from '../helpers/tree.js';

describe('the log sink', () => {
  it("fileLog writes pino's own line, byte for byte (but the time)", async () => {
    const file = path.join(tempDir(), 'a.log');
    const sink = openLogSink({ file, level: 'info' });
    const weird = '/srv/vigint/offline_incidents/offline_incident_"quoted"\\back\tslash\u00e9\u2028.txt';
    sink.fileLog('cleanup: deleted', weird, 1234, Date.UTC(2026, 0, 2, 3, 4, 5, 6), false);
    sink.fileLog('cleanup: would delete (dry run)', '/a/b.mp4', 0, 0, true);
    await sink.close();
    const ours = fs.readFileSync(file, 'utf8').split('\n');

    const theirs: string[] = [];
    const logger = pino(loggerOptions('info'), { write: (s: string) => theirs.push(s.trimEnd()) });
    logger.info({ path: weird, size: 1234, mtime: '2026-01-02T03:04:05.006Z' }, 'cleanup: deleted');
    logger.info({ path: '/a/b.mp4', size: 0, mtime: '1970-01-01T00:00:00.000Z', dryRun: true }, 'cleanup: would delete (dry run)');
    const noTime = (l: string | undefined) => l?.replace(/"time":"[^"]+"/, '"time":"T"');
    expect(noTime(ours[0])).toBe(noTime(theirs[0]));
    expect(noTime(ours[1])).toBe(noTime(theirs[1]));
    expect(JSON.parse(ours[0] as string)).toMatchObject({ level: 30, pid: process.pid, hostname: os.hostname(), path: weird });
  });

  it('keeps every line, in order, across many buffers, and lines longer than a buffer', async () => {
    const file = path.join(tempDir(), 'b.log');
    const sink = openLogSink({ file, level: 'info' });
    const long = 'x'.repeat(300_000);
    for (let i = 0; i < 50_000; i++) {
      sink.logger.info({ i, path: i === 25_000 ? long : `/p/${i}` }, 'line');
      const wait = sink.backpressure();
      if (wait) await wait;
    }
    await sink.close();
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { i: number; path: string });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
    expect(lines[25_000]?.path).toBe(long);
  });

  it('a level above info writes no file lines', async () => {
    const file = path.join(tempDir(), 'c.log');
    const sink = openLogSink({ file, level: 'warn' });
    sink.fileLog('cleanup: deleted', '/x', 1, 0, false);
    sink.logger.warn({ path: '/y', code: 'EACCES' }, 'cleanup: could not delete file');
    await sink.close();
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(1);
  });
});
