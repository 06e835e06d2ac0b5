/**
 * ISO 8601 (UTC, milliseconds), as Date#toISOString gives it, several times faster: a cleanup
 * formats two per deleted file (the log line's time and the file's mtime), and toISOString costs
 * ~1.5 µs. The date part is cached per day: a run's log times share a day, and mtimes fall on a
 * few hundred days at most.
 */
const DAY = 86_400_000;
const dayPrefix = new Map<number, string>();

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

export function isoString(ms: number): string {
  const whole = Math.trunc(ms);
  const day = Math.floor(whole / DAY);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    const date = new Date(day * DAY);
    // years outside 0000-9999 have their own form: let Date write them
    if (date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) return new Date(whole).toISOString();
    if (dayPrefix.size > 4096) dayPrefix.clear();
    prefix = date.toISOString().slice(0, 11);
    dayPrefix.set(day, prefix);
  }
  let rest = whole - day * DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}

/** pino's `timestamp` option: `,"time":"<ISO>"`, as pino.stdTimeFunctions.isoTime, faster. */
export const isoTimestamp = (): string => `,"time":"${isoString(Date.now())}"`;
