import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type Category, nameClassifier } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import type { Guard, HoldFollower } from './hold-follow.js';
import { decide, stillDeletable } from './plan.js';
import { type CategoryResult, type FailureRecord, emptyCategoryResult } from './result.js';
import { type ScanFailure, type ScannedFile, type Shard, freedBlocks, lookOf, scanFolder } from './scan.js';
import type { SweepLog } from './sweep-log.js';
import { Unlinks } from './unlinks.js';
import { folderPrefix } from './working-dir.js';

export interface SweepOptions {
  /** Files with an mtime strictly before this (ms since the epoch) are deleted. */
  readonly cutoff: number;
  /** When the run started (ms); later mtimes are "future". */
  readonly startMs: number;
  readonly dryRun: boolean;
  /** Where the lines go, and how many deletions may wait for theirs (see SweepLog). */
  readonly log: SweepLog;
  /** Only this share of the names (workers sweep one folder together; see scanFolder). */
  readonly shard?: Shard;
  /** The working directory is the folder: use bare names (see scanFolder). */
  readonly fromCwd?: boolean;
  /** Called for every failure, in order. */
  readonly onFailure: (failure: FailureRecord) => void;
  /**
   * Unlinks in flight at once; 0: one at a time, synchronously. Default: adaptive (synchronous
   * until unlinks are seen to wait on the disk, then 64 in flight).
   */
  readonly concurrency?: number;
  /**
   * Longest stretch of synchronous work before yielding to the event loop, in ms. Unset: never
   * yield for its own sake (the CLI). The built-in cleanup sets it so its host stays responsive.
   */
  readonly sliceMs?: number;
  /** Called now and then with the category's counters so far. */
  readonly onProgress?: (result: CategoryResult) => void;
  /**
   * True once the run must stop (a signal, the host's stop(), a log that cannot be written):
   * checked before every file, so no new deletion starts after it; unlinks in flight finish.
   */
  readonly shouldStop?: () => boolean;
  /**
   * The disk-pressure pass (pressure.ts): files older than `notBefore` are the age pass's and are
   * left alone; files from `boundaryMs` on (the cut's last hour) only while `budget.left` bytes
   * are still needed; sizes count the space a deletion frees (allocated blocks, nothing for a
   * file with other links), and lines say `(disk pressure)` with `reason: "disk-pressure"`.
   */
  readonly pressure?: { readonly notBefore: number; readonly boundaryMs: number; readonly budget: { left: number } } | undefined;
  /**
   * The holds and excludes: an old file they match is kept (`held`), logged once. In a real run
   * they may change while it sweeps (see hold-follow.ts): before each deletion the sweep checks,
   * and on a change lets its unlinks in flight finish before it takes the new rules.
   */
  readonly holds?: HoldFollower | undefined;
  /**
   * Called after a file was planned for deletion and before its last look: the seam where a test
   * changes the file, as another process could at that moment.
   */
  readonly beforeRecheck?: (file: ScannedFile) => void;
}

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
 * One folder's sweep. A class, not closures made per folder: V8 compiles its methods once for
 * every folder of a run (a function made per folder and called per file had the sweep's compiled
 * code thrown away when the second folder began: compiled 5-8 times in a dry run of 100,000 files).
 */
class FolderSweep {
  private readonly result: CategoryResult;
  private readonly folder: string;
  /** A file's path is this and its name, as the scan makes it. */
  private readonly prefix: string;
  private readonly reason: string | undefined;
  private readonly deletedMsg: string;
  private readonly wouldMsg: string;
  private readonly shouldStop: () => boolean;
  private readonly unlinks: Unlinks<ScannedFile>;
  /**
   * A dry run looks at a block of files at a time, in the folder opened (see scanNative); so does
   * a real run whose unlinks go in batches, which look at each file again, by the name its unlink
   * is given, right before it (unlink-batch.ts).
   */
  private readonly batchScan: boolean;
  private readonly scan: Generator<ScannedFile | ScanFailure, void, undefined>;
  // the holds' check for this folder, looked up again when the holds change
  private guard: Guard | undefined;
  private heldIn: ((name: string) => string | undefined) | undefined;
  private sliceStart = performance.now();
  private seen = 0;
  /** The file before has its tail still to run (see tailWaits). */
  private tailDue = false;

  constructor(
    category: Category,
    private readonly dir: string,
    private readonly options: SweepOptions,
  ) {
    const { dryRun, cutoff, pressure } = options;
    this.result = emptyCategoryResult(category.id, dir);
    this.prefix = folderPrefix(dir);
    this.reason = pressure ? 'disk-pressure' : undefined;
    this.deletedMsg = pressure ? 'cleanup: deleted (disk pressure)' : 'cleanup: deleted';
    this.wouldMsg = pressure ? 'cleanup: would delete (disk pressure)' : 'cleanup: would delete (dry run)';
    this.shouldStop = options.shouldStop ?? never;
    // (batches of unlinks in threads of the native scanner's own: not with the test seam)
    const batch = dryRun || options.beforeRecheck !== undefined ? undefined : { cutoff, changed: (file: ScannedFile, mtimeMs: number) => this.changed(file, mtimeMs) };
    this.unlinks = new Unlinks<ScannedFile>(options.concurrency, (file, freed, err) => this.unlinked(file, freed, err), batch);
    this.guard = options.holds?.guard;
    this.heldIn = this.guard?.inFolder(category.folder);
    this.folder = category.folder;
    this.batchScan = dryRun || this.unlinks.checksAgain;
    this.scan = scanFolder(dir, nameClassifier(category), { fromCwd: options.fromCwd, shard: options.shard, batch: this.batchScan });
  }

