import { describe, expect, it } from 'vitest';
import { formatProgress, startProgress } from '../../src/progress.js';
import { emptyCategoryResult } from '../../src/result.js';

function fakeTerminal() {
  let text = '';
  return { isTTY: true, write: (s: string) => void (text += s), text: () => text };
}

describe('progress', () => {
  it('formats files found, deleted, MB freed and the rate', () => {
    expect(formatProgress(1_234_567, 600_000, 3 * 1_048_576, 2000, false)).toBe(
      'scanned 1,234,567 files, deleted 600,000, 3.00 MB freed, 617,284 files/s',
    );
    expect(formatProgress(10, 4, 0, 1000, true)).toBe('scanned 10 files, 4 to delete (0.00 MB), 10 files/s');
  });

  it('draws nothing in the first second, then redraws in place, and erases its line at the end', () => {
    let t = 0;
    const out = fakeTerminal();
    const p = startProgress(out, false, () => t);
    const soFar = { ...emptyCategoryResult('videos', '/v'), found: 500, deleted: 200, bytesFreed: 1_048_576 };
    t = 900;
    p.update('videos', soFar);
    expect(out.text()).toBe('');
    t = 1500;
    p.update('incidents', { ...emptyCategoryResult('incidents', '/i'), found: 100, deleted: 50 });
    expect(out.text()).toBe('\r\u001b[2Kscanned 600 files, deleted 250, 1.00 MB freed, 400 files/s');
    t = 1600; // within 200 ms of the last draw: not redrawn
    p.update('videos', { ...soFar, found: 700 });
    expect(out.text().split('\r').length).toBe(2);
    p.stop();
    expect(out.text().endsWith('\r\u001b[2K')).toBe(true);
  });

  it('a short run leaves no trace', () => {
    let t = 0;
    const out = fakeTerminal();
    const p = startProgress(out, true, () => t);
    t = 500;
    p.update('videos', emptyCategoryResult('videos', '/v'));
    p.stop();
    expect(out.text()).toBe('');
  });
});
