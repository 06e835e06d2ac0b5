// Bundles the command-line program and its worker thread into bundle/ (run by `npm run build`,
// after tsc has checked and built dist/, the library), and makes the program's code cache. Why:
// Node 20 loads an ES module in ~1 ms (resolve, read, compile, link), and a cleanup of a small
// site loaded ~36 of ours and commander's dozen. Measured on 1,500 files (dry run, --log-file,
// medians of 21-31 runs, alternated; `node -e 0`: 60-62 ms): 141-150 ms as separate modules,
// 127-131 ms bundled with esbuild's code splitting (cli.js and 25 chunks), 117-121 ms as one
// ES module, 113.5 ms as one script compiled with its code cache (bin/load.js; 123 ms without
// the cache, against 120 ms for the ES module in the same runs).
//
// What the commands use only when asked (status, check, systemd, hold, cron, the worker driver,
// disk pressure, metrics, the lock) stays behind dynamic import() in the sources: in the bundle
// it is code that is parsed lazily and run only when imported. pino, dotenv and picomatch stay
// packages, required at run time where they are needed (test/e2e/metrics.test.ts checks that a
// plain cleanup loads none of them).
import { build } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Node's fs, path, os and crypto, imported by default (`import fs from 'node:fs'`) in 50-odd
 * places: in a CommonJS bundle, esbuild wraps each such import in __toESM, which copies every
 * property of the module, once per importing module (6 ms of a small run, profiled). Each is
 * one module of the bundle here, `export default require(...)`, that its importers share.
 */
const builtinDefaults = {
  name: 'builtin-defaults',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|path|os|crypto)$/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin-default' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin-default' }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/**
 * commander requires node:child_process when it loads, for subcommands that are programs of their
 * own, which this program has none of: loading it costs ~2.5 ms of every start (measured). Here it
 * is required the first time commander would use it, if ever.
 */
const commanderChildProcess = {
  name: 'commander-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.kind === 'require-call' && args.importer.includes('/node_modules/commander/') ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require(${JSON.stringify(args.path)}))[key] });`,
      loader: 'js',
    }));
  },
};

const out = new URL('../bundle/', import.meta.url);
fs.rmSync(out, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['pino', 'dotenv', 'picomatch'],
  logLevel: 'warning',
};
// The program: a CommonJS script, so that bin/load.js can compile it with V8's code cache
// (vm.Script; an ES module cannot take one on Node 20). import.meta.url becomes the file's URL.
await build({
  ...common,
  entryPoints: ['dist/cli.js'],
  outfile: 'bundle/cli.cjs',
  format: 'cjs',
  plugins: [builtinDefaults, commanderChildProcess],
  define: { 'import.meta.url': '__vigintUrl' },
  // ("use strict" first: the sources are ES modules, strict; the banner would end the directive prologue)
  banner: { js: "'use strict'; var __vigintUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The worker thread: an ES module (a Worker takes its URL).
await build({
  ...common,
  entryPoints: ['dist/sweep-worker.js'],
  outfile: 'bundle/sweep-worker.js',
  format: 'esm',
});
fs.writeFileSync(new URL('README', out), 'Built by `npm run build` (scripts/bundle.js) from dist/: the program the bin runs. Not edited by hand.\n');

// The code cache: made after a dry run and a status of a small tree, so that it holds the
// functions such runs compile, not only the top level, and stored with the source it was made
// from (bin/load.js uses it only with that very source). A failure here leaves no cache and says
// so; the program then starts as it would without one, and the build goes on.
let tree;
try {
  const { loadProgram, cacheFile, CACHE_FILE } = await import('../bin/load.js');
  tree = fs.mkdtempSync(path.join(os.tmpdir(), 'vigint-bundle-'));
  for (const folder of ['offline_incidents', 'mock_sparse_ai_cloud']) fs.mkdirSync(path.join(tree, folder));
  const old = new Date(Date.now() - 40 * 86_400_000);
  for (const [folder, name] of [['offline_incidents', 'offline_incident_1.txt'], ['mock_sparse_ai_cloud', 'a.mp4'], ['mock_sparse_ai_cloud', 'a.json']]) {
    const file = path.join(tree, folder, name);
    fs.writeFileSync(file, 'x');
    fs.utimesSync(file, old, old);
  }
  const { program, script, source } = loadProgram({ cache: false });
  const quiet = { write: () => true, isTTY: false };
  const deps = { env: { PATH: process.env.PATH ?? '' }, cwd: tree, stdout: quiet, stderr: quiet };
  const log = ['--log-file', path.join(tree, 'c.log')];
  for (const argv of [['--dry-run', '--base-dir', tree, ...log], ['--dry-run', '--json', '--base-dir', tree, ...log], ['status', '--base-dir', tree]]) {
    await program.main(argv, deps);
  }
  fs.writeFileSync(CACHE_FILE, cacheFile(source, script.createCachedData()));
} catch (err) {
  console.warn(`scripts/bundle.js: no code cache (${err instanceof Error ? err.message : err}); the program starts without one`);
} finally {
  if (tree !== undefined) fs.rmSync(tree, { recursive: true, force: true });
}
