import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { type BatchFile, type BatchOutcome, UNLINK_THREADS, UnlinkBatches } from './unlink-batch.js';
import { nativeScanner } from './native-scan.js';

/**
 * Unlinks timed together; when the mean is above SLOW_UNLINK_MS in SLOW_WINDOWS windows in a
 * row, unlinks wait on the disk: then IN_FLIGHT_WHEN_SLOW in flight. Measured here: 0.03-0.05 ms
 * a sparse or small-file unlink, with lone windows up to 0.14 ms in a folder of 667k files (a
 * journal commit); 0.16-0.41 ms in every window with data blocks to free (discard). Switching
 * on a lone slow window made a 1M sparse run 60% slower (thread-pool unlinks contend).
 */
const UNLINK_SAMPLE = 256;
const SLOW_UNLINK_MS = 0.12;
const SLOW_WINDOWS = 3;
const IN_FLIGHT_WHEN_SLOW = 64;

/**
 * The unlinks of one sweep. Adaptive unless told (`concurrency`): synchronous while unlinks are
 * CPU work (sparse or small files: a thread-pool round trip, and 64 unlinks queued on one
 * folder's lock, cost more than the unlink); once they wait on the disk (freeing data blocks,
 * online discard), many in flight, so that the waits overlap. Measured on 100k files: sparse,
 * sync 1.98 s vs 64 in flight 2.44 s; real data, sync 7.07 s vs 64 in flight 4.21 s (find
 * -delete: 1.19 / 8.76 s). `done` is called for each, in this thread, once it is over.
 */
export class Unlinks<T extends BatchFile> {
  /** Unlinks started and not yet done (and, with batches, queued). */
  get inFlight(): number {
    return this.started + (this.batches?.pending ?? 0);
  }
  private started = 0;
  private concurrency: number;
  private readonly adaptive: boolean;
  private slowWindows = 0;
  private sampled = 0;
  private sampledMs = 0;
  private wake: (() => void) | undefined;
  /**
   * With the native scanner, adaptive, in the main thread: unlinks a batch at a time in threads of
   * the scanner's own while the sweep goes on (unlink-batch.ts), instead of one at a time. A real run
   * of 100,000 files (half of them old) in one thread: 1.43 s that way, 0.98-1.17 s in batches.
   */
  private readonly batches: UnlinkBatches<T> | undefined;

  constructor(
    concurrency: number | undefined,
    private readonly done: (file: T, freed: number, err: NodeJS.ErrnoException | null) => void,
    /** With batches: the cutoff they check again, and where a file changed since it was chosen is told. */
    batch?: { readonly cutoff: number; readonly changed: (file: T, mtimeMs: number) => void },
  ) {
    this.concurrency = concurrency ?? 0;
    this.adaptive = concurrency === undefined;
    // (not in a worker: two workers already unlink side by side, and batches there gained nothing
    // measurable: a real run of 1,000,000 files, fresh trees, 6.46 and 6.48 s with them, 5.94
    // and 7.43 s without)
    const native = batch && this.adaptive && isMainThread ? nativeScanner() : undefined;
    if (native !== undefined && batch !== undefined) {
      this.batches = new UnlinkBatches<T>(
        native,
        batch.cutoff,
        UNLINK_THREADS,
        (file, freed, outcome: BatchOutcome) => ('err' in outcome ? this.done(file, freed, outcome.err) : batch.changed(file, outcome.changedMtimeMs)),
        (ms, unlinks) => this.sample(ms, unlinks),
      );
    }
  }

  /** Unlinks go in batches now, which look at each file again right before its unlink. */
  get checksAgain(): boolean {
    return this.batches !== undefined && this.concurrency === 0;
  }

  /** Unlinks `file` (which frees `freed` bytes): at once, queued in a batch, or started in the thread pool. */
  unlink(file: T, freed: number): void {
    if (this.concurrency === 0 && this.batches !== undefined) {
      this.batches.add(file, freed);
      return;
    }
    // (unlinks wait on the disk: what is queued in a batch goes first)
    this.batches?.flush();
    if (this.concurrency === 0) {
      let error: NodeJS.ErrnoException | null = null;
      const t0 = this.adaptive ? performance.now() : 0;
      try {
        fs.unlinkSync(file.at);
      } catch (err) {
        error = err as NodeJS.ErrnoException;
      }
      if (this.adaptive) this.sample(performance.now() - t0);
      this.done(file, freed, error);
      return;
    }
    this.started++;
    fs.unlink(file.at, (err) => {
      this.done(file, freed, err);
      this.started--;
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    });
  }

  /**
   * Takes back the unlinks queued in a batch and not started: new holds are to be applied to them,
   * or the run stops (no new deletion starts; those under way finish).
   */
  takeQueued(): { file: T; freed: number }[] {
    return this.batches?.drop() ?? [];
  }

  /** True while no further unlink may start (as many in flight as allowed): await `settled()`. */
  full(): boolean {
    return this.concurrency > 0 && this.inFlight >= this.concurrency;
  }

  /** Resolves once one more unlink in flight is done (with batches: all of them, at once). */
  settled(): Promise<void> {
    if (this.batches !== undefined && this.batches.pending > 0) {
      this.batches.flush();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /**
   * Resolves once every unlink in flight (and queued) is done; the batches' threads are ended too
   * (a later unlink starts them anew: new holds adopted mid-sweep drain, then go on).
   */
  async drain(): Promise<void> {
    this.batches?.end();
    while (this.started > 0) await this.settled();
  }

  private sample(ms: number, unlinks = 1): void {
    this.sampledMs += ms;
    this.sampled += unlinks;
    if (this.sampled < UNLINK_SAMPLE) return;
    this.slowWindows = this.sampledMs / this.sampled > SLOW_UNLINK_MS ? this.slowWindows + 1 : 0;
    if (this.slowWindows === SLOW_WINDOWS) this.concurrency = IN_FLIGHT_WHEN_SLOW;
    this.sampled = 0;
    this.sampledMs = 0;
  }
}
