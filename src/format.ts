/** Small formatting helpers shared by the reports and the log messages. */

/** Bytes as MB (1 MB = 1,048,576 bytes) with two decimals, as the reports print them. */
export function formatMB(bytes: number): string {
  return (bytes / 1_048_576).toFixed(2);
}

/** "30 days", "1 day", "0.5 days". */
export function formatDays(days: number): string {
  return `${days} ${days === 1 ? 'day' : 'days'}`;
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
