import type { CategoryResult, FailureRecord } from './result.js';
import type { HoldFollower } from './hold-follow.js';
import type { ScannedFile, Shard } from './scan.js';
import type { SweepLog } from './sweep-log.js';

/** What a sweep of one folder is given (sweepCategory, delete.ts). */
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
