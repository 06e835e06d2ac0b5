// Runs the built-in cleanup on a tree, as a host would, and measures the longest event-loop stall.
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';

const here = path.dirname(fileURLToPath(import.meta.url));
const { createAutoCleanup } = await import(path.join(here, '..', 'dist', 'index.js'));
const root = process.argv[2];
let deleted = 0;
const stream = pino.destination({ dest: path.join(root, '..', 'auto.log'), sync: false });
const logger = pino({}, stream);
const counting = logger.child({});
const origInfo = counting.info.bind(counting);
counting.info = (obj, ...rest) => {
  if (typeof obj === 'object' && rest[0] === 'cleanup: deleted') deleted++;
  return origInfo(obj, ...rest);
};
const auto = createAutoCleanup({ baseDir: root, retentionDays: 30, logger: counting, env: {} });
const h = monitorEventLoopDelay({ resolution: 1 });
// A gap probe besides the histogram: the longest time between two 1 ms timer turns.
let last = performance.now();
let maxGap = 0;
const probe = setInterval(() => {
  const t = performance.now();
  maxGap = Math.max(maxGap, t - last);
  last = t;
}, 1);
h.enable();
const t0 = performance.now();
auto.notify();
await auto.idle();
const wall = (performance.now() - t0) / 1000;
h.disable();
clearInterval(probe);
await new Promise((resolve) => stream.flush(resolve));
process.stdout.write(`${JSON.stringify({ deleted, wall, maxStallMs: Math.max(h.max / 1e6, maxGap), histMaxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, maxGapMs: maxGap })}\n`);
