import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type Category, nameClassifier } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import { FolderTally } from './folder-tally.js';
import type { HoldFollower } from './hold-follow.js';
import { decide, stillDeletable } from './plan.js';
import type { CategoryResult } from './result.js';
import { type ScanFailure, type ScannedFile, lookOf, scanFolder } from './scan.js';
import type { SweepOptions } from './sweep-options.js';

/** step's answer when the run is told to stop. */
const STOPPED = Symbol('stopped');
/** step's answer when it only hands back, to be called again. */
const AGAIN = Symbol('again');
/** step's answer when the last file's tail has something to await (tailAwaited). */
const TAIL = Symbol('tail');

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const never = (): boolean => false;

/**
 * Scans one category folder and carries out the planner's verdicts, file by file: the dry run
 * takes the same path and stops short of the last look and the unlink. Right before an unlink the
 * file is looked at again (lstat); if it is no longer the same old regular file it is skipped.
 */
export async function sweepCategory(category: Category, dir: string, options: SweepOptions): Promise<CategoryResult> {
  // (async: what the sweep's setup throws is a rejection too)
  return new FolderSweep(category, dir, options).run();
}

/**
 * One folder's sweep: its files, in order, and what it awaits (what it does with each file:
 * FolderTally). A class, not closures made per folder: V8 compiles its methods once for every
 * folder of a run (a function made per folder and called per file had the sweep's compiled code
 * thrown away when the second folder began: compiled 5-8 times in a dry run of 100,000 files).
 */
class FolderSweep extends FolderTally {
  private readonly shouldStop: () => boolean;
  /**
   * A dry run looks at a block of files at a time, in the folder opened (see scanNative); so does
   * a real run whose unlinks go in batches, which look at each file again, by the name its unlink
   * is given, right before it (unlink-batch.ts).
   */
  private readonly batchScan: boolean;
  private readonly scan: Generator<ScannedFile | ScanFailure, void, undefined>;
  private sliceStart = performance.now();
  private seen = 0;
  /** The file before has its tail still to run (see tailWaits). */
  private tailDue = false;

  constructor(
    category: Category,
    private readonly dir: string,
    options: SweepOptions,
  ) {
    super(category, dir, options);
    this.shouldStop = options.shouldStop ?? never;
    this.batchScan = options.dryRun || this.unlinks.checksAgain;
    this.scan = scanFolder(dir, nameClassifier(category), { fromCwd: options.fromCwd, shard: options.shard, batch: this.batchScan });
  }

  async run(): Promise<CategoryResult> {
    const { options, unlinks, result } = this;
    const { holds, pressure, cutoff } = options;
    let stopped = false;
    /** What ends the sweep, if something throws: the first error (as leaving a for-of loop keeps it). */
    let error: { readonly cause: unknown } | undefined;
    try {
      for (;;) {
        const got = this.step();
        if (got === undefined) break;
        if (got === AGAIN) continue;
        if (got === STOPPED) {
          stopped = true;
          break;
        }
        if (got === TAIL) {
          await this.tailAwaited();
          continue;
        }
        // an old file of a real run: deleted, unless it is held now or changed since its look
        const item = got;
        // (the common case, room to spare, costs no await)
        // `fresh`: nothing was awaited since the scan's own lstat of this file, by the name its
        // unlink is given, a few instructions ago in this same synchronous step: a second look
        // would see the same. Or the unlink goes in a batch, which looks again right before it.
        let fresh = options.beforeRecheck === undefined && (!this.batchScan || unlinks.checksAgain);
        if (options.log.room() - unlinks.inFlight <= 0) {
          fresh = false;
          if (!(await this.mayDelete())) {
            stopped = true;
            break;
          }
        }
        if (this.shouldStop()) {
          stopped = true;
          break;
        }
        if (holds !== undefined) {
          if (holds.changed()) {
            fresh = false;
            await this.adoptHolds(holds);
          }
          if (this.isHeld(holds, item)) continue;
        }
        result.toDelete++;
        const bytes = this.frees(item);
        result.bytesToDelete += bytes;
        if (fresh) {
          if (pressure) pressure.budget.left -= bytes;
          unlinks.unlink(item, bytes);
          while (unlinks.full()) await unlinks.settled();
          continue;
        }
        options.beforeRecheck?.(item);
        let now: fs.Stats | undefined;
        try {
          now = fs.lstatSync(item.at, { throwIfNoEntry: false });
        } catch (err) {
          this.fail({ path: item.path, code: errnoCode(err), message: errorMessage(err) }, 'cleanup: could not check file');
          continue;
        }
        if (now === undefined) {
          result.skipped++;
          options.log.info({ path: item.path, reason: 'gone' }, 'cleanup: skipped, already gone');
        } else if (!stillDeletable(item, lookOf(now), cutoff)) {
          this.changed(item, lookOf(now).mtimeMs);
        } else {
          // Space comes back only when the last link goes: a file with other links frees nothing.
          const freed = this.frees(now);
          if (pressure) pressure.budget.left -= freed;
          unlinks.unlink(item, freed);
          while (unlinks.full()) await unlinks.settled();
        }
      }
    } catch (err) {
      error = { cause: err };
    }
    // (the folder closed before anything is awaited, as leaving a for-of loop would)
    try {
      this.scan.return();
    } catch (err) {
      error ??= { cause: err };
    }
    if (error !== undefined) {
      // (nothing queued starts; what is under way is waited for and reported)
      this.dropQueued();
      await unlinks.drain();
      throw error.cause;
    }
    // Told to stop: no new deletion starts (those queued in a batch are not); those under way finish.
    // (A log that cannot be written has had its queue run already: mayDelete waits for it.)
    if (stopped || this.shouldStop()) this.dropQueued();
    await unlinks.drain();
    return result;
  }

