/**
 * A sweep in worker threads: what it is told (ParallelSweep), and what its workers report,
 * merged (SweepTotals).
 */
import type { CategoryId } from './categories.js';
import type { Control } from './control.js';
import type { HoldsBroadcast } from './hold-follow.js';
import { type CategoryResult, type FailureRecord, MAX_ERRORS, TALLY_KEYS, emptyCategoryResult } from './result.js';
import type { SweepLog } from './sweep-log.js';
import type { WorkerMessage } from './sweep-worker.js';
import type { WorkersLog } from './worker-pool.js';

export interface ParallelSweep {
  readonly baseDir: string;
  readonly categories: readonly CategoryId[];
  readonly dirs: Readonly<Record<CategoryId, string>>;
  readonly cutoff: number;
  readonly startMs: number;
  readonly dryRun: boolean;
  readonly workers: number;
  readonly concurrency?: number | undefined;
  /**
   * Change the process's working directory into each folder, so that system calls take bare
   * names (much cheaper). Only for a process of our own: never in a library host.
   */
  readonly chdir: boolean;
  /** Lines of this thread (a folder it could not enter). */
  readonly mainLog: SweepLog;
  /** Where the workers' lines go: our own log's writer, or a host's logger. */
  readonly log: WorkersLog;
  /** Shared with the workers: made by newControl(workers). */
  readonly control: Control;
  readonly onFailure: (record: FailureRecord) => void;
  readonly onProgress?: ((id: CategoryId, soFar: CategoryResult) => void) | undefined;
  /** The holds: each worker gets the rules and a channel for newer ones. */
  readonly holds?: HoldsBroadcast | undefined;
}

/** Adds `part` (a worker's share) into `into`. */
function merge(into: CategoryResult, part: CategoryResult): void {
  for (const key of TALLY_KEYS) into[key] += part[key];
  into.kinds.incident += part.kinds.incident;
  into.kinds.video += part.kinds.video;
  into.kinds.metadata += part.kinds.metadata;
  into.future += part.future;
  if (part.oldestMtimeMs !== null && (into.oldestMtimeMs === null || part.oldestMtimeMs < into.oldestMtimeMs)) into.oldestMtimeMs = part.oldestMtimeMs;
}

/**
 * Every share of a folder meets a failure to read the folder itself: it counts once, per code.
 * Returns the share's failures without those `seen` already, and how many were dropped.
 */
export function onceForFolder(dir: string, errors: readonly FailureRecord[], seen: Set<string>): { errors: FailureRecord[]; dropped: number } {
  let dropped = 0;
  const kept = errors.filter((record) => {
    if (record.path !== dir) return true;
    if (seen.has(record.code)) {
      dropped++;
      return false;
    }
    seen.add(record.code);
    return true;
  });
  return { errors: kept, dropped };
}

/**
 * What the workers of one sweep report, merged: counters per category; failures passed on, at
 * most MAX_ERRORS (a failure to read a folder itself, met by every share of it, once per code);
 * progress summed over the workers' shares.
 */
export class SweepTotals {
  readonly results: Partial<Record<CategoryId, CategoryResult>> = {};
  private kept = 0;
  private readonly seen = new Map<CategoryId, Set<string>>();
  /** progress[worker]: the counters so far of each category share that worker swept */
  private readonly progress = new Map<number, Map<CategoryId, CategoryResult>>();

  constructor(private readonly job: ParallelSweep) {
    for (const id of job.categories) this.results[id] = emptyCategoryResult(id, job.dirs[id]);
  }

  keep(record: FailureRecord): void {
    if (this.kept++ < MAX_ERRORS) this.job.onFailure(record);
  }

  /** A worker's share of the folder `id`, swept. */
  add(id: CategoryId, swept: { readonly result: CategoryResult; readonly errors: readonly FailureRecord[] }): void {
    let seen = this.seen.get(id);
    if (!seen) this.seen.set(id, (seen = new Set()));
    const { errors, dropped } = onceForFolder(this.job.dirs[id], swept.errors, seen);
    const into = this.results[id] as CategoryResult;
    merge(into, swept.result);
    into.failed -= dropped;
    for (const record of errors) this.keep(record);
  }

  progressed(worker: number, message: Extract<WorkerMessage, { type: 'progress' }>): void {
    let mine = this.progress.get(worker);
    if (!mine) this.progress.set(worker, (mine = new Map()));
    mine.set(message.id, message.result);
    if (!this.job.onProgress) return;
    const soFar = emptyCategoryResult(message.id, this.job.dirs[message.id]);
    for (const shares of this.progress.values()) {
      const part = shares.get(message.id);
      if (part) merge(soFar, part);
    }
    this.job.onProgress(message.id, soFar);
  }
}
