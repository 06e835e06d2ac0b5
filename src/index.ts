/** The library: the same cleanup the CLI runs, and the built-in cleanup for the alerting service. */
export { runCleanup, type CleanupOptions } from './cleanup.js';
export { CATEGORIES, type Category, type CategoryId, type FileKind } from './categories.js';
export { CleanupError, EXIT } from './errors.js';
export { cutoffMs, decide, type Verdict } from './plan.js';
export type { CategoryResult, CleanupResult, FailureRecord, Tally } from './result.js';
export { formatJson, formatText, toJson } from './report.js';
export { createAutoCleanup, type AutoCleanup, type AutoCleanupOptions } from './auto.js';
export { collectStatus, type StatusOptions, type StatusResult } from './status.js';
