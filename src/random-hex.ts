import { createRequire } from 'node:module';

let crypto: typeof import('node:crypto') | undefined;

/**
 * Random hexadecimal digits, for temporary names. node:crypto is loaded at the first use: a dry
 * run or status never needs it, and loading it costs ~3 ms of a small run's start (profiled).
 */
export function randomHex(bytes: number): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.randomBytes(bytes).toString('hex');
}
