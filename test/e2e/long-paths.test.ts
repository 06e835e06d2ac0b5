import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DAY, tempDir } from '../helpers/tree.js';

/**
 * A base folder whose path is near PATH_MAX (4,096 bytes): the largest folder is swept from the
 * working directory with bare names, by both workers (the smaller folder's worker helps with it),
 * so a path too long to name whole must not fail there.
 */
function longBase(): { root: string; base: string } {
  const root = tempDir('vigint-long-');
  let base = root;
  // segments of at most 250 characters, up to exactly 4,032 characters in all
  while (base.length < 4_032) base = path.join(base, 'd'.repeat(Math.min(250, 4_032 - base.length - 1)));
  fs.mkdirSync(base, { recursive: true });
  const old = new Date(Date.now() - 40 * DAY);
  const make = (folder: string, names: string[]): void => {
    fs.mkdirSync(path.join(base, folder));
    for (const name of names) {
      const p = path.join(base, folder, name);
      fs.writeFileSync(p, 'x');
      fs.utimesSync(p, old, old);
    }
  };
  make('offline_incidents', Array.from({ length: 600 }, (_, i) => `offline_incident_${i}.txt`));
  make('mock_sparse_ai_cloud', Array.from({ length: 100 }, (_, i) => `v${i}.mp4`));
  return { root, base };
}

describe('a base folder with a path of 4,032 characters', () => {
  it('the dry run and the real run agree: every old file deleted, no ENAMETOOLONG', async () => {
    const { root, base } = longBase();
    try {
      expect(base.length).toBe(4_032);
      const log = path.join(root, 'c.log');
      const dry = await runCli(['--base-dir', base, '--dry-run', '--json', '--log-file', log], { cwd: '/' });
      expect(dry.code).toBe(0);
      expect((JSON.parse(dry.stdout) as { totals: { toDelete: number } }).totals.toDelete).toBe(700);
      const real = await runCli(['--base-dir', base, '--json', '--log-file', log], { cwd: '/' });
      const doc = JSON.parse(real.stdout) as { totals: { deleted: number; failed: number }; errors: unknown[] };
      expect(doc.errors).toEqual([]);
      expect(doc.totals).toMatchObject({ deleted: 700, failed: 0 });
      expect(real.code).toBe(0);
      expect(fs.readdirSync(path.join(base, 'offline_incidents'))).toEqual([]);
      expect(fs.readdirSync(path.join(base, 'mock_sparse_ai_cloud'))).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
