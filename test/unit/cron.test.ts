import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CRON_MARKER, checkCronPath, cronLine, cronWord, findOurLine, parseCronTime, withOurLine, withoutOurLine } from '../../src/cron.js';
import { CleanupError } from '../../src/errors.js';

const job = { hour: 3, minute: 0, node: '/usr/bin/node', program: '/opt/vc/bin/vigint-cleanup.js', baseDir: '/srv/vigint', days: 30, logFile: '/tmp/vigint_cleanup.log' };

describe('parseCronTime', () => {
  it.each([
    ['03:00', 3, 0],
    ['3:00', 3, 0],
    ['23:59', 23, 59],
    ['00:00', 0, 0],
  ])('accepts %s', (raw, hour, minute) => expect(parseCronTime(raw)).toEqual({ hour, minute }));
  it.each(['25:00', '24:00', '3', '03:60', '3:5', 'noon', '', '03:00pm', '-1:00'])('refuses %j with exit status 2', (raw) => {
    expect(() => parseCronTime(raw)).toThrow(CleanupError);
    expect(() => parseCronTime(raw)).toThrow(/expected HH:MM on a 24-hour clock/);
  });
});

describe('cronLine', () => {
  it('runs in the base folder, absolute paths, the retention, output appended to the log, our marker', () => {
    expect(cronLine(job)).toBe(
      `0 3 * * * (cd /srv/vigint && /usr/bin/node /opt/vc/bin/vigint-cleanup.js --base-dir /srv/vigint --days 30) >> /tmp/vigint_cleanup.log 2>&1 ${CRON_MARKER}`,
    );
  });

  it('writes the retention as --days reads it: no exponent', () => {
    expect(cronLine({ ...job, days: 0.0000001 })).toContain(' --days 0.0000001) ');
    expect(cronLine({ ...job, days: 1e-11 })).toContain(' --days 0.00000000001) ');
    expect(cronLine({ ...job, days: 0.5 })).toContain(' --days 0.5) ');
  });

  it('quotes the base folder for cd too: what sh makes of the line is the folder itself', () => {
    const baseDir = "/srv/my data/it's 100%";
    const line = cronLine({ ...job, baseDir, node: 'printf', program: '%s|' });
    const command = line.split(' * * * ')[1]?.replace(/ >> .*$/, '').replace(/\\%/g, '%') as string;
    // cd into a folder that does not exist here fails: check what cd and printf are given instead
    const shown = execFileSync('sh', ['-c', command.replace(/^\(cd /, '(printf "%s|" ').replace(' && ', '; ')], { encoding: 'utf8' });
    expect(shown).toBe(`${baseDir}|--base-dir|${baseDir}|--days|30|`);
  });

  it('quotes spaces and quotes for sh, and escapes % for cron', () => {
    expect(cronWord("/srv/my data/it's")).toBe(`'/srv/my data/it'\\''s'`);
    expect(cronWord('/srv/100%')).toBe("'/srv/100\\%'");
    // what sh makes of the quoted word (after cron has turned \% back into %) is the word itself
    for (const word of ["/srv/my data/it's", '/a b/$HOME/`x`', '/srv/100%']) {
      const asCronRuns = cronWord(word).replace(/\\%/g, '%');
      expect(execFileSync('sh', ['-c', `printf %s ${asCronRuns}`], { encoding: 'utf8' })).toBe(word);
    }
  });
});

describe('editing the crontab', () => {
  const theirs = '# my jobs\nMAILTO=ops@example.com\n*/5 * * * * /usr/local/bin/check   # keep my spacing\n\n';
  const line = cronLine(job);

  it('adds our line at the end and keeps every other byte', () => {
    expect(withOurLine(theirs, line)).toBe(`${theirs}${line}\n`);
    expect(withOurLine('', line)).toBe(`${line}\n`);
  });

  it('replaces our line where it is, once, wherever it stood', () => {
    const installed = `# a\n${cronLine({ ...job, hour: 1 })}\n# b\n`;
    expect(withOurLine(installed, line)).toBe(`# a\n# b\n${line}\n`);
    expect(withOurLine(withOurLine(theirs, line), line)).toBe(`${theirs}${line}\n`);
  });

  it('a commented-out line with our marker is the user\'s: never shown, replaced or removed', () => {
    const commented = `# ${line}\n   #${line}\n`;
    const withOld = `${theirs}${commented}`;
    expect(findOurLine(withOld)).toBeUndefined();
    expect(withoutOurLine(withOld)).toBe(withOld);
    expect(withOurLine(withOld, line)).toBe(`${withOld}${line}\n`);
    expect(withoutOurLine(withOurLine(withOld, line))).toBe(withOld);
  });

  it('removing gives back the crontab exactly as it was', () => {
    expect(withoutOurLine(withOurLine(theirs, line))).toBe(theirs);
    expect(withoutOurLine(theirs)).toBe(theirs);
    expect(findOurLine(withOurLine(theirs, line))).toBe(line);
    expect(findOurLine(theirs)).toBeUndefined();
  });
});

describe('checkCronPath', () => {
  it('refuses a line break (it would end the crontab line), exit status 2', () => {
    for (const bad of ['/srv/a\nb', '/srv/a\rb']) {
      expect(() => checkCronPath(bad, 'the base folder')).toThrow(CleanupError);
      expect(() => checkCronPath(bad, 'the base folder')).toThrow(/contains a line break/);
    }
    expect(checkCronPath("/srv/my data/it's", 'the base folder')).toBe("/srv/my data/it's");
  });
});
