import fs from 'node:fs';

/** Bytes per buffer: a buffer is written when full (or when the last write ends, or on a timer). */
const CHUNK = 256 << 10;
/** A lone line waits at most this long before it is written (the built-in cleanup's few lines). */
const IDLE_FLUSH_MS = 50;
/** When a pipe is full (EAGAIN), try again after this long, without holding the thread. */
const RETRY_MS = 10;

/**
 * An asynchronous destination for pino that costs O(1) per line and keeps no line as a string.
 * sonic-boom appends each line to one growing string and measures it on every write (3-12 µs a
 * line at the volumes a cleanup logs, a line per file; measured). Here each line is encoded at
 * once into a pooled buffer, so its string dies young instead of being promoted with every
 * other waiting line; full buffers are written in order with fs.write (the thread pool), never
 * with a sleep on a full pipe. `pending` counts the bytes not yet written, for backpressure.
 */
export class LineSink {
  private current: Buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private readonly queue: { buf: Buffer; len: number }[] = [];
  private readonly spare: Buffer[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: { limit: number; resolve: () => void }[] = [];
  /** Bytes given and not yet written. */
  pending = 0;
  /** Set when the destination failed (a reader that went away): later lines are dropped. */
  broken: Error | undefined;

  constructor(readonly fd: number) {}

  write(line: string): void {
    if (this.broken) return;
    // UTF-8 needs at most 3 bytes per UTF-16 unit: room for that means the line fits
    if (this.used + line.length * 3 > CHUNK) {
      this.seal();
      if (line.length * 3 > CHUNK) {
        const big = Buffer.from(line);
        this.queue.push({ buf: big, len: big.length });
        this.pending += big.length;
        this.kick();
        return;
      }
    }
    const n = this.current.write(line, this.used);
    this.used += n;
    this.pending += n;
    if (!this.writing) this.flushSoon();
  }

  /** Resolves once at most `limit` bytes are waiting (or the destination broke). */
  waitUntil(limit: number): Promise<void> | undefined {
    if (this.pending <= limit || this.broken) return undefined;
    if (!this.writing) this.seal();
    return new Promise((resolve) => this.waiters.push({ limit, resolve }));
  }

  /** Queues the current buffer (if it holds anything) and starts writing. */
  private seal(): void {
    if (this.used > 0) {
      this.queue.push({ buf: this.current, len: this.used });
      this.current = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
      this.used = 0;
    }
    this.kick();
  }

  private flushSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.writing) this.seal();
    }, IDLE_FLUSH_MS);
    this.timer.unref();
  }

  private kick(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.writing = true;
    this.writeOut(next.buf, 0, next.len);
  }

  private writeOut(buf: Buffer, offset: number, len: number): void {
    fs.write(this.fd, buf, offset, len - offset, null, (err, n) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeOut(buf, offset, len), RETRY_MS);
          return;
        }
        this.broken = err;
        this.queue.length = 0;
        this.used = 0;
        this.writing = false;
        this.wake();
        return;
      }
      this.pending -= n;
      if (offset + n < len) {
        this.writeOut(buf, offset + n, len);
        return;
      }
      if (buf.length === CHUNK && this.spare.length < 4) this.spare.push(buf);
      this.writing = false;
      this.wake();
      if (this.queue.length > 0 || this.waiters.length > 0) this.seal();
      else if (this.used > 0) this.flushSoon();
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
