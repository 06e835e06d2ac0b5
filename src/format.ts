/** Small formatting helpers shared by the reports and the log messages. */

/** Bytes as MB (1 MB = 1,048,576 bytes) with two decimals, as the reports print them. */
export function formatMB(bytes: number): string {
  return (bytes / 1_048_576).toFixed(2);
}

/** "30 days", "1 day", "0.5 days", "0.0000001 days" (never an exponent). */
export function formatDays(days: number): string {
  return `${formatDecimal(days)} ${days === 1 ? 'day' : 'days'}`;
}

/**
 * An integer with thousands separators, as `toLocaleString('en-US')` writes it (12,345), without
 * Intl: its first use costs about 12 ms (ICU's number formats are loaded). Anything but a safe
 * integer goes to toLocaleString.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return n < 0 ? `-${out}` : out;
}

/** Bytes in human units (B, KB, MB, GB, TB; powers of 1,024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * A number as a plain decimal, never with an exponent: 1e-7 → "0.0000001", 30 → "30". What it
 * prints, `--days` accepts and reads back as the same number (the shortest form that does).
 */
export function formatDecimal(value: number): string {
  const text = String(value);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, lead, rest = '', exp] = m as unknown as [string, string, string, string | undefined, string];
  const digits = `${lead}${rest}`;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Text from outside (file names, paths) made safe for a terminal: C0 controls, DEL and C1
 * controls are written `\xNN` (a name holding ESC[2J must not clear the screen), as
 * non-UTF-8 bytes are (raw-names.ts).
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
