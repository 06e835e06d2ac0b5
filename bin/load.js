// Loads the program (bundle/cli.cjs, built by scripts/bundle.js) with V8's code cache
// (bundle/cli.cjs.cache, made at build time by a run of the program): the functions a run uses
// come compiled, not parsed and compiled again at each start. Node 22 does this for every module
// (module.enableCompileCache); Node 20 does not.
//
// V8 refuses a cache of another Node or of other V8 flags, but it checks the source only by its
// length: given a cache of another program of the same length, it would run that other program.
// So the cache file holds the exact source it was made from, and is used only when that is the
// source read now, byte for byte (a memory compare, ~30 µs): whatever happened to the files
// (mtimes reset by npm or tar, a bundle edited in place), the program that runs is the one on
// disk. A cache that is missing, not a regular file, or does not match is not used.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const FILE = fileURLToPath(new URL('../bundle/cli.cjs', import.meta.url));
export const CACHE_FILE = `${FILE}.cache`;

/** A regular file's bytes, or undefined if it is not one; never waits on a FIFO. */
function readRegularFile(file) {
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** A cache file: the source's length (8 bytes), the source, then V8's data. */
export function cacheFile(source, data) {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(source.length));
  return Buffer.concat([head, source, data]);
}

/** V8's data in `cache` when it was made from `source`, else undefined. */
function cachedDataFor(source, cache) {
  if (cache === undefined || cache.length < 8) return undefined;
  const length = Number(cache.readBigUInt64LE(0));
  if (length !== source.length || cache.length < 8 + length) return undefined;
  return source.equals(cache.subarray(8, 8 + length)) ? cache.subarray(8 + length) : undefined;
}

/**
 * The program's exports, its compiled script and its source (scripts/bundle.js makes the cache
 * from them). `cache: false`: compiled without the cache.
 */
export function loadProgram({ cache = true } = {}) {
  const source = readRegularFile(FILE);
  if (source === undefined) throw new Error(`${FILE} is missing or not a file: run npm run build`);
  const cachedData = cache ? cachedDataFor(source, readRegularFile(CACHE_FILE)) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`, { filename: FILE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(FILE), module, FILE, path.dirname(FILE));
  return { program: module.exports, script, source, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}