  /**
   * Goes through the scan's files, synchronously, up to the next one a real run is to delete
   * (returned, for run()), a tail with something to await (TAIL), the stop (STOPPED) or the
   * scan's end (undefined). Everything else a file can be (young, future, failed, held, a dry run's old
   * file) is counted and logged here. (One small function without awaits, called again and
   * again, rather than one loop in the async function: V8 compiles it sooner and smaller.)
   */
  private step(): ScannedFile | typeof TAIL | typeof STOPPED | typeof AGAIN | undefined {
    const { options, result } = this;
    const { cutoff, startMs, dryRun, pressure, holds } = options;
    for (;;) {
      if (this.tailDue) {
        this.tailDue = false;
        if (this.tailWaits()) return TAIL;
        // (back to run() now and then: V8 then compiles step as a function called again and again,
        // not as a loop it replaces on the stack, once after each deoptimization)
        if ((this.seen & 1023) === 0) return AGAIN;
      }
      const next = this.scan.next();
      if (next.done === true) return undefined;
      if (this.shouldStop()) return STOPPED;
      const item = next.value;
      this.seen++;
      this.tailDue = true;
      if ('failure' in item) {
        this.fail(item.failure, item.failure.path === this.dir ? 'cleanup: could not read folder' : 'cleanup: could not read file');
        continue;
      }
      result.found++;
      result.bytesFound += item.size;
      result.kinds[item.kind]++;
      let verdict = decide(item.mtimeMs, cutoff, startMs);
      if (pressure && verdict === 'delete' && (item.mtimeMs < pressure.notBefore || (item.mtimeMs >= pressure.boundaryMs && pressure.budget.left <= 0))) {
        verdict = 'keep';
      }
      if (verdict === 'delete' && !dryRun) return item;
      this.left(item.mtimeMs);
      if (verdict === 'future') result.future++;
      if (verdict !== 'delete' || (holds !== undefined && this.isHeld(holds, item))) continue;
      const bytes = this.frees(item);
      if (pressure) pressure.budget.left -= bytes;
      result.toDelete++;
      result.bytesToDelete += bytes;
      options.log.file(this.wouldMsg, this.prefix, item.name, item.size, item.mtimeMs, true, false, this.reason);
    }
  }

  /**
   * What each file ends with: new holds taken (a long stretch without old files still takes them
   * soon: `hold add` waits for that), the lines written out when too many wait, progress told, and
   * the event loop's turn once a slice is over. True when something of it is to be awaited (run()
   * then goes through it all in tailAwaited); else it is done (progress told).
   */
  private tailWaits(): boolean {
    if (this.newHolds() !== undefined || this.options.log.backlog() || this.sliceOver()) return true;
    if ((this.seen & 1023) === 0) this.options.onProgress?.(this.result);
    return false;
  }

  /** The tail of a file (see tailWaits), with what it awaits. */
  private async tailAwaited(): Promise<void> {
    const { log, onProgress } = this.options;
    const holds = this.newHolds();
    if (holds !== undefined) await this.adoptHolds(holds);
    if (log.backlog()) await log.drained();
    if ((this.seen & 1023) === 0) onProgress?.(this.result);
    if (this.sliceOver()) {
      await yieldToEventLoop();
      this.sliceStart = performance.now();
    }
  }

  /** A real run's holds, when new ones are to be taken now (every 256 files). */
  private newHolds(): HoldFollower | undefined {
    const { holds, dryRun } = this.options;
    return holds !== undefined && !dryRun && (this.seen & 255) === 0 && holds.changed() ? holds : undefined;
  }

  /** True once this slice of synchronous work is over (checked every 16 files). */
  private sliceOver(): boolean {
    const { sliceMs } = this.options;
    return sliceMs !== undefined && (this.seen & 15) === 0 && performance.now() - this.sliceStart >= sliceMs;
  }
}
