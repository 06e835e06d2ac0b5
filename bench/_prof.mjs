import { runCleanup } from '../dist/cleanup.js';
import { openLogSink } from '../dist/log.js';
const sink = openLogSink({ file: '/tmp/o.log', level: 'info' });
const t = performance.now();
await runCleanup({ baseDir: '/var/tmp/bt1m', days: 30, dryRun: true, categories: ['incidents', 'videos'], logger: sink.logger, logBackpressure: sink.backpressure });
console.log('ms', performance.now() - t);
await sink.close();
