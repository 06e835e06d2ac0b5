import fs from 'node:fs';
import { type LineFormat, mtimeText } from './log-line.js';

/** Bytes written with one system call at most (several queued chunks go out together). */
const WRITE_MAX = 256 << 10;
/** This thread's lines are encoded into buffers of this size as they come (see `stage`). */
const STAGE_BYTES = WRITE_MAX;
/** Room a file's line is staged in when it can be (a longer one goes as a string). */
const LINE_ROOM = 4096;
/** When a pipe is full (EAGAIN), try again after this long, without holding the thread. */
const RETRY_MS = 10;

interface Chunk {
  data: string | Buffer;
  /** Deleted files whose lines this chunk holds. */
  readonly deletions: number;
  /** Who gave it (a worker's index), to acknowledge; -1: this thread. */
  readonly source: number;
}

/**
 * The one writer of a log destination: every line of a run, the main thread's and the workers',
 * goes through it, in order, so lines are whole on every destination (writes from several
 * threads to a pipe interleave above PIPE_BUF). A line of a deleted file must reach the
 * operating system before the sweep goes much further (the audit trail survives SIGKILL), so
 * lines are written at once: with writeSync in a process of our own (`sync`), or with fs.write
 * in a host's process (`async`: a blocking pipe that is full must not hold the host's event
 * loop). It never sleeps: a full pipe (EAGAIN) is tried again on a timer; any other failure
 * (ENOSPC, EIO, EPIPE…) keeps the lines queued and is recorded in `failure`, for the sweep to
 * decide (it pauses, tries again with `retry()`, and stops if that fails too).
 */
export class LogWriter {
  private queue: Chunk[] = [];
  /**
   * This thread's lines since the last queued chunk, encoded as they came, at [stagedFrom,
   * stagedAt) of `staged`: one small encode per line, and no string kept alive until the write
   * (a dry run of 100,000 files spent ~100 ms joining and encoding its lines, and its collector
   * as much again on the strings waiting).
   */
  private staged: Buffer | undefined;
  private stagedFrom = 0;
  private stagedAt = 0;
  private stagedDeletions = 0;
  private scheduled = false;
  /** The write under way (`async`): resolves when it has ended, well or not. */
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  /** Bytes (about: UTF-16 units for text) queued, not yet written. */
  queuedBytes = 0;
  /** Deleted files whose lines are queued, not yet written. */
  unwritten = 0;
  /** The last write's failure (other than EAGAIN); cleared by the next write that succeeds. */
  failure: NodeJS.ErrnoException | undefined;
  /** Called when a chunk given by `source` is written, with its deletions. */
  onWritten: ((source: number, deletions: number) => void) | undefined;
  /**
   * The first queued chunk was written in part (a pipe or a disk with less room than the data):
   * its bytes already written, and the whole chunk, so that a failure can take the partial line
   * back out of a regular file (a log ends with whole lines, even on a full disk).
   */
  private partial: { written: number; whole: Buffer } | undefined;

  /**
   * @param fd the destination, open for writing (appending, for a file)
   * @param name how messages name it: the file's path, or "standard error"
   */
  constructor(
    readonly fd: number,
    readonly name: string,
    readonly mode: 'sync' | 'async' = 'sync',
    /** Turns whole lines into what is written (the readable form on a terminal). */
    private readonly transform?: (lines: string) => string,
  ) {}

  /** Queues `data` (whole lines); written at once when `now`, else before the event loop's next turn. */
  write(data: string | Buffer, deletions = 0, source = -1, now = false): void {
    if (data.length === 0 && deletions === 0) return;
    if (this.transform) data = this.transform(typeof data === 'string' ? data : data.toString());
    if (source < 0 && typeof data === 'string' && this.stage(data, deletions)) {
      // staged
    } else {
      this.seal();
      this.queue.push({ data, deletions, source });
      this.queuedBytes += data.length;
      this.unwritten += deletions;
    }
    if (now) this.flush();
    else this.schedule();
  }

