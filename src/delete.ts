import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type Category, nameClassifier } from './categories.js';
import { errnoCode, errorMessage } from './errors.js';
import type { HoldFollower } from './hold-follow.js';
import { decide, stillDeletable } from './plan.js';
import { type CategoryResult, type FailureRecord, emptyCategoryResult } from './result.js';
import { type ScannedFile, type Shard, freedBlocks, lookOf, scanFolder } from './scan.js';
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

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Scans one category folder and carries out the planner's verdicts, file by file: the dry run
 * takes the same path and stops short of the last look and the unlink. Right before an unlink the
 * file is looked at again (lstat); if it is no longer the same old regular file it is skipped.
 */
export async function sweepCategory(category: Category, dir: string, options: SweepOptions): Promise<CategoryResult> {
  const { cutoff, startMs, dryRun, log, onFailure } = options;
  const shouldStop = options.shouldStop ?? (() => false);
  const result = emptyCategoryResult(category.id, dir);
  const fail = (record: FailureRecord, msg: string): void => {
    result.failed++;
    log.warn({ path: record.path, code: record.code, err: record.message }, msg);
    onFailure(record);
  };

  // (a file's path is this and its name, as the scan makes it)
  const prefix = folderPrefix(dir);
  const pressure = options.pressure;
  const reason = pressure ? 'disk-pressure' : undefined;
  const deletedMsg = pressure ? 'cleanup: deleted (disk pressure)' : 'cleanup: deleted';
  const wouldMsg = pressure ? 'cleanup: would delete (disk pressure)' : 'cleanup: would delete (dry run)';
  /** What deleting the file frees: for disk pressure, its blocks; else its size. Nothing while other links remain. */
  const frees = (look: { size: number; blocks: number; nlink: number }): number => (pressure ? freedBlocks(look) : look.nlink > 1 ? 0 : look.size);
  // (a file chosen and changed since: kept, as the last look below keeps it)
  const changed = (file: ScannedFile, mtimeMs: number): void => {
    left(mtimeMs);
    result.skipped++;
    log.warn({ path: file.path, reason: 'changed' }, 'cleanup: skipped, file changed since the scan');
  };
  // (batches of unlinks in threads of the native scanner's own: not with the test seam below)
  const batch = dryRun || options.beforeRecheck !== undefined ? undefined : { cutoff, changed };
  const unlinks = new Unlinks<ScannedFile>(options.concurrency, (file, freed, err) => {
    if (!err) {
      result.deleted++;
      result.bytesFreed += freed;
      log.file(deletedMsg, prefix, file.name, file.size, file.mtimeMs, false, true, reason);
    } else if (err.code === 'ENOENT') {
      result.skipped++;
      log.info({ path: file.path, reason: 'gone' }, 'cleanup: skipped, already gone');
    } else {
      left(file.mtimeMs);
      fail({ path: file.path, code: err.code ?? 'EUNKNOWN', message: err.message }, 'cleanup: could not delete file');
    }
  }, batch);
  /** Waits until one more deletion may start; false: the log cannot be written, stop deleting. */
  const mayDelete = async (): Promise<boolean> => {
    while (log.room() - unlinks.inFlight <= 0) {
      if (unlinks.inFlight > 0) await unlinks.settled();
      else if ((await log.makeRoom()) === 'stop') return false;
    }
    return true;
  };

  const holds = options.holds;
  const folder = category.folder;
  /** A file that stays in the folder (young, held, skipped, failed; every file of a dry run). */
  const left = (mtimeMs: number): void => {
    if (result.oldestMtimeMs === null || mtimeMs < result.oldestMtimeMs) result.oldestMtimeMs = mtimeMs;
  };
  // the holds' check for this folder, looked up again when the holds change
  let guard = holds?.guard;
  let heldIn = guard?.inFolder(folder);
  /** True (and the file counted and logged) when a hold keeps it. */
  const isHeld = (follower: HoldFollower, file: ScannedFile): boolean => {
    if (follower.guard !== guard) {
      guard = follower.guard;
      heldIn = guard.inFolder(folder);
    }
    const hold = (heldIn as (name: string) => string | undefined)(file.name);
    if (hold === undefined) return false;
    left(file.mtimeMs);
    result.held++;
    result.bytesHeld += file.size;
    log.info({ path: file.path, hold }, 'cleanup: kept (on hold)');
    return true;
  };

  /**
   * Takes the new holds. No unlink under way is left once they are acknowledged; the files queued
   * in a batch and not started are taken back, and those the new holds keep are kept.
   */
  const adoptHolds = async (follower: HoldFollower): Promise<void> => {
    const queued = unlinks.takeQueued();
    await unlinks.drain();
    follower.adopt();
    for (const { file, freed } of queued) {
      if (isHeld(follower, file)) notToDelete(freed);
      else unlinks.unlink(file, freed);
    }
  };
  /** A file counted as to delete, taken back from the queue before its unlink started. */
  const notToDelete = (freed: number): void => {
    result.toDelete--;
    result.bytesToDelete -= freed;
    if (pressure) pressure.budget.left += freed;
  };

  /** Files queued and not started when the run stops: not deleted, so not counted as to delete. */
  const dropQueued = (): void => {
    for (const { file, freed } of unlinks.takeQueued()) {
      notToDelete(freed);
      left(file.mtimeMs);
    }
  };

  let sliceStart = performance.now();
  let seen = 0;
  // A dry run looks at a block of files at a time, in the folder opened (see scanNative); so does a
  // real run whose unlinks go in batches, which look at each file again, by the name its unlink
  // is given, right before it (unlink-batch.ts).
  const batchScan = dryRun || unlinks.checksAgain;
  const scan = scanFolder(dir, nameClassifier(category), { fromCwd: options.fromCwd, shard: options.shard, batch: batchScan });

  // What each file ends with: new holds taken (a long stretch without old files still takes them
  // soon: `hold add` waits for that), the lines written out when too many wait, progress told, and
  // the event loop's turn once a slice is over. Undefined, or what to await before the next file.
  let tailDue = false;
  const tail = (): Promise<void> | undefined => {
    if (holds !== undefined && !dryRun && (seen & 255) === 0 && holds.changed()) return adoptHolds(holds).then(afterHolds);
    return afterHolds();
  };
  const afterHolds = (): Promise<void> | undefined => {
    const lines = log.backpressure();
    return lines === undefined ? afterLines() : lines.then(afterLines);
  };
  const afterLines = (): Promise<void> | undefined => {
    if ((seen & 1023) === 0) options.onProgress?.(result);
    if (options.sliceMs === undefined || (seen & 15) !== 0 || performance.now() - sliceStart < options.sliceMs) return undefined;
    return yieldToEventLoop().then(() => {
      sliceStart = performance.now();
    });
  };

  /**
   * Goes through the scan's files, synchronously, up to the next one a real run is to delete
   * (returned, for the loop below), something to await (returned), the stop (STOPPED) or the
   * scan's end (undefined). Everything else a file can be (young, future, failed, held, a dry
   * run's old file) is counted and logged here. (One small function without awaits, called again
   * and again, rather than one loop in the async function: a dry run of 100,000 files, ~6% less
   * time: V8 compiles it sooner and smaller, and has no on-stack replacement to make.)
   */
  const step = (): ScannedFile | Promise<void> | typeof STOPPED | undefined => {
    for (;;) {
      if (tailDue) {
        tailDue = false;
        const wait = tail();
        if (wait !== undefined) return wait;
      }
      const next = scan.next();
      if (next.done === true) return undefined;
      if (shouldStop()) return STOPPED;
      const item = next.value;
      seen++;
      tailDue = true;
      if ('failure' in item) {
        fail(item.failure, item.failure.path === dir ? 'cleanup: could not read folder' : 'cleanup: could not read file');
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
      left(item.mtimeMs);
      if (verdict === 'future') result.future++;
      if (verdict !== 'delete' || (holds !== undefined && isHeld(holds, item))) continue;
      const bytes = frees(item);
      if (pressure) pressure.budget.left -= bytes;
      result.toDelete++;
      result.bytesToDelete += bytes;
      log.file(wouldMsg, prefix, item.name, item.size, item.mtimeMs, true, false, reason);
    }
  };

  let stopped = false;
  try {
    for (;;) {
      const got = step();
      if (got === undefined) break;
      if (got === STOPPED) {
        stopped = true;
        break;
      }
      if (got instanceof Promise) {
        await got;
        continue;
      }
      // an old file of a real run: deleted, unless it is held now or changed since its look
      const item = got;
      // (the common case, room to spare, costs no await)
      // `fresh`: nothing was awaited since the scan's own lstat of this file, by the name its
      // unlink is given, a few instructions ago in this same synchronous step: a second look
      // would see the same. Or the unlink goes in a batch, which looks again right before it.
      let fresh = options.beforeRecheck === undefined && (!batchScan || unlinks.checksAgain);
      if (log.room() - unlinks.inFlight <= 0) {
        fresh = false;
        if (!(await mayDelete())) {
          stopped = true;
          break;
        }
      }
      if (shouldStop()) {
        stopped = true;
        break;
      }
      if (holds !== undefined) {
        if (holds.changed()) {
          fresh = false;
          await adoptHolds(holds);
        }
        if (isHeld(holds, item)) continue;
      }
      result.toDelete++;
      result.bytesToDelete += frees(item);
      if (fresh) {
        const freed = frees(item);
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
        fail({ path: item.path, code: errnoCode(err), message: errorMessage(err) }, 'cleanup: could not check file');
        continue;
      }
      if (now === undefined) {
        result.skipped++;
        log.info({ path: item.path, reason: 'gone' }, 'cleanup: skipped, already gone');
      } else if (!stillDeletable(item, lookOf(now), cutoff)) {
        changed(item, lookOf(now).mtimeMs);
      } else {
        // Space comes back only when the last link goes: a file with other links frees nothing.
        const freed = frees(now);
        if (pressure) pressure.budget.left -= freed;
        unlinks.unlink(item, freed);
        while (unlinks.full()) await unlinks.settled();
      }
    }
  } catch (err) {
    // (nothing queued starts; what is under way is waited for and reported)
    scan.return();
    dropQueued();
    await unlinks.drain();
    throw err;
  }
  // (the folder is closed before anything is awaited, as leaving a for-of loop would)
  scan.return();
  // Told to stop: no new deletion starts (those queued in a batch are not); those under way finish.
  // (A log that cannot be written has had its queue run already: mayDelete waits for it.)
  if (stopped || shouldStop()) dropQueued();
  await unlinks.drain();
  return result;
}
