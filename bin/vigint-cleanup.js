#!/usr/bin/env node
// Thin on purpose: the program is bundle/cli.cjs (built by `npm install` through `prepare`),
// loaded by load.js with its code cache.
import { loadProgram } from './load.js';

const code = await loadProgram().program.main(process.argv.slice(2));
// Everything is written once main() returns (it waits for its log). Exiting here spares a small
// run the runtime's teardown (~5 ms of 140); with output still queued (a pipe nobody reads yet),
// the process ends as usual, once it has gone out.
if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
process.exitCode = code;
