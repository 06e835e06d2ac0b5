import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from './errors.js';
import { versionIncludes } from './holds.js';
import { randomHex } from './random-hex.js';

/**
 * The handshake that makes a hold added during a real run protect its files from that run:
 * `hold add` writes the file, then waits until the running cleanup says (through
 * `<base>/.vigint-holds.seen`) that it applies that version of the file, or until the run is over.
 */

export const SEEN_NAME = '.vigint-holds.seen';
/** The cleanup's lock (src/lock.ts): only its existence and owner's pid are read here. */
export const CLEANUP_LOCK_NAME = '.vigint-cleanup.lock';

/**
 * For the running cleanup: records that it now applies hold file version `version` (from
 * `holdsVersion`, read before the holds were loaded). A symbolic link `<pid>:<version>`, made
 * aside and renamed over: atomic, and it needs no data block (a full disk does not stop it).
 * Throws on failure (e.g. a read-only folder); `hold add` then times out and warns.
 */
export function acknowledgeHolds(baseDir: string, version: string, pid: number = process.pid): void {
  const file = path.join(baseDir, SEEN_NAME);
  const temp = `${file}.${pid}.${randomHex(4)}`;
  fs.symlinkSync(`${pid}:${version}`, temp);
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** What `.vigint-holds.seen` says, if anything. */
export function readAcknowledgement(baseDir: string): { pid: number; version: string } | undefined {
  try {
    const target = fs.readlinkSync(path.join(baseDir, SEEN_NAME));
    const colon = target.indexOf(':');
    const pid = Number(target.slice(0, colon));
    return colon > 0 && Number.isInteger(pid) ? { pid, version: target.slice(colon + 1) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a real cleanup holds the lock of `baseDir`, and its pid when the lock says it: a
 * symbolic link `vcl1:<pid>:…` (the current format); an older lock (a JSON file) or an unknown
 * link gives an unknown pid. undefined: no lock.
 */
export function runningCleanup(baseDir: string): { pid: number | undefined } | undefined {
  const file = path.join(baseDir, CLEANUP_LOCK_NAME);
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return { pid: undefined };
  } catch (err) {
    // Anything but "not there" counts as a run we cannot see into: wait for it.
    return errnoCode(err) === 'ENOENT' ? undefined : { pid: undefined };
  }
  let target: string;
  try {
    target = fs.readlinkSync(file);
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? undefined : { pid: undefined };
  }
  const fields = target.split(':');
  const pid = Number(fields[1]);
  return fields[0] === 'vcl1' && fields[1] !== '' && Number.isInteger(pid) && pid > 0 ? { pid } : { pid: undefined };
}

export type AckOutcome =
  /** No real cleanup was running: nothing to wait for. */
  | { readonly kind: 'no-run' }
  /** The running cleanup (pid, when the lock says) applies this version or a later one. */
  | { readonly kind: 'acknowledged'; readonly pid: number }
  /** The run ended (its lock is gone) before acknowledging: it deletes nothing more. */
  | { readonly kind: 'run-ended' }
  /** Still running, no acknowledgement within the time: it may delete matching files. */
  | { readonly kind: 'timeout'; readonly pid: number | undefined };

export interface WaitOptions {
  /** Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Default 20 ms. */
  readonly pollMs?: number;
}

/**
 * For `hold add`, after writing the hold file as `version`: waits (polling) until the real
 * cleanup running on `baseDir`, if any, acknowledges that version (or a later one, which holds
 * it too), or its lock is gone. The
 * acknowledgement must come from the pid the lock names now (when the lock names one), so a
 * stale `.seen` of an earlier run never counts.
 */
export async function waitForAcknowledgement(baseDir: string, version: string, options: WaitOptions = {}): Promise<AckOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? 20;
  const start = Date.now();
  let seenRun = false;
  for (;;) {
    const run = runningCleanup(baseDir);
    if (run === undefined) return seenRun ? { kind: 'run-ended' } : { kind: 'no-run' };
    seenRun = true;
    const ack = readAcknowledgement(baseDir);
    if (ack !== undefined && versionIncludes(ack.version, version) && (run.pid === undefined || ack.pid === run.pid)) {
      return { kind: 'acknowledged', pid: ack.pid };
    }
    if (Date.now() - start >= timeoutMs) return { kind: 'timeout', pid: run.pid };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
