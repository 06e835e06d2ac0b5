import fs from 'node:fs';
import path from 'node:path';
import { absolutePath } from './config.js';
import { usageError } from './errors.js';

/**
 * Where the metrics go: `--metrics-file`, else VIGINT_METRICS_FILE (empty: unset), else nowhere.
 * Checked before anything is scanned: its folder must exist (node_exporter's textfile folder is
 * made by whoever installs node_exporter, not by us) and the path must not be a folder. Apart
 * from metrics.ts so that checking it loads nothing else.
 */
const statOrNone = (p: string): fs.Stats | undefined => {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
};

export function resolveMetricsFile(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string | undefined): string | undefined {
  if (flag === '') throw usageError("invalid --metrics-file '': expected a file path such as /var/lib/node_exporter/textfile/vigint_cleanup.prom");
  const raw = flag ?? (env.VIGINT_METRICS_FILE === '' ? undefined : env.VIGINT_METRICS_FILE);
  if (raw === undefined) return undefined;
  const what = flag !== undefined ? '--metrics-file' : 'VIGINT_METRICS_FILE';
  const file = absolutePath(raw, cwd, what);
  const dir = statOrNone(path.dirname(file));
  if (!dir?.isDirectory()) throw usageError(`invalid ${what} '${raw}': the folder ${path.dirname(file)} does not exist (create it, or give a file in an existing folder)`);
  if (statOrNone(file)?.isDirectory()) throw usageError(`invalid ${what} '${raw}': ${file} is a folder; give a file path such as ${path.join(file, 'vigint_cleanup.prom')}`);
  return file;
}
