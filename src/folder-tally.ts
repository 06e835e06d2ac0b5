import type { Category } from './categories.js';
import type { Guard, HoldFollower } from './hold-follow.js';
import { type CategoryResult, type FailureRecord, emptyCategoryResult } from './result.js';
import { type ScannedFile, freedBlocks } from './scan.js';
import type { SweepOptions } from './sweep-options.js';
import { Unlinks } from './unlinks.js';
import { folderPrefix } from './working-dir.js';

/**
 * What one folder's sweep counts and logs of each file, and its unlinks: the files that stay, are
 * held, fail, or are deleted (their lines), and the holds taken while it runs. FolderSweep
 * (delete.ts) goes through the files; this is what it does with each.
 */
export class FolderTally {
  protected readonly result: CategoryResult;
  /** A file's path is this and its name, as the scan makes it. */
  protected readonly prefix: string;
  protected readonly reason: string | undefined;
  protected readonly wouldMsg: string;
  private readonly deletedMsg: string;
  protected readonly unlinks: Unlinks<ScannedFile>;
  private readonly folder: string;
  // the holds' check for this folder, looked up again when the holds change
  private guard: Guard | undefined;
  private heldIn: ((name: string) => string | undefined) | undefined;

  constructor(
    category: Category,
    dir: string,
    protected readonly options: SweepOptions,
  ) {
    const { dryRun, cutoff, pressure } = options;
    this.result = emptyCategoryResult(category.id, dir);
    this.prefix = folderPrefix(dir);
    this.reason = pressure ? 'disk-pressure' : undefined;
    this.deletedMsg = pressure ? 'cleanup: deleted (disk pressure)' : 'cleanup: deleted';
    this.wouldMsg = pressure ? 'cleanup: would delete (disk pressure)' : 'cleanup: would delete (dry run)';
    // (batches of unlinks in threads of the native scanner's own: not with the test seam)
    const batch = dryRun || options.beforeRecheck !== undefined ? undefined : { cutoff, changed: (file: ScannedFile, mtimeMs: number) => this.changed(file, mtimeMs) };
    this.unlinks = new Unlinks<ScannedFile>(options.concurrency, (file, freed, err) => this.unlinked(file, freed, err), batch);
    this.folder = category.folder;
    this.guard = options.holds?.guard;
    this.heldIn = this.guard?.inFolder(category.folder);
  }

  protected fail(record: FailureRecord, msg: string): void {
    this.result.failed++;
    this.options.log.warn({ path: record.path, code: record.code, err: record.message }, msg);
    this.options.onFailure(record);
  }

  /** What deleting the file frees: for disk pressure, its blocks; else its size. Nothing while other links remain. */
  protected frees(look: { size: number; blocks: number; nlink: number }): number {
    return this.options.pressure ? freedBlocks(look) : look.nlink > 1 ? 0 : look.size;
  }

  /** A file chosen and changed since: kept, as the last look keeps it. */
  protected changed(file: ScannedFile, mtimeMs: number): void {
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
  protected async mayDelete(): Promise<boolean> {
    const { log } = this.options;
    while (log.room() - this.unlinks.inFlight <= 0) {
      if (this.unlinks.inFlight > 0) await this.unlinks.settled();
      else if ((await log.makeRoom()) === 'stop') return false;
    }
    return true;
  }

  /** A file that stays in the folder (young, held, skipped, failed; every file of a dry run). */
  protected left(mtimeMs: number): void {
    const oldest = this.result.oldestMtimeMs;
    if (oldest === null || mtimeMs < oldest) this.result.oldestMtimeMs = mtimeMs;
  }

  /** True (and the file counted and logged) when a hold keeps it. */
  protected isHeld(follower: HoldFollower, file: ScannedFile): boolean {
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
  protected async adoptHolds(follower: HoldFollower): Promise<void> {
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
  protected dropQueued(): void {
    for (const { file, freed } of this.unlinks.takeQueued()) {
      this.notToDelete(freed);
      this.left(file.mtimeMs);
    }
  }
}
