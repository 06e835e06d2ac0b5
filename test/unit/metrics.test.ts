import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatMetrics } from '../../src/metrics.js';
import { mountPointOf, parseMountInfo } from '../../src/mounts.js';

describe('escapeLabelValue', () => {
  it('escapes backslash, double quote and newline, and nothing else', () => {
    expect(escapeLabelValue('/srv/a "b"\\c\nd é')).toBe('/srv/a \\"b\\"\\\\c\\nd é');
  });
});

describe('formatMetrics', () => {
  const input = {
    baseDir: '/srv/vi"gint',
    lastRunStartMs: 1_764_000_000_000,
    lastRunEndMs: 1_764_000_002_500,
    exitStatus: 1,
    lastSuccessStartMs: undefined,
    categories: [
      { category: 'incidents', deletedFiles: 3, freedBytes: 30, failed: 1, heldFiles: 0, files: 5, bytes: 50, oldestFileAgeSeconds: 86_400.25 },
      { category: 'videos', deletedFiles: 0, freedBytes: 0, failed: 0, heldFiles: 2, files: 0, bytes: 0, oldestFileAgeSeconds: undefined },
    ],
    filesystems: [{ mount: '/mnt/data disk', sizeBytes: 1000, freeBytes: 400 }],
  };
  const text = formatMetrics(input);
  const sample = (line: string): boolean => text.split('\n').includes(line);

  it('writes each value with its labels', () => {
    expect(sample('vigint_cleanup_last_run_timestamp_seconds{base_dir="/srv/vi\\"gint"} 1764000000')).toBe(true);
    expect(sample('vigint_cleanup_last_run_duration_seconds{base_dir="/srv/vi\\"gint"} 2.5')).toBe(true);
    expect(sample('vigint_cleanup_last_run_exit_code{base_dir="/srv/vi\\"gint"} 1')).toBe(true);
    expect(sample('vigint_cleanup_last_success_timestamp_seconds{base_dir="/srv/vi\\"gint"} 0')).toBe(true);
    expect(sample('vigint_cleanup_deleted_files{base_dir="/srv/vi\\"gint",category="incidents"} 3')).toBe(true);
    expect(sample('vigint_cleanup_held_files{base_dir="/srv/vi\\"gint",category="videos"} 2')).toBe(true);
    expect(sample('vigint_cleanup_oldest_file_age_seconds{base_dir="/srv/vi\\"gint",category="incidents"} 86400.25')).toBe(true);
    expect(sample('vigint_cleanup_filesystem_free_bytes{base_dir="/srv/vi\\"gint",mount="/mnt/data disk"} 400')).toBe(true);
  });

  it('leaves out an unknown value rather than inventing one', () => {
    expect(text).not.toMatch(/oldest_file_age_seconds\{[^}]*category="videos"/);
  });

  it('has one HELP and one TYPE gauge line before the samples of each family, and ends with a newline', () => {
    const names = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      const lines = text.split('\n');
      const help = lines.indexOf(lines.find((l) => l.startsWith(`# HELP ${name} `)) ?? '');
      expect(lines[help + 1]).toBe(`# TYPE ${name} gauge`);
      expect(lines[help + 2]?.startsWith(`${name}{`)).toBe(true);
    }
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('mount points from /proc/self/mountinfo', () => {
  const mountinfo = [
    '22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw',
    '30 22 8:17 / /mnt/data\\040disk rw,relatime shared:5 - ext4 /dev/sdb1 rw',
    '31 22 0:40 / /mnt/data rw - tmpfs tmpfs rw',
    '32 31 0:41 / /mnt/data rw - xfs /dev/sdc1 rw',
  ].join('\n');
  const mounts = parseMountInfo(mountinfo);

  it('unescapes octal escapes and reads the type after the separator', () => {
    expect(mounts[1]).toEqual({ mountPoint: '/mnt/data disk', fsType: 'ext4', source: '/dev/sdb1' });
  });

  it('the longest mount point holding the path; never a mere name prefix', () => {
    expect(mountPointOf('/mnt/data disk/v', mounts)).toBe('/mnt/data disk');
    expect(mountPointOf('/mnt/data/v', mounts)).toBe('/mnt/data');
    expect(mountPointOf('/mnt/database', mounts)).toBe('/');
    expect(mountPointOf('/srv', [])).toBe('/');
  });
});
