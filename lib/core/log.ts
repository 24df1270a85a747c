/**
 * Logging: one consola root, sessions use `withTag(id)` (design.md §1.7 rule 9).
 * lib code receives a Logger; it never reaches for a global.
 */
import { createConsola, type ConsolaInstance } from 'consola';

export type Logger = Pick<ConsolaInstance, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'withTag'>;

/** LAL `log.level` (0 trace … 5 fatal, 7 nothing) → consola level (5 trace … 0 fatal, -999 silent). */
export function consolaLevelFromLal(level: number): number {
  switch (level) {
    case 0: return 5;
    case 1: return 4;
    case 2: return 3;
    case 3: return 1; // warn
    case 4: return 0; // error
    case 5:
    case 6: return 0;
    default: return -999;
  }
}

/** A logger that prints nothing (tests, library use without logging). */
export const silentLogger: Logger = createConsola({ level: -999 });

export function createLogger(opts: { lalLevel?: number; tag?: string } = {}): ConsolaInstance {
  const c = createConsola({ level: consolaLevelFromLal(opts.lalLevel ?? 2) });
  return opts.tag ? c.withTag(opts.tag) : c;
}
