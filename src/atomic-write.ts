import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from './random-hex.js';

/**
 * Replaces `file` in one step: the data goes to a new temporary file beside it, which is then
 * renamed over. The temporary name is random and created exclusively (O_EXCL, which also refuses
 * a symbolic link planted at that name): a base folder another user may write must not let them
 * redirect the write onto a file of ours. On failure the temporary file (ours) is removed.
 */
export function writeFileAtomic(file: string, data: string, mode = 0o644): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomHex(6)}.tmp`);
  let created = false;
  try {
    const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
    created = true;
    try {
      fs.writeFileSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    if (created) fs.rmSync(temp, { force: true });
    throw err;
  }
}
