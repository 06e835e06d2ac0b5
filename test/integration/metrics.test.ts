import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup.js';
import { formatMetrics, metricsInputFromResult, writeMetricsFile } from '../../src/metrics.js';
import { fileSystemsOf } from '../../src/mounts.js';
import { recordRealRunEnd } from '../../src/run-end.js';
import { readState, recordRunEnd } from '../../src/state.js';
import { ROOT } from '../helpers/cli.js';
import { memoryLogger } from '../helpers/logger.js';
import { DAY, makeTree, tempDir } from '../helpers/tree.js';

const T0 = Date.UTC(2026, 10, 25, 3, 0, 0);

/** Sample lines as name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+\{[^}]*\}) (\S+)$/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('the metrics file of a real run', () => {
  it('holds the figures of the result, passes promtool check metrics, and leaves no temporary file', async () => {
    // a base folder whose label value needs every escape of the format
    const base = path.join(tempDir(), 'base "q" back\\slash');
    fs.mkdirSync(base);
    makeTree(
      base,
      {
        'offline_incidents/offline_incident_old1.txt': { ageDays: 40, size: 100 },
        'offline_incidents/offline_incident_old2.txt': { ageDays: 35, size: 20 },
        'offline_incidents/offline_incident_new.txt': { ageDays: 10, size: 7 },
        'mock_sparse_ai_cloud/a.mp4': { ageDays: 50, size: 1000 },
        'mock_sparse_ai_cloud/a.json': { ageDays: 2, size: 30 },
      },
      T0,
    );
    const { logger } = memoryLogger();
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: false, categories: ['incidents', 'videos'], logger, now: () => T0 });
    const endMs = T0 + 1500;
    recordRunEnd(base, { startMs: T0, endMs, exitStatus: 0 });
    const out = tempDir('vigint-metrics-');
    const file = path.join(out, 'vigint_cleanup.prom');
    const input = metricsInputFromResult(result, { endMs, exitStatus: 0, oldestMtimeMs: { incidents: T0 - 10 * DAY } });
    expect(writeMetricsFile(file, input)).toBeUndefined();

    expect(fs.readdirSync(out)).toEqual(['vigint_cleanup.prom']);
    const text = fs.readFileSync(file, 'utf8');
    const check = promtool(text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);

    const s = samples(text);
    const b = `base_dir="${base.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    expect(b).toContain('\\"q\\" back\\\\slash');
    expect(s.get(`vigint_cleanup_last_run_timestamp_seconds{${b}}`)).toBe(T0 / 1000);
    expect(s.get(`vigint_cleanup_last_success_timestamp_seconds{${b}}`)).toBe(T0 / 1000);
    expect(s.get(`vigint_cleanup_last_run_duration_seconds{${b}}`)).toBe(1.5);
    expect(s.get(`vigint_cleanup_last_run_exit_code{${b}}`)).toBe(0);
    for (const id of ['incidents', 'videos'] as const) {
      const c = result.categories[id];
      if (!c) throw new Error(`no ${id} in the result`);
      const l = `${b},category="${id}"`;
      expect(s.get(`vigint_cleanup_deleted_files{${l}}`)).toBe(c.deleted);
      expect(s.get(`vigint_cleanup_freed_bytes{${l}}`)).toBe(c.bytesFreed);
      expect(s.get(`vigint_cleanup_failed{${l}}`)).toBe(c.failed);
      expect(s.get(`vigint_cleanup_held_files{${l}}`)).toBe(0);
      expect(s.get(`vigint_cleanup_files{${l}}`)).toBe(c.found - c.deleted);
      expect(s.get(`vigint_cleanup_bytes{${l}}`)).toBe(c.bytesFound - c.bytesFreed);
    }
    // the figures themselves, so that the equalities above cannot pass on zeros
    expect(s.get(`vigint_cleanup_deleted_files{${b},category="incidents"}`)).toBe(2);
    expect(s.get(`vigint_cleanup_freed_bytes{${b},category="videos"}`)).toBe(1000);
    expect(s.get(`vigint_cleanup_bytes{${b},category="incidents"}`)).toBe(7);
    expect(s.get(`vigint_cleanup_oldest_file_age_seconds{${b},category="incidents"}`)).toBe(10 * 86_400 + 1.5);
    const [fsys] = fileSystemsOf([path.join(base, 'offline_incidents')]);
    const free = s.get(`vigint_cleanup_filesystem_free_bytes{${b},mount="${fsys?.mount}"}`);
    expect(free).toBeGreaterThan(0);
    expect(Math.abs((free ?? 0) - (fsys?.freeBytes ?? 0))).toBeLessThan(64 * 1024 ** 2);
  });

  it('after a failed run: exit code 1, the last success from the state file; promtool still passes', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } }, T0);
    recordRunEnd(base, { startMs: T0 - DAY, endMs: T0 - DAY + 1, exitStatus: 0 });
    const { logger } = memoryLogger();
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: false, categories: ['incidents'], logger, now: () => T0 });
    const input = metricsInputFromResult(result, { endMs: T0 + 10, exitStatus: 1 });
    expect(input.lastSuccessStartMs).toBe(T0 - DAY);
    const file = path.join(tempDir('vigint-metrics-'), 'm.prom');
    writeMetricsFile(file, input);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain(`vigint_cleanup_last_run_exit_code{base_dir="${base}"} 1\n`);
    expect(text).toContain(`vigint_cleanup_last_success_timestamp_seconds{base_dir="${base}"} ${(T0 - DAY) / 1000}\n`);
    expect(promtool(text).status).toBe(0);
  });

  it('promtool tells a broken file from ours (the check can fail)', () => {
    expect(promtool('# TYPE x gauge\nx{a="b} 1\n').status).not.toBe(0);
  });

  it('a metrics file that cannot be written is returned, not thrown, and leaves no temporary file', () => {
    const dir = tempDir('vigint-metrics-');
    fs.mkdirSync(path.join(dir, 'm.prom')); // a folder in the way: the rename fails
    const failure = writeMetricsFile(path.join(dir, 'm.prom'), {
      baseDir: dir,
      lastRunStartMs: T0,
      lastRunEndMs: T0,
      exitStatus: 0,
      categories: [],
      filesystems: [],
    });
    expect(failure?.path).toBe(path.join(dir, 'm.prom'));
    expect(failure?.code).toMatch(/^E/);
    expect(fs.readdirSync(dir)).toEqual(['m.prom']);
  });
});

describe('resolveMetricsFile', async () => {
  const { resolveMetricsFile } = await import('../../src/metrics-config.js');
  const dir = tempDir('vigint-metrics-');
  const code = (f: () => unknown): unknown => {
    try {
      f();
      return 'no error';
    } catch (err) {
      return (err as { exitStatus?: number }).exitStatus;
    }
  };

  it('flag over variable, relative to the current folder; unset or empty variable: none', () => {
    expect(resolveMetricsFile('m.prom', { VIGINT_METRICS_FILE: '/nowhere/x.prom' }, dir)).toBe(path.join(dir, 'm.prom'));
    expect(resolveMetricsFile(undefined, { VIGINT_METRICS_FILE: path.join(dir, 'v.prom') }, '/')).toBe(path.join(dir, 'v.prom'));
    expect(resolveMetricsFile(undefined, {}, dir)).toBeUndefined();
    expect(resolveMetricsFile(undefined, { VIGINT_METRICS_FILE: '' }, dir)).toBeUndefined();
  });

  it('usage errors (exit 2): an empty flag, a missing folder, a folder as the file', () => {
    expect(code(() => resolveMetricsFile('', {}, dir))).toBe(2);
    expect(code(() => resolveMetricsFile(path.join(dir, 'no/m.prom'), {}, dir))).toBe(2);
    expect(code(() => resolveMetricsFile(undefined, { VIGINT_METRICS_FILE: path.join(dir, 'no/m.prom') }, dir))).toBe(2);
    expect(code(() => resolveMetricsFile(dir, {}, '/'))).toBe(2);
  });
});

describe("the README's alert rules", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const rules = /```yaml\n(groups:[\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it('are valid for promtool check rules', () => {
    const dir = tempDir('vigint-rules-');
    fs.writeFileSync(path.join(dir, 'rules.yml'), rules);
    const r = spawnSync('promtool', ['check', 'rules', path.join(dir, 'rules.yml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS: 3 rules found');
    expect(r.status).toBe(0);
  });

  it('"no success in 48 h" fires after 48 h without a success, not at 47 h (promtool test rules)', () => {
    const dir = tempDir('vigint-rules-');
    fs.writeFileSync(path.join(dir, 'rules.yml'), rules);
    fs.writeFileSync(
      path.join(dir, 'test.yml'),
      [
        'rule_files: [rules.yml]',
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        // a success at time 0, never again; promtool's clock starts at 0
        `      - series: 'vigint_cleanup_last_success_timestamp_seconds{base_dir="/srv/vigint"}'`,
        "        values: '0x3000'",
        '    alert_rule_test:',
        '      - eval_time: 47h',
        '        alertname: VigintCleanupNoSuccess',
        '        exp_alerts: []',
        '      - eval_time: 49h',
        '        alertname: VigintCleanupNoSuccess',
        '        exp_alerts:',
        '          - exp_labels: { severity: critical, base_dir: /srv/vigint }',
        '            exp_annotations:',
        '              summary: "vigint-cleanup has not succeeded for 48 h on  (/srv/vigint)"',
        '',
      ].join('\n'),
    );
    const r = spawnSync('promtool', ['test', 'rules', 'test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('name only metrics the file holds', () => {
    const written = new Set(
      [...formatMetrics({ baseDir: '/b', lastRunStartMs: 0, lastRunEndMs: 0, exitStatus: 0, categories: [], filesystems: [] }).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]),
    );
    const named = [...rules.matchAll(/\b(vigint_cleanup_\w+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(written).toContain(name);
  });
});

describe('recordRealRunEnd: what follows a real run', () => {
  it('records the end in the state file and writes the metrics; a metrics file that cannot be written is a returned warning', async () => {
    const base = tempDir();
    makeTree(base, { 'offline_incidents/offline_incident_1.txt': { ageDays: 40 } }, T0);
    const { logger } = memoryLogger();
    const result = await runCleanup({ baseDir: base, days: 30, dryRun: false, categories: ['incidents'], logger, now: () => T0 });
    const file = path.join(tempDir('vigint-metrics-'), 'v.prom');
    expect(await recordRealRunEnd({ result, endMs: T0 + 100, exitStatus: 0, metricsFile: file })).toEqual({ state: undefined, metrics: undefined });
    expect(readState(base)).toMatchObject({ kind: 'ok', lastSuccessStartMs: T0, lastFinished: { endMs: T0 + 100, exitStatus: 0 } });
    expect(promtool(fs.readFileSync(file, 'utf8')).status).toBe(0);

    const failures = await recordRealRunEnd({ result, endMs: T0 + 200, exitStatus: 1, metricsFile: path.join(base, 'no', 'v.prom') });
    expect(failures.state).toBeUndefined();
    expect(failures.metrics?.code).toBe('ENOENT');
    expect(readState(base)).toMatchObject({ kind: 'ok', lastSuccessStartMs: T0, lastFinished: { exitStatus: 1 } });
  });
});
