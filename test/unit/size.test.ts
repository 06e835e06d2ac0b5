import { describe, expect, it } from 'vitest';
import { CleanupError } from '../../src/errors.js';
import { formatBytes, parseSize, targetBytes } from '../../src/size.js';

const GB = 1024 ** 3;

describe('parseSize', () => {
  it.each([
    ['10%', { kind: 'percent', percent: 10 }],
    ['100%', { kind: 'percent', percent: 100 }],
    ['0.5%', { kind: 'percent', percent: 0.5 }],
    ['20GB', { kind: 'bytes', bytes: 20 * GB }],
    ['20gb', { kind: 'bytes', bytes: 20 * GB }],
    ['20G', { kind: 'bytes', bytes: 20 * GB }],
    ['20GiB', { kind: 'bytes', bytes: 20 * GB }],
    ['500MB', { kind: 'bytes', bytes: 500 * 1024 ** 2 }],
    ['1.5TB', { kind: 'bytes', bytes: 1.5 * 1024 ** 4 }],
    ['64KB', { kind: 'bytes', bytes: 65536 }],
    ['4096B', { kind: 'bytes', bytes: 4096 }],
    [' 2 GB ', { kind: 'bytes', bytes: 2 * GB }],
  ])('%s', (raw, expected) => {
    expect(parseSize(raw, '--min-free')).toEqual(expected);
  });

  it.each(['', '500', '0%', '0GB', '101%', '-5GB', '10 %%', 'GB', '5PB', '1e3MB', 'ten%', '5XB'])('refuses %j with a usage error naming the option', (raw) => {
    let error: unknown;
    try {
      parseSize(raw, '--min-free');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CleanupError);
    expect((error as CleanupError).exitStatus).toBe(2);
    expect((error as CleanupError).message).toContain('--min-free');
  });
});

describe('targetBytes', () => {
  it('a share of the file system rounds up; bytes stay bytes', () => {
    expect(targetBytes({ kind: 'percent', percent: 10 }, 1001)).toBe(101);
    expect(targetBytes({ kind: 'percent', percent: 100 }, 4096)).toBe(4096);
    expect(targetBytes({ kind: 'bytes', bytes: 7 }, 1_000_000)).toBe(7);
  });
});

describe('formatBytes', () => {
  it('binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KB');
    expect(formatBytes(20 * GB)).toBe('20.0 GB');
  });
});
