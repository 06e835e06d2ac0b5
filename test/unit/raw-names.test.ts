import { describe, expect, it } from 'vitest';
import { escapeRawName } from '../../src/raw-names.js';

const name = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('names that are not valid UTF-8, as logs show them', () => {
  it('write each invalid byte as \\xNN and keep valid text as it is', () => {
    expect(escapeRawName(name('offline_incident_', [0xff], '.txt'))).toBe('offline_incident_\\xff.txt');
    expect(escapeRawName(name('cam_', [0xfe, 0xff], '.mp4'))).toBe('cam_\\xfe\\xff.mp4');
    expect(escapeRawName(name('caméra_é.mp4'))).toBe('caméra_é.mp4');
    expect(escapeRawName(name('emoji_😀.json'))).toBe('emoji_😀.json');
  });

  it('refuse what UTF-8 forbids: overlong forms, surrogates, beyond U+10FFFF, cut sequences', () => {
    expect(escapeRawName(name('a', [0xc0, 0xaf], 'b'))).toBe('a\\xc0\\xafb'); // overlong '/'
    expect(escapeRawName(name('a', [0xed, 0xa0, 0x80], 'b'))).toBe('a\\xed\\xa0\\x80b'); // a surrogate
    expect(escapeRawName(name('a', [0xf4, 0x90, 0x80, 0x80]))).toBe('a\\xf4\\x90\\x80\\x80'); // > U+10FFFF
    expect(escapeRawName(name('a', [0xe2, 0x82]))).toBe('a\\xe2\\x82'); // cut short
  });
});
