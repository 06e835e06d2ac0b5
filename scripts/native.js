// npm install runs this (package.json "install"): builds the native scanner (native/scan.c) with
// the node-gyp that npm carries. Without it, vigint-cleanup still works: its scans use Node's fs,
// to the same result, slower on large folders (README, "Performance"). So a failed build is a
// warning, not a failed install; `npm test` checks that the scanner was built.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// npm tells its scripts where its node-gyp is; run by hand, the one on the PATH
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `node-gyp exited ${r.status ?? r.signal}`;
  // what went wrong, without node-gyp's own chatter (its `gyp info` lines, its stack)
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '' && !/^gyp (info|verb)|^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
  const tail = lines.slice(-25).join('\n');
  console.warn(`vigint-cleanup: the native scanner was not built (${why}); folders are read with Node's fs instead: the same files, slower on large folders.${tail ? `\n${tail}` : ''}`);
}
