// Loads the program (bundle/cli.cjs, built by scripts/bundle.js) with V8's code cache
// (bundle/cli.cjs.cache, made at build time by a run of the program): the functions a run uses
// come compiled, not parsed and compiled again at each start. A cache that does not fit (another
// Node, other V8 flags, a changed bundle) is refused by V8 itself, and the program is compiled
// as usual; V8 checks the source only by its length, so a cache older than the bundle (a bundle
// changed since) is not given to it. Node 22 does this for every module (module.enableCompileCache);
// Node 20 does not.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const FILE = fileURLToPath(new URL('../bundle/cli.cjs', import.meta.url));
export const CACHE_FILE = `${FILE}.cache`;

/** The program's exports, and its compiled script (scripts/bundle.js makes the cache from it). */
export function loadProgram({ cache = true } = {}) {
  const source = fs.readFileSync(FILE, 'utf8');
  let cachedData;
  if (cache) {
    try {
      if (fs.statSync(CACHE_FILE).mtimeMs >= fs.statSync(FILE).mtimeMs) cachedData = fs.readFileSync(CACHE_FILE);
    } catch {
      // no cache: compiled as usual
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: FILE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(FILE), module, FILE, path.dirname(FILE));
  return { program: module.exports, script };
}
