import { describe, expect, it } from 'vitest';
import { serviceUnit, timerUnit, unitPathValue, unitWord, writableFolders } from '../../src/systemd.js';

const job = { hour: 3, minute: 0, node: '/usr/bin/node', program: '/opt/v/bin/vigint-cleanup.js', baseDir: '/srv/vigint', days: 30 };
const line = (unit: string, key: string): string | undefined => unit.split('\n').find((l) => l.startsWith(`${key}=`));

describe('unit words', () => {
  it('plain words stay; others are double-quoted with \\ and " escaped; % always doubled; $ doubled in arguments only', () => {
    expect(unitWord('/srv/vigint', true)).toBe('/srv/vigint');
    expect(unitWord('/srv/50%', true)).toBe('/srv/50%%');
    expect(unitWord('/srv/a b', true)).toBe('"/srv/a b"');
    expect(unitWord('/srv/$HOME x', true)).toBe('"/srv/$$HOME x"');
    expect(unitWord('/srv/$HOME x', false)).toBe('"/srv/$HOME x"');
    expect(unitWord('/srv/"q" a\\b', false)).toBe('"/srv/\\"q\\" a\\\\b"');
  });

  it('a single-path setting: specifiers only; a trailing space or backslash and control characters refused', () => {
    expect(unitPathValue('/srv/a b 5%', 'x')).toBe('/srv/a b 5%%');
    expect(() => unitPathValue('/srv/a ', 'x')).toThrow(/space or a backslash/);
    expect(() => unitPathValue('/srv/a\\', 'x')).toThrow(/space or a backslash/);
    expect(() => unitPathValue('/srv/a\tb', 'x')).toThrow(/control character/);
  });
});

describe('serviceUnit', () => {
  it('PrivateTmp=yes when nothing it writes is under /tmp or /var/tmp', () => {
    expect(line(serviceUnit(job), 'PrivateTmp')).toBe('PrivateTmp=yes');
    expect(line(serviceUnit({ ...job, logFile: '/var/log/v.log' }), 'PrivateTmp')).toBe('PrivateTmp=yes');
    expect(line(serviceUnit({ ...job, logFile: '/tmp/vigint_cleanup.log' }), 'PrivateTmp')).toBeUndefined();
    expect(line(serviceUnit({ ...job, metricsFile: '/var/tmp/m.prom' }), 'PrivateTmp')).toBeUndefined();
    expect(line(serviceUnit({ ...job, baseDir: '/tmp/v' }), 'PrivateTmp')).toBeUndefined();
  });

  it('ReadWritePaths: the base folder, the log and metrics folders, once each; linked category folders optional (-)', () => {
    expect(line(serviceUnit({ ...job, logFile: '/srv/vigint/logs/c.log', metricsFile: '/var/lib/ne/v.prom', extraWritable: ['/mnt/disk/videos', '/srv/vigint/x'] }), 'ReadWritePaths')).toBe(
      'ReadWritePaths=/srv/vigint /var/lib/ne -/mnt/disk/videos',
    );
    expect(writableFolders({ ...job, baseDir: '/srv/vigint/data', logFile: '/srv/vigint/c.log' }).required).toEqual(['/srv/vigint']);
  });

  it('ExecStart: node, the program, the base folder, the retention, then the log and metrics files when given', () => {
    expect(line(serviceUnit({ ...job, days: 0.5, logFile: '/var/log/v.log' }), 'ExecStart')).toBe(
      'ExecStart=/usr/bin/node /opt/v/bin/vigint-cleanup.js --base-dir /srv/vigint --days 0.5 --log-file /var/log/v.log',
    );
    expect(line(serviceUnit({ ...job, metricsFile: '/var/lib/ne/v.prom' }), 'ExecStart')).toBe(
      'ExecStart=/usr/bin/node /opt/v/bin/vigint-cleanup.js --base-dir /srv/vigint --days 30 --metrics-file /var/lib/ne/v.prom',
    );
  });
});

describe('timerUnit', () => {
  it('daily at HH:MM:00, persistent, wanted by timers.target', () => {
    const t = timerUnit({ hour: 7, minute: 5 });
    expect(line(t, 'OnCalendar')).toBe('OnCalendar=*-*-* 07:05:00');
    expect(line(t, 'Persistent')).toBe('Persistent=true');
    expect(line(t, 'WantedBy')).toBe('WantedBy=timers.target');
  });
});
