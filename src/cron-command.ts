import type { CronAction, CronFlags } from './args.js';
import { type CommandContext, userName } from './command-context.js';
import { absolutePath, checkBaseDir, resolveBaseDir, resolveDays } from './config.js';
import { EXIT } from './errors.js';
import { formatDays } from './format.js';

/** `cron install|show|remove`: the daily job in the user's crontab. */
export async function cronCommand(action: CronAction, flags: CronFlags, ctx: CommandContext): Promise<number> {
  // loaded here, not at start-up: a plain cleanup has no use for it
  const { Crontab, DEFAULT_CRON_LOG, DEFAULT_CRON_TIME, checkCronLogFile, checkCronPath, cronLine, findCrontab, findOurLine, parseCronTime, programPath, withOurLine, withoutOurLine } =
    await import('./cron.js');
  // Validate everything before touching the crontab, as the cleanup itself would validate it:
  // a line that the job then refuses fails silently every night.
  const time = parseCronTime(flags.time ?? DEFAULT_CRON_TIME);
  const user = userName();
  if (action !== 'install') {
    const crontab = new Crontab(findCrontab(ctx.env.PATH));
    const current = crontab.read();
    const ours = findOurLine(current);
    if (action === 'show') {
      if (ours === undefined) {
        ctx.stderr.write(`vigint-cleanup: no vigint-cleanup line in the crontab of ${user}\n`);
        return EXIT.partial;
      }
      ctx.stdout.write(`${ours}\n`);
      return EXIT.ok;
    }
    if (ours === undefined) {
      ctx.stdout.write(`No vigint-cleanup line in the crontab of ${user}; nothing changed.\n`);
      return EXIT.ok;
    }
    crontab.write(withoutOurLine(current));
    ctx.stdout.write(`Removed from the crontab of ${user}:\n${ours}\n`);
    return EXIT.ok;
  }
  const days = resolveDays(flags.days, ctx.env);
  const baseDir = checkCronPath(resolveBaseDir(flags.baseDir, ctx.env, ctx.cwd), 'the base folder');
  checkBaseDir(baseDir);
  const logFile = checkCronPath(absolutePath(flags.logFile ?? DEFAULT_CRON_LOG, ctx.cwd, '--log-file'), 'the log file');
  checkCronLogFile(logFile);
  const node = checkCronPath(process.execPath, 'the node program');
  const program = checkCronPath(programPath(), 'the vigint-cleanup program');
  const line = cronLine({ ...time, node, program, baseDir, days, logFile });
  const crontab = new Crontab(findCrontab(ctx.env.PATH));
  const current = crontab.read();
  const ours = findOurLine(current);
  crontab.write(withOurLine(current, line));
  const hhmm = `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
  ctx.stdout.write(
    `${ours === undefined ? 'Installed in' : 'Replaced in'} the crontab of ${user}:\n${line}\n` +
      `Every day at ${hhmm}, files in ${baseDir} older than ${formatDays(days)} are deleted; output is appended to ${logFile}.\n` +
      `The job runs in ${baseDir}: the .env it reads is ${baseDir}/.env.\n` +
      'Check it with: vigint-cleanup cron show (or crontab -l); remove it with: vigint-cleanup cron remove\n',
  );
  return EXIT.ok;
}