  async run(): Promise<CategoryResult> {
    const { options, unlinks, result } = this;
    const { holds, pressure, cutoff } = options;
    let stopped = false;
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
        result.bytesToDelete += this.frees(item);
        if (fresh) {
          const freed = this.frees(item);
          if (pressure) pressure.budget.left -= freed;
          unlinks.unlink(item, freed);
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
      // (nothing queued starts; what is under way is waited for and reported; the folder is
      // closed first, and the first error is the one thrown, as leaving a for-of loop would)
      try {
        this.scan.return();
      } catch {
        // the error above is the one reported
      }
      this.dropQueued();
      await unlinks.drain();
      throw err;
    }
    // (the folder closed before anything is awaited, as leaving a for-of loop would)
    try {
      this.scan.return();
    } catch (err) {
      this.dropQueued();
      await unlinks.drain();
      throw err;
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

  private fail(record: FailureRecord, msg: string): void {
    this.result.failed++;
    this.options.log.warn({ path: record.path, code: record.code, err: record.message }, msg);
    this.options.onFailure(record);
  }

  /** What deleting the file frees: for disk pressure, its blocks; else its size. Nothing while other links remain. */
  private frees(look: { size: number; blocks: number; nlink: number }): number {
    return this.options.pressure ? freedBlocks(look) : look.nlink > 1 ? 0 : look.size;
  }

  /** A file chosen and changed since: kept, as the last look keeps it. */
  private changed(file: ScannedFile, mtimeMs: number): void {
    this.left(mtimeMs);
    this.result.skipped++;
    this.options.log.warn({ path: file.path, reason: 'changed' }, 'cleanup: skipped, file changed since the scan');
  }

  /** An unlink's outcome. */
  private unlinked(file: ScannedFile, freed: number, err: NodeJS.ErrnoException | null): void {
    const { result, options } = this;
    if (!err) {
      result.deleted++;
      result.bytesFreed += freed;
      options.log.file(this.deletedMsg, this.prefix, file.name, file.size, file.mtimeMs, false, true, this.reason);
    } else if (err.code === 'ENOENT') {
      result.skipped++;
      options.log.info({ path: file.path, reason: 'gone' }, 'cleanup: skipped, already gone');
    } else {
      this.left(file.mtimeMs);
      this.fail({ path: file.path, code: err.code ?? 'EUNKNOWN', message: err.message }, 'cleanup: could not delete file');
    }
  }

  /** Waits until one more deletion may start; false: the log cannot be written, stop deleting. */
  private async mayDelete(): Promise<boolean> {
    const { log } = this.options;
    while (log.room() - this.unlinks.inFlight <= 0) {
      if (this.unlinks.inFlight > 0) await this.unlinks.settled();
      else if ((await log.makeRoom()) === 'stop') return false;
    }
    return true;
  }

  /** A file that stays in the folder (young, held, skipped, failed; every file of a dry run). */
  private left(mtimeMs: number): void {
    const oldest = this.result.oldestMtimeMs;
    if (oldest === null || mtimeMs < oldest) this.result.oldestMtimeMs = mtimeMs;
  }

  /** True (and the file counted and logged) when a hold keeps it. */
  private isHeld(follower: HoldFollower, file: ScannedFile): boolean {
    if (follower.guard !== this.guard) {
      this.guard = follower.guard;
      this.heldIn = this.guard.inFolder(this.folder);
    }
    const hold = (this.heldIn as (name: string) => string | undefined)(file.name);
    if (hold === undefined) return false;
    this.left(file.mtimeMs);
    this.result.held++;
    this.result.bytesHeld += file.size;
    this.options.log.info({ path: file.path, hold }, 'cleanup: kept (on hold)');
    return true;
  }

  /**
   * Takes the new holds. No unlink under way is left once they are acknowledged; the files queued
   * in a batch and not started are taken back, and those the new holds keep are kept.
   */
  private async adoptHolds(follower: HoldFollower): Promise<void> {
    const queued = this.unlinks.takeQueued();
    await this.unlinks.drain();
    follower.adopt();
    for (const { file, freed } of queued) {
      if (this.isHeld(follower, file)) this.notToDelete(freed);
      else this.unlinks.unlink(file, freed);
    }
  }

  /** A file counted as to delete, taken back from the queue before its unlink started. */
  private notToDelete(freed: number): void {
    this.result.toDelete--;
    this.result.bytesToDelete -= freed;
    const pressure = this.options.pressure;
    if (pressure) pressure.budget.left += freed;
  }

  /** Files queued and not started when the run stops: not deleted, so not counted as to delete. */
  private dropQueued(): void {
    for (const { file, freed } of this.unlinks.takeQueued()) {
      this.notToDelete(freed);
      this.left(file.mtimeMs);
    }
  }
}
