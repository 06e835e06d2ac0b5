/**
 * A hold added while a real run is deleting: once `hold add` has returned, that run deletes no
 * file the hold matches (README, "Holds": how it is guaranteed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logLines, runCli } from '../helpers/cli.js';
import { bigTree, deletedLines, start, waitForDeletions } from '../helpers/spawned.js';
import { tempDir } from '../helpers/tree.js';

describe('a hold added during a real run', () => {
  it('protects from that run every matching file still there when hold add returns', async () => {
    const base = tempDir();
    const { old } = bigTree(base, 25_000);
    const logFile = path.join(base, 'cleanup.log');
    // names ending in 7 before the extension: a tenth of each folder
    const pattern = '*7.*';
    const matches = (file: string): boolean => /7\.[a-z]+$/.test(file);
    try {
      const run = start(['--log-file', logFile, '--json'], base);
      await waitForDeletions(logFile, 2_000);
      const added = await runCli(['hold', 'add', pattern, '--reason', 'case 4411'], { cwd: base });
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      // what the hold protects from now on: every matching old file still there
      const protectedNow = [...old].filter((f) => matches(f) && fs.existsSync(f));
      const { code } = await run.exit;
      expect(run.stderr()).toBe('');
      expect(code).toBe(0);
      expect(protectedNow.length).toBeGreaterThan(1_000); // the hold landed mid-run
      expect(protectedNow.filter((f) => !fs.existsSync(f))).toEqual([]);

      const log = fs.readFileSync(logFile, 'utf8');
      const deleted = new Set(deletedLines(log).paths);
      const kept = logLines(log).filter((l) => l.msg === 'cleanup: kept (on hold)');
      // each file kept is logged once, with the pattern; none of them was deleted
      expect(kept.every((l) => l.hold === pattern)).toBe(true);
      expect(new Set(kept.map((l) => l.path)).size).toBe(kept.length);
      expect(kept.filter((l) => deleted.has(l.path as string))).toEqual([]);
      const report = JSON.parse(run.stdout()) as { totals: { held: number; deleted: number } };
      expect(report.totals.held).toBe(kept.length);
      expect(report.totals.held).toBeGreaterThanOrEqual(protectedNow.length);
      // every old file is either deleted (with its line) or held
      expect(report.totals.deleted + report.totals.held).toBe(old.size);
      expect([...old].filter((f) => !fs.existsSync(f) && !deleted.has(f))).toEqual([]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  }, 120_000);
});