  /**
   * Queues the line of one file of this thread's sweep, `name` in `folder` (LineFormat.fileLine),
   * made right into the staged buffer when it can be (fileLineInto), else as a string.
   */
  writeFileLine(format: LineFormat, msg: string, folder: string, name: string, size: number, mtimeMs: number, dryRun: boolean, reason: string | undefined, deletions: number): void {
    if (this.transform === undefined) {
      const staged = this.staged === undefined || this.stagedAt + LINE_ROOM > this.staged.length ? this.restage() : this.staged;
      const end = format.fileLineInto(staged, this.stagedAt, msg, folder, name, size, mtimeMs, dryRun, reason);
      if (end >= 0) {
        this.staging(end - this.stagedAt, deletions);
        this.schedule();
        return;
      }
    }
    this.write(format.fileLine(msg, folder + name, size, mtimeText(mtimeMs), dryRun, reason), deletions);
  }

  /** Writes what is queued before the event loop's next turn. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /**
   * Writes what is queued. True when nothing is left; false when a write is under way
   * (`async`), the destination is full (a timer tries again), or failed (`failure` says why;
   * the lines stay queued).
   */
  flush(): boolean {
    this.seal();
    if (this.mode === 'async') {
      this.writeNext();
      return this.queue.length === 0;
    }
    while (this.queue.length > 0) {
      const { parts, data } = this.next();
      let written: number;
      try {
        // (two calls: writeSync's overloads take a string or a Buffer, not the union)
        written = typeof data === 'string' ? fs.writeSync(this.fd, data) : fs.writeSync(this.fd, data);
      } catch (err) {
        this.failed(err as NodeJS.ErrnoException);
        return false;
      }
      this.failure = undefined;
      this.consume(parts, written, data);
    }
    this.wake();
    return true;
  }

  /**
   * Tries to write everything once more: resolves true once written, false if a write failed.
   * A write already under way (`async`) is waited for first: it was started before the caller
   * made room (deleted files), so its failure says nothing of now, and the lines it held are
   * tried again with the rest.
   */
  async retry(): Promise<boolean> {
    if (this.mode === 'async') {
      if (this.inFlight !== undefined) await this.inFlight;
      this.failure = undefined;
    }
    if (this.flush()) return true;
    if (this.failure) return false;
    await this.drained();
    return this.failure === undefined;
  }

