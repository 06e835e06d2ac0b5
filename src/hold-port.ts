import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { type Control, HOLDS, holdsSlot } from './control.js';
import type { CompileGuard, Guard, HoldFollower, HoldRules, HoldsMessage } from './hold-follow.js';

/*
 * Apart from hold-follow.ts, which the main thread loads: only a worker needs node:worker_threads'
 * receiveMessageOnPort, and loading that module costs the CLI's start-up about 2-3 ms.
 */

/** The follower of a worker thread: new rules come on `port`, the generation in the Control. */
export class PortFollower implements HoldFollower {
  guard: Guard;
  private generation = 0;
  private latest: HoldsMessage | undefined;
  /** True while a sweep runs: an idle worker adopts new rules as they come. */
  busy = false;

  constructor(
    rules: HoldRules,
    private readonly compile: CompileGuard,
    private readonly nowMs: number,
    private readonly port: MessagePort,
    private readonly control: Control,
    private readonly index: number,
    /** The generation of `rules` (a worker started after holds changed gets the newest). */
    generation = 0,
  ) {
    this.guard = compile(rules, nowMs);
    this.generation = generation;
    Atomics.store(control, holdsSlot(index), generation);
    // Between sweeps the worker's event loop turns: take new rules at once, nothing is in flight.
    port.on('message', (message: HoldsMessage) => {
      this.keep(message);
      if (!this.busy) this.adopt();
    });
    port.unref();
  }

  changed(): boolean {
    return Atomics.load(this.control, HOLDS) !== this.generation;
  }

  adopt(): void {
    // The main thread posts before it bumps the generation: the message is in the port already.
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) this.keep(m.message as HoldsMessage);
    const latest = this.latest;
    if (latest === undefined || latest.generation === this.generation) return;
    this.guard = this.compile(latest.rules, this.nowMs);
    this.generation = latest.generation;
    Atomics.store(this.control, holdsSlot(this.index), latest.generation);
  }

  private keep(message: HoldsMessage): void {
    if (this.latest === undefined || message.generation > this.latest.generation) this.latest = message;
  }
}
