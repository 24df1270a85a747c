/**
 * Readable time format of the HTTP API and notify bodies (docs/http-api.md §3.5): Go's layout
 * `2006-01-02 15:04:05.999 Z0700 MST` in the server's local time zone, e.g.
 * `2024-10-23 09:59:00.123 +0800 CST`, `2024-10-23 01:59:00.5 Z UTC`, `2024-10-23 01:59:00 Z UTC`.
 *
 * - The fraction has up to 3 digits with trailing zeros trimmed; the dot goes when all are zero.
 * - The offset is `Z` when it is 0, otherwise `±hhmm`.
 * - The zone abbreviation is the `short` timeZoneName of `Intl.DateTimeFormat('en-US')`. Go reads
 *   it from the tz database, so the two differ where ICU has no English abbreviation: Go prints
 *   `CST` for Asia/Shanghai where we print `GMT+8` (and `GMT+1` for British Summer Time). Go's
 *   parser accepts both forms, so the dispatch demo can still parse it back. When Intl gives
 *   nothing we fall back to `UTC` for offset 0 and `GMT+8` / `GMT-3:30` style otherwise.
 */

/** Zero-pads a non-negative integer to `width` digits. */
function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `+0800`, `-0330`, or `Z` for offset 0 (Go's `Z0700`). `offsetMinutes` is east of UTC. */
export function formatZoneOffset(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
}

/** Fallback abbreviation when Intl has none: `UTC`, `GMT+8`, `GMT-3:30`. */
export function fallbackZoneAbbr(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'UTC';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return m === 0 ? `GMT${sign}${h}` : `GMT${sign}${h}:${pad(m, 2)}`;
}

/**
 * Formats `d` as the wall-clock time at `offsetMinutes` east of UTC, labelled `abbr`.
 * Deterministic (no dependency on the process time zone); an invalid Date gives `''`.
 */
export function formatReadableTimeWithZone(d: Date, offsetMinutes: number, abbr: string): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) return '';
  const w = new Date(t + offsetMinutes * 60_000); // read back with the UTC getters = wall clock
  const date = `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1, 2)}-${pad(w.getUTCDate(), 2)}`;
  const time = `${pad(w.getUTCHours(), 2)}:${pad(w.getUTCMinutes(), 2)}:${pad(w.getUTCSeconds(), 2)}`;
  const ms = w.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
  return `${date} ${time}${frac} ${formatZoneOffset(offsetMinutes)} ${abbr}`;
}

/**
 * Building an Intl.DateTimeFormat costs ~0.3 ms; every session stamps its start time, so the
 * formatter is made once per process time zone (a pure cache: same output, keyed by TZ).
 */
let zoneFormatter: { tz: string | undefined; fmt: Intl.DateTimeFormat } | undefined;

/** The local zone's short name at `d` (see the file comment for the Intl vs Go difference). */
export function localZoneAbbr(d: Date): string {
  const offset = -d.getTimezoneOffset();
  try {
    const tz = process.env.TZ;
    if (!zoneFormatter || zoneFormatter.tz !== tz) zoneFormatter = { tz, fmt: new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }) };
    const parts = zoneFormatter.fmt.formatToParts(d);
    const name = parts.find((p) => p.type === 'timeZoneName')?.value;
    if (name) return name;
  } catch {
    // Intl without time zone data: use the numeric fallback below.
  }
  return fallbackZoneAbbr(offset);
}

/** `d` in the process's local time zone, Go layout `2006-01-02 15:04:05.999 Z0700 MST`. */
export function formatReadableTime(d: Date): string {
  if (!Number.isFinite(d.getTime())) return '';
  // getTimezoneOffset() is minutes *west* of UTC; Go's offsets are east-positive.
  const offset = -d.getTimezoneOffset();
  return formatReadableTimeWithZone(d, offset, localZoneAbbr(d));
}