  /** Resolves once the queue is empty, or a write failed (see `failure`). */
  drained(): Promise<void> {
    if (this.idle() || this.flush() || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops the retry timer (the run is over); what is queued stays queued. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The queued chunks that go out together next, and their data. */
  private next(): { parts: Chunk[]; data: string | Buffer } {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && (count === 0 || bytes + (this.queue[count] as Chunk).data.length <= WRITE_MAX)) {
      bytes += (this.queue[count] as Chunk).data.length;
      count++;
    }
    const parts = this.queue.slice(0, count);
    return { parts, data: count === 1 ? (parts[0] as Chunk).data : joinData(parts.map((p) => p.data)) };
  }

  private writeNext(): void {
    if (this.inFlight !== undefined || this.timer !== undefined) return;
    this.seal();
    if (this.queue.length === 0) return;
    const { parts, data } = this.next();
    let ended = (): void => {};
    this.inFlight = new Promise((resolve) => (ended = resolve));
    const done = (err: NodeJS.ErrnoException | null, written: number): void => {
      this.inFlight = undefined;
      ended();
      if (err) return this.failed(err);
      this.failure = undefined;
      this.consume(parts, written, data);
      if (!this.idle()) this.writeNext();
      this.wake();
    };
    if (typeof data === 'string') fs.write(this.fd, data, null, 'utf8', done);
    else fs.write(this.fd, data, 0, data.length, null, done);
  }

  /** Encodes a line of this thread into `staged`; false if it is too long for it (queued as it is). */
  private stage(text: string, deletions: number): boolean {
    const most = text.length * 3; // UTF-8 bytes at most
    if (most > STAGE_BYTES) return false;
    const staged = this.staged === undefined || this.stagedAt + most > this.staged.length ? this.restage() : this.staged;
    this.staging(staged.write(text, this.stagedAt, 'utf8'), deletions);
    return true;
  }

  /** Counts a line of `bytes`, just staged at stagedAt, with the deletions it tells of. */
  private staging(bytes: number, deletions: number): void {
    this.stagedAt += bytes;
    this.stagedDeletions += deletions;
    this.queuedBytes += bytes;
    this.unwritten += deletions;
  }

  /** Queues what is staged, and stages further lines in a new buffer (returned). */
  private restage(): Buffer {
    this.seal();
    const staged = Buffer.allocUnsafe(STAGE_BYTES);
    this.staged = staged;
    this.stagedFrom = 0;
    this.stagedAt = 0;
    return staged;
  }

  /** Queues the staged lines as a chunk (counted already), after the chunks queued before them. */
  private seal(): void {
    if (this.staged === undefined || (this.stagedAt === this.stagedFrom && this.stagedDeletions === 0)) return;
    this.queue.push({ data: this.staged.subarray(this.stagedFrom, this.stagedAt), deletions: this.stagedDeletions, source: -1 });
    this.stagedFrom = this.stagedAt;
    this.stagedDeletions = 0;
  }

  /** Nothing queued or staged. */
  private idle(): boolean {
    return this.queue.length === 0 && this.stagedAt === this.stagedFrom && this.stagedDeletions === 0;
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (err.code === 'EAGAIN') {
      this.retryLater();
      return;
    }
    this.failure = err;
    this.takeBackPartial();
    this.wake();
  }

  /** Drops the first `written` bytes of `data` (made of `parts`) from the queue. */
  private consume(parts: Chunk[], written: number, data: string | Buffer): void {
    const total = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (written === total) {
      this.partial = undefined;
      this.queue.splice(0, parts.length);
      for (const part of parts) this.done(part);
      return;
    }
    // A partial write (a pipe or a disk with less room than the data): keep the rest, byte-exact.
    let left = written;
    let full = 0;
    for (const part of parts) {
      const bytes = typeof part.data === 'string' ? Buffer.from(part.data) : part.data;
      if (left >= bytes.length) {
        left -= bytes.length;
        full++;
        this.partial = undefined;
        this.done(part);
        continue;
      }
      if (left > 0) {
        this.queuedBytes += bytes.length - left - part.data.length;
        // A second partial write of the same line adds to the first.
        if (this.partial !== undefined) this.partial.written += left;
        else this.partial = { written: left, whole: bytes };
        part.data = bytes.subarray(left);
      }
      break;
    }
    this.queue.splice(0, full);
  }

  /**
   * After a failed write, cuts the written part of a partly written line off a regular file and
   * queues the whole line again; on a pipe or a terminal the part is out and cannot be taken back.
   */
  private takeBackPartial(): void {
    const partial = this.partial;
    const first = this.queue[0];
    if (partial === undefined || first === undefined) return;
    // Whole lines of a batch that went out stay; only the broken line is cut.
    const keep = partial.whole.lastIndexOf(0x0a, partial.written - 1) + 1;
    const cut = partial.written - keep;
    try {
      const stats = fs.fstatSync(this.fd);
      if (!stats.isFile()) return;
      fs.ftruncateSync(this.fd, stats.size - cut);
    } catch {
      return;
    }
    this.queuedBytes += cut;
    first.data = partial.whole.subarray(keep);
    this.partial = undefined;
  }

  private done(part: Chunk): void {
    this.queuedBytes -= part.data.length;
    this.unwritten -= part.deletions;
    if (part.deletions > 0 || part.source >= 0) this.onWritten?.(part.source, part.deletions);
  }

  private retryLater(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, RETRY_MS);
  }

  private wake(): void {
    if (!this.idle() && !this.failure) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function joinData(parts: (string | Buffer)[]): string | Buffer {
  if (parts.every((p) => typeof p === 'string')) return (parts as string[]).join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
