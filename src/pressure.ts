/**
 * Disk pressure (README, "Disk space"): after the age pass, on each file system holding a
 * selected folder whose free space is under the target, the oldest remaining files go, both
 * categories together, until the space is back. No list of every file sorted by age: a first
 * pass counts, per hour of modification time, what deleting each file would free (its blocks;
 * nothing while other links remain); the cut is the youngest hour that frees enough; a second
 * pass deletes what is older than the cut, and from the cut's own hour only while bytes are still
 * needed. Held files and files younger than `keepNewestDays` are never counted nor deleted.
 */
import path from 'node:path';
import { AgeHistogram, HOUR_MS } from './age-histogram.js';
import { type CategoryId, categoryById, nameClassifier } from './categories.js';
import { sweepCategory } from './delete.js';
import type { SweepOptions } from './sweep-options.js';
import type { HoldFollower } from './hold-follow.js';
import { fileSystemsOf, freeBytes } from './mounts.js';
import { MS_PER_DAY } from './plan.js';
import type { CategoryResult, FailureRecord } from './result.js';
import { freedBlocks, scanFolder } from './scan.js';
import { type SizeTarget, targetBytes } from './size.js';
import type { SweepLog } from './sweep-log.js';

export interface DiskPressureOptions {
  readonly target: SizeTarget;
  /** The target as given (`10%`, `20GB`), for reports. */
  readonly text: string;
  /** Never delete a file younger than this, in days (default 1). */
  readonly keepNewestDays: number;
}

/** One file system's figures (the JSON's `diskPressure.filesystems[]`). */
export interface FilesystemPressure {
  readonly mount: string;
  readonly sizeBytes: number;
  readonly freeBefore: number;
  /** Measured after a real run; in a dry run, the forecast. */
  readonly freeAfter: number;
  readonly targetBytes: number;
  readonly toDelete: number;
  readonly bytesToDelete: number;
  readonly deleted: number;
  readonly bytesFreed: number;
  readonly reached: boolean;
}

export interface DiskPressureReport {
  readonly target: string;
  readonly filesystems: FilesystemPressure[];
}

export interface PressureRun {
  readonly options: DiskPressureOptions;
  readonly baseDir: string;
  readonly categories: readonly CategoryId[];
  readonly dryRun: boolean;
  readonly startMs: number;
  /** The age pass's cutoff: older files were its business. */
  readonly ageCutoff: number;
  readonly log: SweepLog;
  readonly holds: HoldFollower;
  readonly shouldStop: () => boolean;
  readonly onFailure: (record: FailureRecord) => void;
  readonly sliceMs?: number | undefined;
}

/**
 * Runs the disk-pressure pass. Returns the report and, per category, the pass's own counts (to
 * add to the age pass's: deleted, bytesFreed, toDelete, bytesToDelete, failed, skipped, held).
 */
/** What the pass gives back: its report, and per category its own counts. */
export interface PressurePass {
  readonly report: DiskPressureReport;
  readonly results: Partial<Record<CategoryId, CategoryResult>>;
}

export async function relievePressure(run: PressureRun): Promise<PressurePass> {
  const dirs = run.categories.map((id) => path.join(run.baseDir, categoryById(id).folder));
  const idOf = new Map(run.categories.map((id, i) => [dirs[i] as string, id]));
  const keepFrom = run.startMs - run.options.keepNewestDays * MS_PER_DAY;
  const results: Partial<Record<CategoryId, CategoryResult>> = {};
  const filesystems: FilesystemPressure[] = [];
  for (const space of fileSystemsOf(dirs)) {
    const ids = space.dirs.map((d) => idOf.get(d) as CategoryId);
    const target = targetBytes(run.options.target, space.sizeBytes);
    let start = space.freeBytes;
    let toDelete = 0;
    let bytesToDelete = 0;
    let deleted = 0;
    let bytesFreed = 0;
    if (start < target && !run.shouldStop()) {
      // First pass: what each hour of files would free. A dry run deleted nothing: its forecast
      // also adds what the age pass would free, counted the same way (blocks, not sizes).
      const histogram = new AgeHistogram();
      for (const id of ids) {
        const category = categoryById(id);
        for (const item of scanFolder(path.join(run.baseDir, category.folder), nameClassifier(category), { batch: true })) {
          if ('failure' in item) continue; // the age pass reported it
          if (run.holds.guard.heldBy(category.folder, item.name) !== undefined) continue;
          if (item.mtimeMs < run.ageCutoff) {
            if (run.dryRun) start += freedBlocks(item);
          } else if (item.mtimeMs < keepFrom) {
            histogram.add(item.mtimeMs, freedBlocks(item));
          }
        }
      }
      const need = target - start;
      const cut = need > 0 ? histogram.cutFor(need) : { files: 0, cutMs: Number.NEGATIVE_INFINITY };
      if (cut.files > 0) {
        // Second pass: older than the cut; the cut's own hour only while bytes are still needed.
        const budget = { left: target - start };
        for (const id of ids) {
          const category = categoryById(id);
          const options: SweepOptions = {
            cutoff: Math.min(cut.cutMs, keepFrom),
            startMs: run.startMs,
            dryRun: run.dryRun,
            log: run.log,
            onFailure: run.onFailure,
            sliceMs: run.sliceMs,
            shouldStop: run.shouldStop,
            holds: run.holds,
            pressure: { notBefore: run.ageCutoff, boundaryMs: cut.cutMs - HOUR_MS, budget },
          };
          const result = await sweepCategory(category, path.join(run.baseDir, category.folder), options);
          results[id] = result;
          toDelete += result.toDelete;
          bytesToDelete += result.bytesToDelete;
          deleted += result.deleted;
          bytesFreed += result.bytesFreed;
        }
      }
    }
    const after = run.dryRun ? start + bytesToDelete : (freeBytes(space.dirs[0] as string) ?? space.freeBytes + bytesFreed);
    filesystems.push({
      mount: space.mount,
      sizeBytes: space.sizeBytes,
      freeBefore: space.freeBytes,
      freeAfter: after,
      targetBytes: target,
      toDelete,
      bytesToDelete,
      deleted,
      bytesFreed,
      reached: after >= target,
    });
  }
  return { report: { target: run.options.text, filesystems }, results };
}
