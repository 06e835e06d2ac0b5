// Builds a benchmark tree: seeded, so two calls with the same arguments build identical trees.
// Ages avoid 29-31 days, so that find's -mmin and our cutoff, read a few seconds apart, agree.
import fs from 'node:fs';
import path from 'node:path';

const DAY = 86_400_000;

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `files` matching files in all: a third incidents (1-5 KB), a third videos (0.5-2 MB, always
 * sparse), a third metadata (200-800 B); half older than 31 days (up to 400), half younger than
 * 29. `data`: 'sparse' (sizes set with ftruncate, no data blocks) or 'real' (incidents and
 * metadata hold their bytes). Plus decoys that nothing may delete.
 */
export function buildTree(root, { files, data, seed = 42, now }) {
  const rand = prng(seed);
  const age = () => (rand() < 0.5 ? rand() * 29 * DAY : (31 + rand() * 369) * DAY);
  const incidents = path.join(root, 'offline_incidents');
  const videos = path.join(root, 'mock_sparse_ai_cloud');
  const outside = path.join(root, 'outside');
  for (const d of [incidents, videos, outside]) fs.mkdirSync(d, { recursive: true });
  const bytes = Buffer.alloc(5120, 'x');
  const make = (file, size, ageMs, real) => {
    const fd = fs.openSync(file, 'w');
    if (real) fs.writeSync(fd, bytes, 0, size);
    else if (size > 0) fs.ftruncateSync(fd, size);
    const t = new Date(now - ageMs);
    fs.futimesSync(fd, t, t);
    fs.closeSync(fd);
  };
  const real = data === 'real';
  const third = Math.round(files / 3);
  const expected = { incidents: 0, videos: 0, metadata: 0, old: 0, oldBytes: 0 };
  const count = (kind, size, ageMs) => {
    expected[kind]++;
    if (ageMs > 30 * DAY) {
      expected.old++;
      expected.oldBytes += size;
    }
  };
  for (let i = 0; i < third; i++) {
    const size = 1024 + Math.floor(rand() * 4097);
    const a = age();
    make(path.join(incidents, `offline_incident_${String(i).padStart(8, '0')}.txt`), size, a, real);
    count('incidents', size, a);
  }
  const rest = files - third;
  for (let i = 0; i < Math.ceil(rest / 2); i++) {
    const a = age();
    const name = `cam${i % 16}_${String(i).padStart(8, '0')}`;
    const v = 524_288 + Math.floor(rand() * 1_572_865);
    make(path.join(videos, `${name}.mp4`), v, a, false);
    count('videos', v, a);
    if (2 * i + 1 < rest) {
      const m = 200 + Math.floor(rand() * 601);
      make(path.join(videos, `${name}.json`), m, a, real);
      count('metadata', m, a);
    }
  }
  // Decoys: old, and none of them may be deleted.
  const old = 400 * DAY;
  make(path.join(outside, 'evidence.mp4'), 1000, old, real);
  make(path.join(outside, 'offline_incident_outside.txt'), 1000, old, real);
  const decoys = Math.max(10, Math.floor(files / 1000));
  for (let i = 0; i < decoys; i++) {
    make(path.join(incidents, `offline_incident_${i}.log`), 100, old, real);
    make(path.join(incidents, `notes_${i}.txt`), 100, old, real);
    make(path.join(videos, `OLD_${i}.MP4`), 100, old, real);
    make(path.join(videos, `.hidden_${i}.mp4`), 100, old, real);
    make(path.join(videos, `clip_${i}.mp4.part`), 100, old, real);
  }
  for (const dir of [incidents, videos]) {
    const nested = path.join(dir, 'archive');
    fs.mkdirSync(nested);
    make(path.join(nested, 'offline_incident_nested.txt'), 100, old, real);
    make(path.join(nested, 'nested.mp4'), 100, old, real);
    fs.mkdirSync(path.join(dir, dir === incidents ? 'offline_incident_dir.txt' : 'folder.mp4'));
    const links = [
      [path.join(outside, 'evidence.mp4'), dir === incidents ? 'offline_incident_link_out.txt' : 'link_out.mp4'],
      [path.join(outside, 'offline_incident_outside.txt'), dir === incidents ? 'offline_incident_link_out2.txt' : 'link_out.json'],
    ];
    for (const [target, name] of links) {
      fs.symlinkSync(target, path.join(dir, name));
      const t = new Date(now - old);
      fs.lutimesSync(path.join(dir, name), t, t);
    }
  }
  return expected;
}

// As a program: node bench/tree.js ROOT FILES DATA NOW-MS (used to build trees in parallel).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [root, files, data, now] = process.argv.slice(2);
  const expected = buildTree(root, { files: Number(files), data, now: Number(now) });
  process.stdout.write(`${JSON.stringify(expected)}\n`);
}
