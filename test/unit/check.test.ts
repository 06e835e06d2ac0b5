import { describe, expect, it } from 'vitest';
import { type CheckInput, evaluateCheck } from '../../src/check.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const H = 3_600_000;

const input = (over: Partial<CheckInput> = {}): CheckInput => ({
  nowMs: NOW,
  statePath: '/srv/v/.vigint-cleanup-state.json',
  state: { kind: 'ok', lastRunStartMs: NOW - 2 * H, lastFinished: { startMs: NOW - 2 * H, endMs: NOW - 2 * H + 1000, exitStatus: 0 }, lastSuccessStartMs: NOW - 2 * H },
  maxAgeHours: 48,
  retentionDays: 30,
  pastRetention: { files: 0, bytes: 0 },
  unreadable: { count: 0 },
  filesystems: [{ mount: '/srv', sizeBytes: 1000, freeBytes: 300 }],
  minFree: undefined,
  ...over,
});

describe('evaluateCheck', () => {
  it('OK: a recent success, nothing past the retention, room enough', () => {
    const r = evaluateCheck(input({ minFree: { raw: '20%', target: { kind: 'percent', percent: 20 } } }));
    expect(r.status).toBe(0);
    expect(r.line).toBe(
      'VIGINT-CLEANUP OK - last successful cleanup 2.0h ago, no file more than a day past the 30-day retention, 300 B free on /srv | last_run_age=7200s last_success_age=7200s;;172800;0; files_past_retention=0;;0;0; free=300B;;200:;0;1000',
    );
  });

  it('the free space of the tightest file system in the perfdata; each one under the target named', () => {
    const r = evaluateCheck(
      input({
        filesystems: [
          { mount: '/a', sizeBytes: 1000, freeBytes: 500 },
          { mount: '/b', sizeBytes: 100, freeBytes: 5 },
        ],
        minFree: { raw: '10%', target: { kind: 'percent', percent: 10 } },
      }),
    );
    expect(r.status).toBe(2);
    expect(r.line).toContain('5 B free on /b, under --min-free 10% (10 B)');
    expect(r.line).not.toContain('free on /a');
    expect(r.line).toMatch(/ free=5B;;10:;0;100$/);
  });

  it('an unreadable state file is UNKNOWN, but a CRITICAL found beside it wins, worst named first', () => {
    const unreadable = input({ state: { kind: 'invalid', reason: 'unreadable (EACCES)' } });
    expect(evaluateCheck(unreadable).status).toBe(3);
    const r = evaluateCheck({ ...unreadable, pastRetention: { files: 2, bytes: 2048 } });
    expect(r.status).toBe(2);
    expect(r.line).toMatch(/^VIGINT-CLEANUP CRITICAL - 2 file\(s\), 2\.00 KB, more than a day past .*; cannot read the state file/);
  });

  it('a corrupt state file is a WARNING; an interrupted last run too', () => {
    expect(evaluateCheck(input({ state: { kind: 'invalid', reason: 'not JSON' } })).status).toBe(1);
    const interrupted = evaluateCheck(
      input({ state: { kind: 'ok', lastRunStartMs: NOW - H, lastFinished: { startMs: NOW - H, endMs: NOW - H + 5, exitStatus: 143 }, lastSuccessStartMs: NOW - 20 * H } }),
    );
    expect(interrupted.status).toBe(1);
    expect(interrupted.line).toContain('exit status 143: it was interrupted');
  });

  it('a state file dated in the future (a clock that ran ahead) is a WARNING, not OK', () => {
    const later = NOW + 30 * 24 * H;
    const r = evaluateCheck(input({ state: { kind: 'ok', lastRunStartMs: later, lastFinished: { startMs: later, endMs: later + 1000, exitStatus: 0 }, lastSuccessStartMs: later } }));
    expect(r.status).toBe(1);
    expect(r.line).toMatch(/^VIGINT-CLEANUP WARNING - the state file \S+ records a run 30\.0 days in the future: check the clock/);
  });

  it('a | in a path cannot break the perfdata apart', () => {
    const r = evaluateCheck(input({ filesystems: [{ mount: '/mnt/a|b', sizeBytes: 10, freeBytes: 5 }] }));
    expect(r.line.split('|')).toHaveLength(2);
  });
});
