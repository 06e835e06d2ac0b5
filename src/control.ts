/**
 * The memory a run's threads share, as an Int32Array: a worker checks it before every file, with
 * no message to wait for (a sweep is synchronous, so a worker reads no message while it sweeps),
 * and blocks on it with Atomics.wait when it must wait for the main thread.
 *
 * [STOP]: why the run stops (0: it does not). [HOLDS]: the generation of the holds the main
 * thread last sent (see hold-follow.ts). Per worker i: [ACK + 3i] deletions of worker i whose
 * lines the main thread has written; [ACK + 3i + 1] batches of worker i it has taken care of;
 * [ACK + 3i + 2] the generation of the holds worker i applies.
 */
export const STOP = 0;
export const HOLDS = 1;
const ACK = 2;
const PER_WORKER = 3;

export const STOP_REASON = { none: 0, interrupted: 1, log: 2, holds: 3 } as const;

export type Control = Int32Array;

export function newControl(workers: number): Control {
  return new Int32Array(new SharedArrayBuffer(4 * (ACK + PER_WORKER * workers)));
}

export const deletionsSlot = (worker: number): number => ACK + PER_WORKER * worker;
export const batchesSlot = (worker: number): number => ACK + PER_WORKER * worker + 1;
export const holdsSlot = (worker: number): number => ACK + PER_WORKER * worker + 2;

/** True once a thread asked the run to stop (requestStop). */
export function stopAsked(control: Control): boolean {
  return Atomics.load(control, STOP) !== STOP_REASON.none;
}

/** Asks every thread to stop (the first reason given stays), and wakes those that wait. */
export function requestStop(control: Control, reason: number): void {
  Atomics.compareExchange(control, STOP, STOP_REASON.none, reason);
  for (let i = 0; i < control.length; i++) Atomics.notify(control, i);
}

/** Records that the main thread took care of a batch of worker `worker` holding `deletions`. */
export function acknowledge(control: Control, worker: number, deletions: number): void {
  if (deletions > 0) {
    Atomics.add(control, deletionsSlot(worker), deletions);
    Atomics.notify(control, deletionsSlot(worker));
  }
  Atomics.add(control, batchesSlot(worker), 1);
  Atomics.notify(control, batchesSlot(worker));
}
