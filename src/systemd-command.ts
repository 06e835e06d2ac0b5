import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Output } from './args.js';
import { CATEGORIES } from './categories.js';
import { type Env, absolutePath, checkBaseDir, resolveBaseDir, resolveDays } from './config.js';
import { DEFAULT_CRON_TIME, parseCronTime, programPath } from './cron.js';
import { CleanupError, EXIT, errnoCode, usageError } from './errors.js';
import { resolveMetricsFile } from './metrics-config.js';
import type { SystemdAction, SystemdFlags } from './monitor-args.js';
import { SERVICE_FILE, TIMER_FILE, UNIT_MARKER, checkUnitPath, serviceUnit, timerUnit } from './systemd.js';

export interface SystemdContext {
  readonly env: Env;
  readonly cwd: string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
}

/** Where the units go: VIGINT_SYSTEMD_DIR (tests, packaging), else the user's or the system's folder. */
function unitDir(user: boolean, env: Env): string {
  if (env.VIGINT_SYSTEMD_DIR) return path.resolve(env.VIGINT_SYSTEMD_DIR);
  if (!user) return '/etc/systemd/system';
  const config = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(config, 'systemd', 'user');
}

/** Units outside systemd's own folders (VIGINT_SYSTEMD_DIR) cannot be enabled; nor without systemd. */
const systemdRuns = (env: Env): boolean => !env.VIGINT_SYSTEMD_DIR && fs.existsSync('/run/systemd/system');

const systemctlArgs = (user: boolean, ...args: string[]): string[] => (user ? ['--user', ...args] : args);

function systemctl(user: boolean, env: Env, ...args: string[]): { ok: boolean; message: string } {
  const argv = systemctlArgs(user, ...args);
  const r = spawnSync('systemctl', argv, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error) return { ok: false, message: `systemctl ${argv.join(' ')}: ${r.error.message}` };
  return { ok: r.status === 0, message: `systemctl ${argv.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit status ${r.status}`}` };
}

/** The unit's text, or undefined when absent; someone else's file is an error, never touched. */
function readOurs(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new CleanupError(`cannot read ${file}: ${errnoCode(err)}`, EXIT.partial, errnoCode(err));
  }
  if (!text.startsWith(UNIT_MARKER)) {
    throw new CleanupError(`${file} was not written by vigint-cleanup; it was left as it is (rename or remove it yourself)`, EXIT.partial, 'ENOTOURS');
  }
  return text;
}

function writeUnit(file: string, text: string, user: boolean): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temp, text, { mode: 0o644 });
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    const code = errnoCode(err);
    const hint = !user && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') ? ' (system units need root: run it with sudo, or install for yourself with --user)' : '';
    throw new CleanupError(`cannot write ${file}: ${code}${hint}`, EXIT.partial, code);
  }
}

/** A category folder that is a link to another disk must be writable too. */
function linkedCategoryFolders(baseDir: string): string[] {
  const out: string[] = [];
  for (const c of CATEGORIES) {
    const dir = path.join(baseDir, c.folder);
    try {
      if (!fs.lstatSync(dir).isSymbolicLink()) continue;
      out.push(fs.realpathSync(dir));
    } catch {
      // missing, or a link to nothing (an unmounted disk): nothing to add now
    }
  }
  return out;
}

function nonEmptyPath(value: string | undefined, what: string): string | undefined {
  if (value === '') throw usageError(`invalid ${what} '': expected a path`);
  return value;
}

function install(flags: SystemdFlags, ctx: SystemdContext, dir: string): number {
  // Everything validated before a file is written.
  const user = flags.user === true;
  const time = parseCronTime(flags.time ?? DEFAULT_CRON_TIME);
  const days = resolveDays(flags.days, ctx.env);
  const baseDir = resolveBaseDir(nonEmptyPath(flags.baseDir, '--base-dir'), ctx.env, ctx.cwd);
  checkBaseDir(baseDir);
  checkUnitPath(baseDir, '--base-dir');
  const rawLog = nonEmptyPath(flags.logFile, '--log-file');
  const logFile = rawLog === undefined ? undefined : absolutePath(rawLog, ctx.cwd, '--log-file');
  if (logFile !== undefined && !fs.statSync(path.dirname(logFile), { throwIfNoEntry: false })?.isDirectory()) {
    throw usageError(`invalid --log-file '${rawLog}': the folder ${path.dirname(logFile)} does not exist`);
  }
  const metricsFile = resolveMetricsFile(flags.metricsFile, {}, ctx.cwd);
  const job = { ...time, node: process.execPath, program: programPath(), baseDir, days, logFile, metricsFile, extraWritable: linkedCategoryFolders(baseDir) };
  const service = serviceUnit(job);
  const timer = timerUnit(job);
  const serviceFile = path.join(dir, SERVICE_FILE);
  const timerFile = path.join(dir, TIMER_FILE);
  const had = readOurs(serviceFile) !== undefined || readOurs(timerFile) !== undefined;
  writeUnit(serviceFile, service, user);
  writeUnit(timerFile, timer, user);

  const hhmm = `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
  const scope = user ? '--user ' : '';
  ctx.stdout.write(
    `${had ? 'Replaced' : 'Installed'} ${serviceFile} and ${timerFile}:\n` +
      `every day at ${hhmm} (or at the next boot, if the machine was off), files in ${baseDir} older than ${days} days are deleted; ` +
      `${logFile ? `the log is appended to ${logFile}` : 'the log goes to the journal'}.\n`,
  );
  const commands = [['daemon-reload'], ['enable', '--now', TIMER_FILE]];
  if (!systemdRuns(ctx.env)) {
    ctx.stdout.write(`systemd is not running here${ctx.env.VIGINT_SYSTEMD_DIR ? ' (or the units are in VIGINT_SYSTEMD_DIR)' : ''}; to start the timer, run:\n`);
    for (const c of commands) ctx.stdout.write(`  systemctl ${systemctlArgs(user, ...c).join(' ')}\n`);
    return EXIT.ok;
  }
  for (const c of commands) {
    const r = systemctl(user, ctx.env, ...c);
    if (!r.ok) throw new CleanupError(`the units are written, but ${r.message}`, EXIT.partial, 'ESYSTEMCTL');
  }
  ctx.stdout.write(`Timer started. Next run: systemctl ${scope}list-timers ${TIMER_FILE}; runs: journalctl ${scope ? '--user-unit' : '-u'} ${SERVICE_FILE}\n`);
  return EXIT.ok;
}

