/** Exit statuses of the CLI (see README, "Exit status"). */
export const EXIT = {
  ok: 0,
  /** The run completed, but some file or folder could not be read or deleted. */
  partial: 1,
  /** Usage or configuration error: nothing was scanned or deleted. */
  usage: 2,
  /** Another real cleanup of the same base folder holds the lock (EX_TEMPFAIL). */
  locked: 75,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/**
 * The one error type that crosses module boundaries on purpose. `cli.ts` turns it into a
 * message on stderr and `exitStatus`; anything else that escapes is a bug.
 */
export class CleanupError extends Error {
  constructor(
    message: string,
    readonly exitStatus: ExitStatus,
    readonly code = 'ECLEANUP',
  ) {
    super(message);
    this.name = 'CleanupError';
  }
}

export const usageError = (message: string): CleanupError => new CleanupError(message, EXIT.usage, 'EUSAGE');

/** The errno code of a Node error, or 'EUNKNOWN'. */
export function errnoCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** A one-line message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A system error's message without the code and call Node puts around it:
 * "ENOSPC: no space left on device, write" → "no space left on device".
 */
export function plainMessage(err: unknown): string {
  const message = errorMessage(err);
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !message.startsWith(`${code}: `)) return message;
  return message.slice(code.length + 2).replace(/, \w+(?: '.*')?$/, '');
}
