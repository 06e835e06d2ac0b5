import fs from 'node:fs';

/** Lines are written once this many bytes wait (or when the last write ends, or on a timer). */
const CHUNK = 64 << 10;
/** A lone line waits at most this long before it is written (the built-in cleanup's few lines). */
const IDLE_FLUSH_MS = 50;
/** When a pipe is full (EAGAIN), try again after this long, without holding the thread. */
const RETRY_MS = 10;
/**
 * One buffer, reused for every write (only one write is in flight at a time): a fresh Buffer per
 * write lives outside V8's heap until a major GC, and a million lines left tens of MB of them.
 */
const SCRATCH = 4 << 20;

/**
 * An asynchronous destination for pino that stays O(1) per line. sonic-boom appends each line
 * to one growing string and measures it on every write, which costs 3 to 12 µs a line at the
 * volumes a cleanup logs (a line per file; measured); here lines wait in an array, joined once
 * per write. Writes are asynchronous (fs.write on the thread pool), never a sleep on a full pipe.
 * `pending` counts the bytes not yet written, for the caller's backpressure.
 */
export class LineSink {
  private lines: string[] = [];
  private queued = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: { limit: number; resolve: () => void }[] = [];
  private scratch: Buffer | undefined;
  /** Bytes given and not yet written. */
  pending = 0;
  /** Set when the destination failed (a reader that went away): later lines are dropped. */
  broken: Error | undefined;

  constructor(readonly fd: number) {}

  write(line: string): void {
    if (this.broken) return;
    const bytes = Buffer.byteLength(line);
    this.lines.push(line);
    this.queued += bytes;
    this.pending += bytes;
    if (this.writing) return;
    if (this.queued >= CHUNK) this.flush();
    else this.flushSoon();
  }

  private flushSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.writing) this.flush();
    }, IDLE_FLUSH_MS);
    this.timer.unref();
  }

  /** Resolves once at most `limit` bytes are waiting (or the destination broke). */
  waitUntil(limit: number): Promise<void> | undefined {
    if (this.pending <= limit || this.broken) return undefined;
    if (!this.writing) this.flush();
    return new Promise((resolve) => this.waiters.push({ limit, resolve }));
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    const bytes = Buffer.byteLength(text);
    let data: Buffer;
    if (bytes <= SCRATCH) {
      this.scratch ??= Buffer.allocUnsafe(SCRATCH);
      data = this.scratch.subarray(0, this.scratch.write(text));
    } else {
      data = Buffer.from(text);
    }
    this.lines = [];
    this.queued = 0;
    this.writing = true;
    this.writeOut(data, 0);
  }

  private writeOut(data: Buffer, offset: number): void {
    fs.write(this.fd, data, offset, data.length - offset, null, (err, n) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeOut(data, offset), RETRY_MS);
          return;
        }
        this.broken = err;
        this.lines = [];
        this.writing = false;
        this.wake();
        return;
      }
      this.pending -= n;
      if (offset + n < data.length) {
        this.writeOut(data, offset + n);
        return;
      }
      this.writing = false;
      this.wake();
      if (this.lines.length === 0) return;
      if (this.queued >= CHUNK || this.waiters.length > 0) this.flush();
      else this.flushSoon();
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still = [];
    for (const w of this.waiters) {
      if (this.broken || this.pending <= w.limit) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
