import { usageError } from './errors.js';

/** A free-space target: a share of the file system, or bytes. */
export type SizeTarget = { readonly kind: 'percent'; readonly percent: number } | { readonly kind: 'bytes'; readonly bytes: number };

/** Binary units: 1 KB = 1024 bytes, 1 GB = 1024³ bytes (what `df -h` means by G). */
const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*(%|[KMGT]i?B|[KMGT]|B)$/i;

/**
 * Parses `10%`, `20GB`, `500MB`, `1.5TB`, `4096B` (also `20G`, `20GiB`; case does not matter).
 * A bare number is refused: without a unit, `500` could be bytes or megabytes.
 */
export function parseSize(raw: string, what: string): SizeTarget {
  const m = SIZE.exec(raw.trim());
  const value = m ? Number(m[1]) : Number.NaN;
  if (!m || !(value > 0)) {
    throw usageError(
      `invalid ${what} '${raw}': expected a share of the file system such as 10% or a size such as 500MB or 20GB (1 GB = 1024³ bytes), more than 0`,
    );
  }
  const unit = (m[2] ?? '').toUpperCase();
  if (unit === '%') {
    if (value > 100) throw usageError(`invalid ${what} '${raw}': a share must be more than 0% and at most 100%`);
    return { kind: 'percent', percent: value };
  }
  const bytes = Math.ceil(value * (UNITS[unit.charAt(0)] ?? 1));
  if (!Number.isSafeInteger(bytes)) throw usageError(`invalid ${what} '${raw}': too large`);
  return { kind: 'bytes', bytes };
}

/** The target in bytes on a file system of `sizeBytes`. */
export function targetBytes(target: SizeTarget, sizeBytes: number): number {
  return target.kind === 'bytes' ? target.bytes : Math.ceil((sizeBytes * target.percent) / 100);
}

/** `12.3 GB`, `512 MB`, `0 B`: binary units, for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'] as const;
  let i = 0;
  let v = bytes;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
