/**
 * Shared CLI plumbing: typed usage errors, the signal → AbortSignal bridge, one-line failures.
 * Kept free of heavy imports (consola, node:tty): `lal remux` races `ffmpeg -c copy` and loads
 * this module on its start path.
 */
import { errorText } from '../lib/core/errors.ts';

/** Bad usage or configuration; `exitCode` decides the process status. */
export class CLIError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CLIError';
  }
}

/** Print one clear line (no stack trace) for expected failures and exit with their code. */
export function fail(e: unknown): never {
  const code = e instanceof CLIError ? e.exitCode : 1;
  console.error(`error: ${errorText(e)}`);
  process.exit(code);
}

/** An AbortSignal that fires on the first SIGINT/SIGTERM. */
export function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  const on = (sig: string) => () => {
    if (!ac.signal.aborted) ac.abort(sig);
  };
  process.once('SIGINT', on('SIGINT'));
  process.once('SIGTERM', on('SIGTERM'));
  return ac.signal;
}

export function waitAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
