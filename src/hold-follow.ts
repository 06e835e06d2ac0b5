/**
 * Holds that change while a real run is under way. The main thread watches the hold file; on a
 * change it sends the new rules to every sweeping thread (`HoldsBroadcast`) and bumps the HOLDS
 * generation in the Control. A sweeping thread checks the generation before each deletion
 * (`HoldFollower.changed`, one atomic load); on a change it lets the unlinks it started finish,
 * takes the new rules (`adopt`) and says so in its own slot. Once every thread has (or is idle),
 * the run acknowledges the hold file's version, and `hold add` returns: from then on no deletion
 * decided under the old rules is left.
 */
import type { MessagePort } from 'node:worker_threads';
import { type Control, HOLDS, holdsSlot } from './control.js';

/** A run's protection as plain data, as it crosses to the workers. */
export interface HoldRules {
  readonly holds: readonly { readonly pattern: string; readonly until: string | null }[];
  readonly excludes: readonly string[];
}

/** The compiled rules: the pattern that keeps a file, if any. */
export interface Guard {
  heldBy(folder: string, name: string): string | undefined;
  /** The same check for one folder, looked up once (a sweep calls the result per name). */
  inFolder(folder: string): (name: string) => string | undefined;
}

/** Builds a Guard; `nowMs` decides which holds have expired. */
export type CompileGuard = (rules: HoldRules, nowMs: number) => Guard;

/** What a sweep asks of the holds. */
export interface HoldFollower {
  /** The rules to apply now. */
  readonly guard: Guard;
  /** True when newer rules were sent than those of `guard`. */
  changed(): boolean;
  /** Takes the newer rules: call only once no unlink decided under the old ones is in flight. */
  adopt(): void;
}

/** What the main thread sends a worker when the rules change (see hold-port.ts). */
export interface HoldsMessage {
  readonly generation: number;
  readonly rules: HoldRules;
}

/** The main thread's side: sends new rules to every sweeping thread, and knows when all apply them. */
export class HoldsBroadcast {
  private generation = 0;
  private readonly ports: { port: MessagePort; index: number; idle: () => boolean }[] = [];
  private readonly locals: LocalFollower[] = [];

  constructor(
    public rules: HoldRules,
    private readonly compile: CompileGuard,
    private readonly nowMs: number,
    private readonly control: Control,
  ) {}

  /** A worker's end of its holds channel; `idle`: no sweep of it under way. */
  addWorker(port: MessagePort, index: number, idle: () => boolean): void {
    this.ports.push({ port, index, idle });
  }

  /** A follower for a sweep in this thread. */
  local(): HoldFollower {
    const follower = new LocalFollower(this, this.compile(this.rules, this.nowMs), this.generation);
    this.locals.push(follower);
    return follower;
  }

  /** Sends new rules; returns their generation. */
  send(rules: HoldRules): number {
    this.rules = rules;
    this.generation++;
    for (const { port } of this.ports) port.postMessage({ generation: this.generation, rules } satisfies HoldsMessage);
    Atomics.store(this.control, HOLDS, this.generation);
    return this.generation;
  }

  /** True once every thread applies the rules of `generation` (or newer), or is idle. */
  applied(generation: number): boolean {
    for (const { index, idle } of this.ports) {
      if (Atomics.load(this.control, holdsSlot(index)) < generation && !idle()) return false;
    }
    return this.locals.every((l) => l.generation >= generation || l.idle);
  }

  /** @internal for LocalFollower */
  current(): { generation: number; guard: Guard } {
    return { generation: this.generation, guard: this.compile(this.rules, this.nowMs) };
  }

  /** @internal */
  latestGeneration(): number {
    return this.generation;
  }
}

class LocalFollower implements HoldFollower {
  idle = false;

  constructor(
    private readonly broadcast: HoldsBroadcast,
    public guard: Guard,
    public generation: number,
  ) {}

  changed(): boolean {
    return this.broadcast.latestGeneration() !== this.generation;
  }

  adopt(): void {
    const { generation, guard } = this.broadcast.current();
    this.guard = guard;
    this.generation = generation;
  }
}

/** No holds, no excludes: nothing is kept, at the cost of one call per old file. */
const nothing = (): undefined => undefined;
export const NO_GUARD: Guard = { heldBy: nothing, inFolder: () => nothing };

/** For a sweep that has no holds to follow (a worker given none): nothing is held, nothing changes. */
export const NO_FOLLOWER: HoldFollower = { guard: NO_GUARD, changed: () => false, adopt: () => {} };

export const noRules = (rules: HoldRules): boolean => rules.holds.length === 0 && rules.excludes.length === 0;
