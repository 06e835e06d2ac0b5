#!/usr/bin/env node
// npm run bench -- [--files 100000] [--data sparse|real] [--runs 3] [--dir /var/tmp] [--no-stall]
//
// Times vigint-cleanup against GNU find on identical, seeded trees, in the same run: find's
// selection vs our --dry-run, find -delete vs our real run, our status, our dry run with 1,000 holds
// and with --min-free 100% (against our plain dry run), and the longest event-loop
// stall of the built-in cleanup. Checks that find and we leave exactly the same survivors.
// Prints one table (medians) and writes every figure to bench/results/. Start-up (issue 13):
// `npm run bench -- --files 1500 --runs 15 --no-stall` gives the dry run's and status's wall time
// as a multiple of `node -e 0`'s, timed in the same runs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'bin', 'vigint-cleanup.js');
const TIME = '/usr/bin/time';

/** A usage error: one line, exit 2. */
const usage = (message) => {
  console.error(`bench: ${message} (npm run bench -- --help)`);
  process.exit(2);
};
const args = (() => {
  try {
    return parseArgs({
      options: {
        files: { type: 'string', default: '100000' },
        data: { type: 'string', default: 'sparse' },
        runs: { type: 'string', default: '3' },
        dir: { type: 'string', default: os.tmpdir() },
        'no-stall': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return usage(err.message);
  }
})();
const opts = args.values;
if (opts.help) {
  console.log(`Usage: npm run bench -- [--files N] [--data sparse|real] [--runs R] [--dir D] [--no-stall]

Times vigint-cleanup against GNU find on identical seeded trees, in the same run, and prints the
medians and ratios (figures also in bench/results/).

  --files N        files per tree, 1,000 to 5,000,000 (default 100000)
  --data KIND      sparse (sizes only) or real (incident and metadata files with their bytes)
  --runs R         runs, each on fresh trees; medians are taken over them (default 3)
  --dir D          where the trees are built (default: the system's temporary folder)
  --no-stall       skip the built-in cleanup's event-loop stall measure
  -h, --help       this text`);
  process.exit(0);
}
const files = Number(opts.files);
const runs = Number(opts.runs);
if (!Number.isInteger(files) || files < 1000 || files > 5_000_000) usage('--files: a whole number from 1,000 to 5,000,000');
if (!['sparse', 'real'].includes(opts.data)) usage('--data: sparse or real');
if (!Number.isInteger(runs) || runs < 1) usage('--runs: a whole number >= 1');
if (!fs.existsSync(TIME)) usage(`${TIME} is needed to measure CPU time and peak RSS: apt-get install time`);

const work = fs.mkdtempSync(path.join(opts.dir, 'vigint-bench-'));
const now = Date.now();
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

/** Builds identical trees, two at a time (one process each), before anything is timed. */
async function trees(names) {
  const t = performance.now();
  const build = (name) =>
    new Promise((resolve, reject) => {
      const root = path.join(work, name);
      const child = spawn(process.execPath, [path.join(here, 'tree.js'), root, String(files), opts.data, String(now)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve({ root, expected: JSON.parse(out) }) : reject(new Error(`tree.js exited ${code}`))));
    });
  const built = {};
  for (let i = 0; i < names.length; i += 2) {
    const pair = await Promise.all(names.slice(i, i + 2).map(build));
    names.slice(i, i + 2).forEach((n, j) => (built[n] = pair[j]));
  }
  // The trees' creation leaves tens of MB of metadata to write back (~40 MB per 100,000 files);
  // left to the kernel's flush, that lands on whichever command runs 30 s later. Flushed now, so
  // no timed command, find's or ours, pays for it.
  spawnSync('sync', [], { stdio: 'inherit' });
  log(`built ${names.join(', ')} (${files.toLocaleString()} files each, ${opts.data}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return built;
}

/** Runs a command under GNU time: wall and CPU seconds, peak RSS in MB. */
function timed(label, argv, { stdout = '/dev/null' } = {}) {
  const report = path.join(work, `time-${crypto.randomUUID()}.txt`);
  const out = fs.openSync(stdout, 'w');
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-o', report, '-f', '%e %U %S %M', ...argv], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  fs.closeSync(out);
  const [wall, user, sys, rssKb] = fs.readFileSync(report, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  fs.rmSync(report);
  if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  // ms: wall time to the millisecond (time's %e has 10 ms steps), for the start-up ratios
  return { wall, ms, cpu: user + sys, rssMb: rssKb / 1024 };
}

function findArgs(root, del) {
  const q = (s) => `'${s}'`;
  const tail = ['-mmin', '+43200', '-printf', q('%p %s %T@\\n'), ...(del ? ['-delete'] : [])];
  const inc = ['find', q(path.join(root, 'offline_incidents')), '-maxdepth', '1', '-type', 'f', '-name', q('offline_incident_*.txt'), '!', '-name', q('.*'), ...tail];
  const vid = ['find', q(path.join(root, 'mock_sparse_ai_cloud')), '-maxdepth', '1', '-type', 'f', '\\(', '-name', q('*.mp4'), '-o', '-name', q('*.json'), '\\)', '!', '-name', q('.*'), ...tail];
  return ['sh', '-c', `${inc.join(' ')} >> ${q(path.join(root, '..', `find-${path.basename(root)}.log`))}; ${vid.join(' ')} >> ${q(path.join(root, '..', `find-${path.basename(root)}.log`))}`];
}

const ours = (root, extra) => [process.execPath, BIN, '--base-dir', root, '--days', '30', '--log-file', path.join(work, `ours-${path.basename(root)}.log`), '--json', ...extra];

/** Sorted names of every entry below root, but for our own state file, as one hash (survivor check). */
function survivors(root) {
  const names = [];
  const walk = (dir) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (dir === root && (d.name === '.vigint-cleanup-state.json' || d.name === '.vigint-cleanup.lock')) continue;
      const p = path.join(dir, d.name);
      names.push(path.relative(root, p));
      if (d.isDirectory()) walk(p);
    }
  };
  walk(root);
  names.sort();
  return { count: names.length, hash: crypto.createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 16) };
}

const rm = (p) => fs.rmSync(p, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (let run = 1; run <= runs; run++) {
  log(`run ${run} of ${runs}`);
  const r = { run };
  const built = await trees(opts['no-stall'] ? ['dry', 'find-delete', 'ours-delete'] : ['dry', 'find-delete', 'ours-delete', 'auto']);
  // Dry runs and status share one tree: they change nothing (checked).
  const dry = built.dry;
  // the start of a bare node, the yardstick of start-up (issue 13: a small tree within 2x of it)
  r.nodeBare = timed('node -e 0', [process.execPath, '-e', '0']);
  r.findDry = timed('find (select)', findArgs(dry.root, false));
  r.oursDry = timed('vigint-cleanup --dry-run', ours(dry.root, ['--dry-run']), { stdout: path.join(work, 'dry.json') });
  r.status = timed('vigint-cleanup status', [process.execPath, BIN, 'status', '--base-dir', dry.root, '--days', '30', '--json']);
  const dryReport = JSON.parse(fs.readFileSync(path.join(work, 'dry.json'), 'utf8'));
  if (dryReport.totals.toDelete !== dry.expected.old) throw new Error(`dry run planned ${dryReport.totals.toDelete}, expected ${dry.expected.old}`);
  // The same dry run with 1,000 holds (900 exact names of files there, 100 globs): issue 10's bound.
  const holdFile = path.join(dry.root, '.vigint-holds.json');
  const held = fs.readdirSync(path.join(dry.root, 'offline_incidents')).filter((n) => n.startsWith('offline_incident_')).slice(0, 900);
  const holds = [
    ...held.map((n) => `offline_incidents/${n}`),
    ...Array.from({ length: 100 }, (_, i) => `mock_sparse_ai_cloud/case${i}_cam*_2026*.mp4`),
  ].map((pattern) => ({ pattern, reason: 'bench', who: 'bench', when: new Date(now).toISOString(), until: null }));
  fs.writeFileSync(holdFile, JSON.stringify({ format: 'vigint-holds/1', holds }));
  r.oursDryHolds = timed('vigint-cleanup --dry-run, 1,000 holds', ours(dry.root, ['--dry-run']), { stdout: path.join(work, 'dry-holds.json') });
  const heldReport = JSON.parse(fs.readFileSync(path.join(work, 'dry-holds.json'), 'utf8'));
  if (heldReport.totals.held + heldReport.totals.toDelete !== dry.expected.old || heldReport.totals.held === 0) {
    throw new Error(`with holds: ${heldReport.totals.held} held + ${heldReport.totals.toDelete} to delete, expected ${dry.expected.old} old`);
  }
  r.heldFiles = heldReport.totals.held;
  rm(holdFile);
  // The disk-pressure pass at its most (100%: never reached, so both passes see every file).
  r.oursDryPressure = timed('vigint-cleanup --dry-run --min-free 100%', ours(dry.root, ['--dry-run', '--min-free', '100%']), { stdout: path.join(work, 'dry-pressure.json') });
  if (JSON.parse(fs.readFileSync(path.join(work, 'dry-pressure.json'), 'utf8')).diskPressure === null) throw new Error('--min-free: no diskPressure in the report');
  const dryAfter = survivors(dry.root);
  rm(dry.root);

  const a = built['find-delete'];
  r.findDelete = timed('find -delete', findArgs(a.root, true));
  const b = built['ours-delete'];
  r.oursDelete = timed('vigint-cleanup', ours(b.root, []), { stdout: path.join(work, 'real.json') });
  const real = JSON.parse(fs.readFileSync(path.join(work, 'real.json'), 'utf8'));
  const sa = survivors(a.root);
  const sb = survivors(b.root);
  if (sa.hash !== sb.hash) throw new Error(`survivors differ: find left ${sa.count}, we left ${sb.count}`);
  if (real.totals.deleted !== a.expected.old || real.totals.failed !== 0) throw new Error(`deleted ${real.totals.deleted} (failed ${real.totals.failed}), expected ${a.expected.old}`);
  const findLines = fs.readFileSync(path.join(work, 'find-find-delete.log'), 'utf8').split('\n').length - 1;
  if (findLines !== a.expected.old) throw new Error(`find printed ${findLines}, expected ${a.expected.old}`);
  const ourLines = execFileSync('grep', ['-c', '"msg":"cleanup: deleted"', path.join(work, 'ours-ours-delete.log')], { encoding: 'utf8' }).trim();
  if (Number(ourLines) !== a.expected.old) throw new Error(`our log has ${ourLines} deletion lines, expected ${a.expected.old}`);
  r.survivors = { find: sa, ours: sb, dryUnchangedCount: dryAfter.count };
  r.deleted = real.totals.deleted;
  rm(a.root);
  rm(b.root);

  if (!opts['no-stall']) {
    const c = built.auto;
    const s = spawnSync(process.execPath, [path.join(here, 'stall.js'), c.root], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`stall.js: ${s.stderr}`);
    r.stall = JSON.parse(s.stdout);
    if (r.stall.deleted !== c.expected.old) throw new Error(`built-in cleanup deleted ${r.stall.deleted}, expected ${c.expected.old}`);
    rm(c.root);
  }
  for (const f of fs.readdirSync(work)) rm(path.join(work, f));
  results.push(r);
  log(JSON.stringify(r));
}
rm(work);

const pick = (key, field) => median(results.map((r) => r[key][field]));
const row = (label, key, vs) => {
  const wall = pick(key, 'wall');
  return {
    label,
    wall,
    cpu: pick(key, 'cpu'),
    rssMb: pick(key, 'rssMb'),
    // from the millisecond timings: time's %e rounds a small tree's find to 0.00 s
    filesPerSec: Math.round(files / (pick(key, 'ms') / 1000)),
    ratio: vs ? median(results.map((r) => r[key].ms / r[vs].ms)) : undefined,
  };
};
const rows = [
  row('find (select, print)', 'findDry'),
  row('vigint-cleanup --dry-run', 'oursDry', 'findDry'),
  row('vigint-cleanup status', 'status', 'findDry'),
  row('vigint-cleanup --dry-run, 1,000 holds (× our dry run)', 'oursDryHolds', 'oursDry'),
  row('vigint-cleanup --dry-run --min-free 100% (× our dry run)', 'oursDryPressure', 'oursDry'),
  row('find -delete (print)', 'findDelete'),
  row('vigint-cleanup (delete, log)', 'oursDelete', 'findDelete'),
];
const stallMs = opts['no-stall'] ? undefined : median(results.map((r) => r.stall.maxStallMs));

const title = `${files.toLocaleString('en-US')} files, ${opts.data} data, median of ${runs} run(s), ${os.cpus().length} cores, node ${process.version}`;
const lines = [
  title,
  '',
  '| command | wall s | CPU s | peak RSS MB | files/s | × reference (same run) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.label} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.filesPerSec.toLocaleString('en-US')} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} |`),
];
lines.push('', 'reference: find for our runs and status; our plain dry run for the holds and --min-free rows');
const startup = (key) => median(results.map((r) => r[key].ms / r.nodeBare.ms)).toFixed(2);
lines.push(
  '',
  `start-up: node -e 0 ${median(results.map((r) => r.nodeBare.ms)).toFixed(0)} ms; --dry-run ${startup('oursDry')}×, status ${startup('status')}× its wall time (medians of the runs' ratios)`,
);
if (stallMs !== undefined) lines.push('', `built-in cleanup (library), same tree: longest event-loop stall ${stallMs.toFixed(1)} ms (median of runs)`);
console.log(lines.join('\n'));

fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const out = path.join(here, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-${opts.data}-${files}.json`);
fs.writeFileSync(out, `${JSON.stringify({ files, data: opts.data, runs, node: process.version, cores: os.cpus().length, rows, stallMs, results }, null, 2)}\n`);
console.log(`\nfigures: ${path.relative(process.cwd(), out)}`);
