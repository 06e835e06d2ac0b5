import type { Output } from './args.js';
import type { Env } from './config.js';

/** Standard output as the CLI writes to it: a write that fails never crashes the run. */
export interface GuardedOutput extends Output {
  /** Resolves once every write so far has been handed to the system, or has failed. */
  settle(): Promise<void>;
  /**
   * Why standard output could not be written, if it could not; undefined when every write
   * succeeded, and when the reader went away (EPIPE: `vigint-cleanup --json | head -1` is not a
   * failure of the run).
   */
  failure(): NodeJS.ErrnoException | undefined;
}

/**
 * Wraps a stream (process.stdout): errors, whether thrown by `write` or emitted as 'error'
 * events, are recorded instead of becoming an uncaught exception; after one, later writes are
 * dropped. The run goes on: its deletions and its log matter more than its report.
 */
export function guardOutput(stream: NodeJS.WriteStream): GuardedOutput {
  let closed = false;
  let failed: NodeJS.ErrnoException | undefined;
  const onError = (err: unknown): void => {
    if (closed) return;
    closed = true;
    const e = err as NodeJS.ErrnoException;
    if (e?.code !== 'EPIPE') failed = e;
  };
  stream.on('error', onError);
  return {
    get isTTY() {
      return stream.isTTY === true;
    },
    write(text: string): boolean {
      if (closed) return false;
      try {
        return stream.write(text, (err) => {
          if (err) onError(err);
        });
      } catch (err) {
        onError(err);
        return false;
      }
    },
    settle() {
      return new Promise((resolve) => {
        // errors of writes the system has already taken are reported on a later tick
        const done = (): void => void setImmediate(resolve);
        if (closed || stream.writableLength === 0) return done();
        stream.once('drain', done);
        stream.once('error', done);
        stream.once('close', done);
      });
    },
    failure: () => failed,
  };
}

/**
 * Colours for a person at a terminal only: not through a pipe or into a file, not when NO_COLOR
 * is set to anything but the empty string (no-color.org), not on a terminal that says it cannot
 * (TERM=dumb).
 */
export function useColor(out: Output, env: Env): boolean {
  return out.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}
