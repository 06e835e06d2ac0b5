// Cost of the evidence-hold check per file name: 0, 10 and 1,000 holds (9/10 exact names, 1/10
// globs) over 1,000,000 names of the two category folders. `npm run build && node bench/holds-match.js [names]`.
// The sweep spends about 1 µs of CPU per file; the check should stay well under a tenth of that.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { compileProtection } = await import(path.join(here, '..', 'dist', 'protection.js'));

const N = Number(process.argv[2] ?? 1_000_000);
const INCIDENTS = 'offline_incidents';
const VIDEOS = 'mock_sparse_ai_cloud';

// A deterministic generator, so every run measures the same names.
// (mulberry32: 32-bit integer arithmetic, a full-period stream.)
let seed = 42;
const rand = (n) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % n;
};
const pad = (n, w) => String(n).padStart(w, '0');
const day = () => `2026${pad(1 + rand(12), 2)}${pad(1 + rand(28), 2)}`;
const time = () => `${pad(rand(24), 2)}${pad(rand(60), 2)}${pad(rand(60), 2)}`;

// Names as the sweep sees them: about half incidents, half videos with their metadata.
const folders = new Array(N);
const names = new Array(N);
for (let i = 0; i < N; i++) {
  if (i % 2 === 0) {
    folders[i] = INCIDENTS;
    names[i] = `offline_incident_${day()}_${time()}_${pad(rand(1000), 3)}.txt`;
  } else {
    folders[i] = VIDEOS;
    names[i] = `cam${rand(40)}_${day()}_${time()}.${i % 4 === 1 ? 'mp4' : 'json'}`;
  }
}

// readdir gives flat strings; template literals give ropes, which each first look-up would flatten.
for (let i = 0; i < N; i++) names[i] = Buffer.from(names[i]).toString();

/** `count` holds: 9 in 10 exact names taken from the list, 1 in 10 globs (folder-relative and bare). */
function holds(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 9) {
      const k = i / 10;
      const glob =
        k % 3 === 0
          ? `${INCIDENTS}/offline_incident_${day()}_${pad(rand(24), 2)}*.txt`
          : k % 3 === 1
            ? `${VIDEOS}/cam${rand(40)}_${day()}_*`
            : `cam${rand(40)}_${day()}_${pad(rand(24), 2)}*.mp4`;
      out.push({ pattern: glob, until: null });
    } else {
      const j = rand(N);
      out.push({ pattern: `${folders[j]}/${names[j]}`, until: null });
    }
  }
  return out;
}

// Names of one folder, as a sweep worker sees them.
const byFolder = { [INCIDENTS]: [], [VIDEOS]: [] };
for (let i = 0; i < N; i++) byFolder[folders[i]].push(names[i]);

// As a sweep meets them: each name a new string (readdir makes one per entry, so no hash is cached
// in it yet), checked while it is still in the CPU cache. Copies are made 5,000 at a time, untimed.
const raw = { [INCIDENTS]: byFolder[INCIDENTS].map((n) => Buffer.from(n)), [VIDEOS]: byFolder[VIDEOS].map((n) => Buffer.from(n)) };
function fresh(protection) {
  let ns = 0n;
  for (const folder of [INCIDENTS, VIDEOS]) {
    const check = protection.inFolder(folder);
    const buffers = raw[folder];
    for (let at = 0; at < buffers.length; at += 5000) {
      const names = buffers.slice(at, at + 5000).map((b) => b.toString());
      const t0 = process.hrtime.bigint();
      for (const name of names) check(name);
      ns += process.hrtime.bigint() - t0;
    }
  }
  return Number(ns);
}

function measure(count) {
  const protection = compileProtection({ holds: holds(count), excludes: [], nowMs: Date.now() });
  let best = Number.POSITIVE_INFINITY;
  let bestInFolder = Number.POSITIVE_INFINITY;
  let bestFresh = Number.POSITIVE_INFINITY;
  let held = 0;
  for (let round = 0; round < 5; round++) {
    held = 0;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) if (protection.isProtected(folders[i], names[i]) !== undefined) held++;
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
    // The sweep's way: one check function per folder, called per name.
    t0 = process.hrtime.bigint();
    for (const folder of [INCIDENTS, VIDEOS]) {
      const check = protection.inFolder(folder);
      for (const name of byFolder[folder]) if (check(name) !== undefined) held--;
    }
    bestInFolder = Math.min(bestInFolder, Number(process.hrtime.bigint() - t0));
    bestFresh = Math.min(bestFresh, fresh(protection));
  }
  if (held !== 0) throw new Error('isProtected and inFolder disagree');
  const found = [];
  for (let i = 0; i < N; i++) if (protection.isProtected(folders[i], names[i]) !== undefined) found.push(i);
  return { holds: count, nsPerName: +(best / N).toFixed(1), inFolder: +(bestInFolder / N).toFixed(1), fresh: +(bestFresh / N).toFixed(1), held: found.length };
}

// The loop alone, for scale: what the figures above include besides the check.
function baseline() {
  let best = Number.POSITIVE_INFINITY;
  let n = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) if (names[i].length === folders[i].length) n++;
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  return { holds: 'loop only', nsPerName: +(best / N).toFixed(1), inFolder: '', fresh: '', held: n };
}

const rows = [baseline(), measure(0), measure(10), measure(1000)];
console.log(`names: ${N.toLocaleString('en-US')} (node ${process.version}, best of 5 rounds; load average ${(await import('node:os')).loadavg()[0].toFixed(1)})`);
console.log('  holds       isProtected   inFolder   inFolder, fresh names   files held');
for (const r of rows) {
  const ns = (v) => `${String(v).padStart(7)} ns`;
  console.log(`  ${String(r.holds).padEnd(9)} ${ns(r.nsPerName)}  ${ns(r.inFolder)}  ${ns(r.fresh)}              ${String(r.held).padStart(6)}`);
}
