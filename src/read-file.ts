import fs from 'node:fs';

/**
 * Reads a small file of ours (.env, the state file, the hold file) as text, never blocking: it is
 * opened non-blocking and must be a regular file. A FIFO planted at that name would otherwise
 * hang the run (holding the lock) or the host's event loop until someone writes to it. Throws
 * the errno error (ENOENT for a missing file), EISDIR for a folder, EINVAL for a file of another
 * kind (a FIFO, a device).
 */
export function readRegularFile(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const stats = fs.fstatSync(fd);
    if (stats.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (!stats.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL' });
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
