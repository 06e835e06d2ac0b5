import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';

/**
 * File names that are not valid UTF-8. Node gives names as strings, with each invalid byte
 * replaced by U+FFFD, and a replaced name names no file: such a file would be passed over in
 * silence. A folder listing with a name holding U+FFFD is read once more as bytes, to find the
 * real names behind it (usually none or a few, so this costs nothing on ordinary folders).
 */
export class RawNames {
  private byLossy: Map<string, Buffer[]> | undefined;
  private readonly handled = new Set<string>();

  /** @param dir the folder as system calls name it ('.' when it is the working directory) */
  constructor(private readonly dir: string) {}

  /**
   * The names that are not valid UTF-8 behind a decoded `name` holding U+FFFD ([] if none: the
   * name is real); undefined when `name` was met before in this scan.
   */
  take(name: string): Buffer[] | undefined {
    if (this.handled.has(name)) return undefined;
    this.handled.add(name);
    this.byLossy ??= this.read();
    return this.byLossy.get(name) ?? [];
  }

  private read(): Map<string, Buffer[]> {
    const map = new Map<string, Buffer[]>();
    // Node reads names as bytes with encoding 'buffer' (its types list only text encodings)
    const handle = fs.opendirSync(this.dir, { encoding: 'buffer' as BufferEncoding, bufferSize: 128 });
    try {
      for (let d = handle.readSync(); d !== null; d = handle.readSync()) {
        const raw = d.name as unknown as Buffer;
        if (isUtf8(raw)) continue;
        const lossy = raw.toString('utf8');
        const list = map.get(lossy);
        if (list) list.push(Buffer.from(raw));
        else map.set(lossy, [Buffer.from(raw)]);
      }
    } finally {
      handle.closeSync();
    }
    return map;
  }
}

/** Length of the valid UTF-8 sequence at `i`, or 0 (a lone byte that must be escaped). */
function sequenceAt(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number): boolean => i + k < b.length && ((b[i + k] as number) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const n = b[i + 1] as number;
    const lowOk = c === 0xe0 ? n >= 0xa0 : c === 0xed ? n < 0xa0 : true; // no overlongs, no surrogates
    return cont(1) && cont(2) && lowOk ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const n = b[i + 1] as number;
    const lowOk = c === 0xf0 ? n >= 0x90 : c === 0xf4 ? n < 0x90 : true; // no overlongs, ≤ U+10FFFF
    return cont(1) && cont(2) && cont(3) && lowOk ? 4 : 0;
  }
  return 0;
}

/** A name as logs and reports show it: valid UTF-8 as text, each invalid byte as `\xNN`. */
export function escapeRawName(raw: Buffer): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const n = sequenceAt(raw, i);
    if (n === 0) {
      out += `\\x${(raw[i] as number).toString(16).padStart(2, '0')}`;
      i++;
    } else {
      out += raw.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}
