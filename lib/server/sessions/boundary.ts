/**
 * What a session does with an exception that reached its boundary (docs/architecture.md §1.7
 * rule 4): a LalError is bad input or a broken protocol step, logged at warn with its message; any
 * other exception is a bug, logged at error with its stack. Either way only that session closes.
 */
import type { Logger } from '../../core/log.ts';
import { errorDetail, isBug } from '../../core/errors.ts';

/** Log `e` as described above; returns whether it was a bug (the caller picks its close reason). */
export function logBoundaryFailure(log: Logger, e: unknown, prefix = ''): boolean {
  if (isBug(e)) {
    log.error(`${prefix}closing after an internal error: ${errorDetail(e)}`);
    return true;
  }
  log.warn(`${prefix}closing: ${errorDetail(e)}`);
  return false;
}
