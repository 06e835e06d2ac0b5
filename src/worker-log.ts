/**
 * The sweep's log in a worker thread: lines (or a host's records) go to the main thread, the one
 * writer of the log, in batches; the shared Control says how many of this worker's deletions have
 * their lines written, and whether to stop.
 */
import type { MessagePort } from 'node:worker_threads';
import { type Control, batchesSlot, deletionsSlot, stopAsked } from './control.js';
import { LineFormat, type SweepLevel, mtimeText } from './log-line.js';
import { type SweepLog, fileFields } from './sweep-log.js';
import type { LogRecord, WorkerMessage, WorkerTask } from './sweep-worker.js';

/** A batch goes to the main thread at this many characters of lines or records... */
const BATCH_CHARS = 64 << 10;
const BATCH_RECORDS = 256;
/** ...and batches the main thread has not taken care of, before the sweep waits. */
const MAX_UNACKED = 8;
const WAIT_MS = 100;

/** The sweep's log in a worker: batches to the main thread, bounded by what it has written. */
export class WorkerLog implements SweepLog {
  private lines = '';
  private records: LogRecord[] = [];
  private deletions = 0;
  /** Deletions logged (batched or posted), in all. */
  private logged = 0;
  private posted = 0;
  private readonly format: LineFormat | undefined;
  private readonly infoOn: boolean;
  private readonly warnOn: boolean;
  /** Post at this many deletions: half the allowance, so the next batch is written meanwhile. */
  private readonly every: number;

  constructor(
    private readonly task: WorkerTask,
    private readonly control: Control,
    private readonly port: MessagePort,
  ) {
    this.format = task.log.kind === 'lines' ? new LineFormat(task.log.level) : undefined;
    this.infoOn = this.format?.enabled('info') ?? true;
    this.warnOn = this.format?.enabled('warn') ?? true;
    this.every = Math.max(1, Math.floor(task.allowance / 2));
  }

  file(msg: string, folder: string, name: string, size: number, mtimeMs: number, dryRun: boolean, deleted: boolean, reason?: string): void {
    const path = folder + name;
    if (deleted) {
      this.logged++;
      this.deletions++;
    }
    if (this.format) {
      // a deleted file's line is the audit trail: written whatever LOG_LEVEL says
      if (this.infoOn || deleted) {
        this.lines += this.format.fileLine(msg, path, size, mtimeText(mtimeMs), dryRun, reason);
      }
    } else {
      this.records.push(['info', fileFields(path, size, mtimeMs, dryRun, reason), msg]);
    }
    if (this.deletions >= this.every || this.lines.length >= BATCH_CHARS || this.records.length >= BATCH_RECORDS) this.post();
  }

  info(fields: object, msg: string): void {
    this.add('info', fields, msg, this.infoOn);
  }

  warn(fields: object, msg: string): void {
    this.add('warn', fields, msg, this.warnOn);
  }

  room(): number {
    return this.task.allowance - (this.logged - Atomics.load(this.control, deletionsSlot(this.task.index)));
  }

  makeRoom(): 'go' | 'stop' {
    this.post();
    return this.waitUntil(deletionsSlot(this.task.index), () => this.room() > 0);
  }

  /** Waits here (the thread has nothing else to do) while the main thread lags behind: false. */
  backlog(): false {
    if (this.posted - Atomics.load(this.control, batchesSlot(this.task.index)) > MAX_UNACKED) {
      this.waitUntil(batchesSlot(this.task.index), () => this.posted - Atomics.load(this.control, batchesSlot(this.task.index)) <= MAX_UNACKED);
    }
    return false;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  /** Sends what is batched to the main thread. */
  post(): void {
    if (this.lines === '' && this.records.length === 0 && this.deletions === 0) return;
    const message: WorkerMessage = this.format
      ? { type: 'log', lines: this.lines, deletions: this.deletions }
      : { type: 'log', records: this.records, deletions: this.deletions };
    this.port.postMessage(message);
    this.posted++;
    this.lines = '';
    this.records = [];
    this.deletions = 0;
  }

  private add(level: SweepLevel, fields: object, msg: string, on: boolean): void {
    if (!on) return;
    if (this.format) this.lines += this.format.line(level, fields, msg);
    else this.records.push([level, fields, msg]);
    if (this.lines.length >= BATCH_CHARS || this.records.length >= BATCH_RECORDS) this.post();
  }

  /** Blocks this thread until `ok()` (or the run stops), telling the main thread once. */
  private waitUntil(slot: number, ok: () => boolean): 'go' | 'stop' {
    let told = false;
    for (;;) {
      if (stopAsked(this.control)) return 'stop';
      const seen = Atomics.load(this.control, slot);
      if (ok()) return 'go';
      if (!told) {
        this.port.postMessage({ type: 'stalled' } satisfies WorkerMessage);
        told = true;
      }
      Atomics.wait(this.control, slot, seen, WAIT_MS);
    }
  }
}
