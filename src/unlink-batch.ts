/**
 * A real run's unlinks with the native scanner: a batch at a time, in threads of the scanner's own
 * (native/scan.c, the unlinker) while the sweep goes on with the next files. Each file is looked at
 * again right before its unlink, by the name the unlink is given, and deleted only if it is still
 * the file the sweep chose (stillDeletable, src/plan.ts: a regular file, the same device, inode and
 * change time, an mtime still before the cutoff); otherwise it is kept, as `changed`.
 */
import type { NativeScanner, NativeUnlinker } from './native-scan.js';
import { systemError } from './scan-failure.js';

/** Files in one batch at most. */
export const BATCH_FILES = 64;
/**
 * The unlinker's threads, whatever the cores (measured on 2): an unlink mostly waits, on the
 * folder's lock, which unlinks in one folder take in turn, or on the disk (with `discard`, on each
 * file's blocks); while one waits, the other goes on. This thread only waits for them. A real run
 * of 100,000 sparse files in this thread, 4 rounds on fresh copies: 0.69-0.91 s with two, 0.88-1.03
 * s with one (see native/scan.c).
 */
export const UNLINK_THREADS = 2;
const PATH_BYTES = 64 << 10;

/** What a file of a batch needs: the name its unlink is given, and what it was when chosen. */
export interface BatchFile {
  readonly at: string | Buffer;
  readonly dev: number;
  readonly ino: number;
  readonly ctimeMs: number;
}

/** How one file of a batch ended: deleted (err null), failed (err), or kept, changed since (mtimeMs now). */
export type BatchOutcome = { readonly err: NodeJS.ErrnoException | null } | { readonly changedMtimeMs: number };

interface Batch<T> {
  readonly files: T[];
  readonly freed: number[];
  readonly paths: Buffer;
  readonly ends: Int32Array;
  readonly expect: Float64Array;
  readonly results: Float64Array;
  count: number;
  bytes: number;
}

function newBatch<T>(): Batch<T> {
  return {
    files: [],
    freed: [],
    paths: Buffer.allocUnsafe(PATH_BYTES),
    ends: new Int32Array(BATCH_FILES),
    expect: new Float64Array(4 * BATCH_FILES),
    results: new Float64Array(2 * BATCH_FILES + 1),
    count: 0,
    bytes: 0,
  };
}

/**
 * Batches of unlinks: files are queued (`add`); a full batch starts once the one before it is done
 * and its files reported (`done`, in this thread, in order). `flush` starts what is queued and
 * waits for all of it, `end` also ends the threads; `drop` forgets what is queued and not started
 * (a run told to stop).
 */
export class UnlinkBatches<T extends BatchFile> {
  private readonly unlinker: NativeUnlinker;
  private filling: Batch<T> = newBatch();
  private running: Batch<T> | undefined;
  private spare: Batch<T> = newBatch();

  constructor(
    private readonly native: NativeScanner,
    private readonly cutoff: number,
    private readonly threads: number,
    /** Called for each file once its batch is done; `unlinkMs`: the batch's unlinks' time in all, with its last file. */
    private readonly done: (file: T, freed: number, outcome: BatchOutcome) => void,
    private readonly timed: (unlinkMs: number, unlinks: number) => void,
  ) {
    this.unlinker = native.unlinker();
  }

  /** Files queued or under way, not yet reported. */
  get pending(): number {
    return this.filling.count + (this.running?.count ?? 0);
  }

  /** Queues `file` (which frees `freed` bytes); a full batch is started (after the last one is reported). */
  add(file: T, freed: number): void {
    const bytes = typeof file.at === 'string' ? Buffer.byteLength(file.at) : file.at.length;
    if (this.filling.bytes + bytes + 1 > PATH_BYTES) this.cycle();
    const b = this.filling;
    if (typeof file.at === 'string') b.paths.write(file.at, b.bytes, 'utf8');
    else file.at.copy(b.paths, b.bytes);
    b.bytes += bytes;
    b.paths[b.bytes++] = 0;
    b.ends[b.count] = b.bytes;
    b.expect[4 * b.count] = file.dev;
    b.expect[4 * b.count + 1] = file.ino;
    b.expect[4 * b.count + 2] = file.ctimeMs;
    b.files[b.count] = file;
    b.freed[b.count] = freed;
    b.count++;
    if (b.count === BATCH_FILES) this.cycle();
  }

  /** Starts what is queued and waits until every file is done and reported. */
  flush(): void {
    this.cycle();
    this.finish();
  }

  /**
   * As flush, then ends the unlinker's threads (a later batch starts them anew): they wait from
   * batch to batch, and a host that runs the cleanup once a day must not keep them idle until then.
   */
  end(): void {
    try {
      this.flush();
    } finally {
      this.native.unlinkEnd(this.unlinker);
    }
  }

  /** Takes the files queued and not yet started out of the queue (they are not deleted). */
  drop(): { file: T; freed: number }[] {
    const b = this.filling;
    const dropped = b.files.slice(0, b.count).map((file, i) => ({ file, freed: b.freed[i] as number }));
    b.count = 0;
    b.bytes = 0;
    b.files.length = 0;
    return dropped;
  }

  /** Reports the batch under way (waiting for it), then starts the one queued. */
  private cycle(): void {
    this.finish();
    const b = this.filling;
    if (b.count === 0) return;
    const r = this.native.unlinkStart(this.unlinker, b.paths, b.ends, b.expect, b.count, this.cutoff, b.results, this.threads);
    if (r !== 0) throw systemError(r, 'unlinkStart'); // (one batch at a time: never busy here)
    this.running = b;
    this.filling = this.spare;
    this.spare = b; // (free again once it is reported, before the next cycle)
  }

  private finish(): void {
    const b = this.running;
    if (b === undefined) return;
    this.native.unlinkWait(this.unlinker);
    this.running = undefined;
    const count = b.count;
    const files = b.files.slice(0, count);
    // (counted out of `pending` before its files are reported: their lines come with `done`)
    b.count = 0;
    b.bytes = 0;
    b.files.length = 0;
    let unlinks = 0;
    // Every file of the batch is reported, even if reporting one throws: a file deleted and not
    // reported would have no line in the log. The first error is thrown once all are.
    let thrown: { err: unknown } | undefined;
    for (let i = 0; i < count; i++) {
      const code = b.results[2 * i] as number;
      const file = files[i] as T;
      const detail = b.results[2 * i + 1] as number;
      if (code !== 1 && detail === 2) unlinks++;
      const outcome: BatchOutcome =
        code === 1
          ? { changedMtimeMs: detail }
          : code === 0
            ? { err: null }
            : { err: systemError(code, detail === 1 ? 'lstat' : 'unlink', typeof file.at === 'string' ? file.at : file.at.toString()) };
      try {
        this.done(file, b.freed[i] as number, outcome);
      } catch (err) {
        thrown ??= { err };
      }
    }
    if (unlinks > 0) this.timed(b.results[2 * count] as number, unlinks);
    if (thrown !== undefined) throw thrown.err;
  }
}