function show(ctx: SystemdContext, dir: string): number {
  const files = [path.join(dir, SERVICE_FILE), path.join(dir, TIMER_FILE)];
  const texts = files.map(readOurs);
  const missing = files.filter((_, i) => texts[i] === undefined);
  if (missing.length > 0) {
    ctx.stderr.write(`vigint-cleanup: the systemd timer is not installed (no ${missing.join(', no ')}); install it with: vigint-cleanup systemd install\n`);
    return EXIT.partial;
  }
  ctx.stdout.write(files.map((f, i) => `# ${f}\n${texts[i]}`).join('\n'));
  return EXIT.ok;
}

function remove(flags: SystemdFlags, ctx: SystemdContext, dir: string): number {
  const user = flags.user === true;
  const files = [path.join(dir, TIMER_FILE), path.join(dir, SERVICE_FILE)];
  const present = files.filter((f) => readOurs(f) !== undefined);
  if (present.length === 0) {
    ctx.stdout.write(`No vigint-cleanup units in ${dir}; nothing changed.\n`);
    return EXIT.ok;
  }
  const running = systemdRuns(ctx.env);
  if (running) {
    const r = systemctl(user, ctx.env, 'disable', '--now', TIMER_FILE);
    if (!r.ok) ctx.stderr.write(`vigint-cleanup: warning: ${r.message}\n`);
  }
  // What `enable` links, should systemctl not have been the one to remove it.
  fs.rmSync(path.join(dir, 'timers.target.wants', TIMER_FILE), { force: true });
  for (const f of present) fs.rmSync(f);
  if (running) {
    const r = systemctl(user, ctx.env, 'daemon-reload');
    if (!r.ok) ctx.stderr.write(`vigint-cleanup: warning: ${r.message}\n`);
  }
  ctx.stdout.write(`Removed ${present.join(' and ')}${running ? '; the timer is stopped and disabled' : ''}.\n`);
  return EXIT.ok;
}

/** `vigint-cleanup systemd install|show|remove`. */
export async function systemdCommand(action: SystemdAction, flags: SystemdFlags, ctx: SystemdContext): Promise<number> {
  const dir = unitDir(flags.user === true, ctx.env);
  if (action === 'install') return install(flags, ctx, dir);
  if (action === 'show') return show(ctx, dir);
  return remove(flags, ctx, dir);
}
