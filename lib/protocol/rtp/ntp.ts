/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4, RFC 5905 §6): 32-bit seconds since
 * 1900-01-01 and a 32-bit binary fraction. Values with the top bit clear are read as era 1
 * (after 2036-02-07), as RFC 4330 §3 suggests.
 */

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;
const TWO_32 = 0x100000000;

export interface NtpTimestamp {
  /** Most significant word: whole seconds, modulo 2^32. */
  seconds: number;
  /** Least significant word: fraction of a second in units of 2^-32 s. */
  fraction: number;
}

export function ntpFromUnixMs(ms: number): NtpTimestamp {
  const whole = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - whole * 1000) / 1000) * TWO_32);
  return { seconds: (whole + NTP_UNIX_OFFSET_SECONDS) % TWO_32, fraction: Math.min(fraction, TWO_32 - 1) };
}

export function unixMsFromNtp(ntp: NtpTimestamp): number {
  const seconds = ntp.seconds < 0x80000000 ? ntp.seconds + TWO_32 : ntp.seconds; // era 1 after 2036
  return (seconds - NTP_UNIX_OFFSET_SECONDS) * 1000 + (ntp.fraction * 1000) / TWO_32;
}

/** The middle 32 bits (16.16 fixed point): the LSR field of a report block (RFC 3550 §6.4.1). */
export function ntpMiddle32(ntp: NtpTimestamp): number {
  return (((ntp.seconds & 0xffff) << 16) | (ntp.fraction >>> 16)) >>> 0;
}

/** A duration in ms as units of 1/65536 s: the DLSR field of a report block. */
export function ntpShortFromMs(ms: number): number {
  if (ms <= 0) return 0;
  return Math.min(Math.round((ms * 65536) / 1000), TWO_32 - 1);
}
