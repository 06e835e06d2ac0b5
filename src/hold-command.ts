import type { Output } from './args.js';
import { type Env, checkBaseDir, resolveBaseDir } from './config.js';
import { EXIT, usageError } from './errors.js';
import { waitForAcknowledgement } from './hold-ack.js';
import type { HoldFlags, HoldInvocation } from './hold-args.js';
import { parseHoldPattern, parseUntil } from './hold-pattern.js';
import { countHeld, formatAdded, formatHoldList, formatHoldListJson } from './hold-report.js';
import { type Hold, holdsPath, loadHolds, updateHolds } from './holds.js';
import { userName } from './command-context.js';

/** What the hold commands take from cli.ts's context. */
export interface HoldContext {
  readonly env: Env;
  readonly cwd: string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly now: () => number;
}

function baseDirOf(flags: HoldFlags, ctx: HoldContext): string {
  if (flags.baseDir === '') throw usageError('--base-dir is empty: give the base folder holding offline_incidents/ and mock_sparse_ai_cloud/');
  const baseDir = resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd);
  checkBaseDir(baseDir);
  return baseDir;
}

/**
 * `hold add`: every input checked first (a usage error changes nothing), then the holds written
 * under the hold file's lock; then, if a real cleanup is running, waits for it to confirm it
 * applies them, so that once this returns with 0 that run deletes none of the held files.
 */
async function add(patterns: readonly string[], flags: HoldFlags, ctx: HoldContext): Promise<number> {
  const nowMs = ctx.now();
  for (const p of patterns) parseHoldPattern(p);
  const until = flags.until === undefined ? null : parseUntil(flags.until, nowMs);
  if (flags.reason !== undefined && flags.reason.trim() === '') throw usageError('--reason is empty: say why the files are kept, or leave the option out');
  const baseDir = baseDirOf(flags, ctx);
  const when = new Date(nowMs).toISOString();
  const added: Hold[] = [...new Set(patterns)].map((pattern) => ({ pattern, reason: flags.reason ?? null, who: userName(), when, until }));

  const { result: replaced, version } = await updateHolds(baseDir, (current) => {
    const holds = [...current];
    const replacedNow = added.map((hold) => {
      const at = holds.findIndex((h) => h.pattern === hold.pattern);
      if (at >= 0) holds[at] = hold;
      else holds.push(hold);
      return at >= 0;
    });
    return { holds, result: replacedNow };
  });

  const ack = await waitForAcknowledgement(baseDir, version);
  const matches = countHeld(baseDir, added);
  added.forEach((hold, i) => ctx.stdout.write(formatAdded(hold, replaced[i] === true, matches[i] ?? { files: 0, bytes: 0 }, nowMs)));
  if (ack.kind === 'acknowledged') ctx.stdout.write(`The cleanup running now (pid ${ack.pid}) applies the new holds.\n`);
  if (ack.kind === 'timeout') {
    ctx.stderr.write(
      `vigint-cleanup: warning: the running cleanup${ack.pid === undefined ? '' : ` (pid ${ack.pid})`} did not confirm the hold within 10 s; it may delete matching files. The hold is saved and protects from every later run.\n`,
    );
    return EXIT.partial;
  }
  return EXIT.ok;
}

/** `hold remove`: removes the holds named; exit 1 naming any pattern that was not held. */
async function remove(patterns: readonly string[], flags: HoldFlags, ctx: HoldContext): Promise<number> {
  const baseDir = baseDirOf(flags, ctx);
  const wanted = [...new Set(patterns)];
  const { result: missing } = await updateHolds(baseDir, (current) => {
    const held = new Set(current.map((h) => h.pattern));
    const absent = wanted.filter((p) => !held.has(p));
    const holds = current.filter((h) => !wanted.includes(h.pattern));
    return { holds: holds.length === current.length ? undefined : holds, result: absent };
  });
  for (const p of wanted) if (!missing.includes(p)) ctx.stdout.write(`Removed the hold ${p}\n`);
  if (missing.length > 0) {
    ctx.stderr.write(`vigint-cleanup: not held (nothing removed for ${missing.length === 1 ? 'it' : 'them'}): ${missing.join(', ')}; see vigint-cleanup hold list\n`);
    return EXIT.partial;
  }
  return EXIT.ok;
}

function list(flags: HoldFlags, ctx: HoldContext): number {
  const baseDir = baseDirOf(flags, ctx);
  const nowMs = ctx.now();
  const holds = loadHolds(baseDir);
  const matches = countHeld(baseDir, holds);
  const file = holdsPath(baseDir);
  ctx.stdout.write(flags.json ? formatHoldListJson(baseDir, file, holds, matches, nowMs) : formatHoldList(file, holds, matches, nowMs));
  return EXIT.ok;
}

/** Runs `hold add|remove|list`; returns the exit status (errors are thrown as CleanupError). */
export async function holdCommand(h: HoldInvocation, ctx: HoldContext): Promise<number> {
  switch (h.action) {
    case 'add':
      return add(h.patterns, h.flags, ctx);
    case 'remove':
      return remove(h.patterns, h.flags, ctx);
    case 'list':
      return list(h.flags, ctx);
  }
}
