/**
 * Logging: one consola root, sessions use `withTag(id)` (docs/architecture.md §1.7 rule 9).
 * lib code receives a Logger; it never reaches for a global. The root with its reporters is
 * made by the command (`lal serve`) or the test harness; lib only needs consola's core, which
 * loads in a fraction of the time of consola with its terminal reporters (~13 ms a CLI run).
 */
import type { ConsolaInstance } from 'consola';
import { createConsola } from 'consola/core';

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
