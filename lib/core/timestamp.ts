/**
 * TimestampNormalizer: one pass that every re-timed output (MPEG-TS/HLS now, RTP later) runs
 * packets through before muxing. It unwraps 32-bit RTMP millisecond timestamps, smooths jumps
 * forward/backward and non-monotonic DTS, and counts each correction. For a clean stream it is
 * the identity, so the LAL-exact muxers behind it (docs/media.md §4.4 rebasing, docs/quirks.md Q-TS-1
 * KEEP) produce the same bytes. RTMP/FLV outputs do not use it: LAL forwards their timestamps
 * unchanged (docs/media.md §2.1, KEEP).
 *
 * Units: 90 kHz ticks (AvPacket dts/pts).
 *
 * Also the one conversion from those ticks to RTMP/FLV milliseconds (`ticksToFlvMs`), used by
 * every RTMP/FLV output: the server's framers, the FLV recorder, `lal remux` and `lal pull`.
 */
import { MS_TO_TICKS } from './packet.ts';

/**
 * 90 kHz ticks → RTMP/FLV timestamp in milliseconds: `floor(ticks / 90)`.
 *
 * Floor, not round, because that is what LAL does wherever it turns a finer clock into RTMP
 * milliseconds: RTP timestamp ÷ (clock/1000) and PS PES PTS ÷ 90 are Go integer divisions
 * (docs/media.md §6.1, §8), so the same RTSP or TS source gets the same millisecond timestamps
 * as from LAL. RTMP/FLV input (ticks = ms × 90) is exact either way, so RTMP → RTMP/FLV output
 * stays byte-exact.
 *
 * Negative ticks (a track that starts before the stream's base) floor towards −∞ as well, so
 * the step between two packets is the same on both sides of 0 (truncation would map −89…89 to
 * 0). The result is then a signed millisecond count; FLV tag and RTMP chunk encoders write its
 * low 32 bits, which is the FLV SI32 timestamp (Timestamp + TimestampExtended, FLV spec E.4.1)
 * and RTMP's modulo-2^32 clock. Callers that must not go below 0 clamp first.
 */
export function ticksToFlvMs(ticks: number): number {
  return Math.floor(ticks / MS_TO_TICKS);
}

/** RTMP timestamps are 32-bit milliseconds: they wrap at 2^32 ms = 2^32 × 90 ticks. */
export const RTMP_WRAP_TICKS = 2 ** 32 * 90;
/** A DTS step larger than this (10 s) is a jump, not media time passing. */
export const MAX_FORWARD_JUMP_TICKS = 10 * 90_000;
/** A DTS step back by more than this (1 s) is a jump back (e.g. an encoder restart). */
export const MAX_BACKWARD_JUMP_TICKS = 90_000;

export interface TimestampCorrections {
  wraps: number;
  nonMonotonic: number;
  jumpsForward: number;
  jumpsBackward: number;
}

interface KindState {
  prevIn: number;
  prevOut: number;
  offset: number;
  /** Last plausible step, used to continue across a jump. */
  step: number;
}

export class TimestampNormalizer {
  readonly corrections: TimestampCorrections = { wraps: 0, nonMonotonic: 0, jumpsForward: 0, jumpsBackward: 0 };
  private readonly state = new Map<string, KindState>();

  constructor(private readonly wrapTicks = RTMP_WRAP_TICKS) {}

  /** Returns corrected { dts, pts } for one packet of `kind` ('video', 'audio', or a track id). */
  normalize(kind: string, dts: number, pts: number): { dts: number; pts: number } {
    const cts = pts - dts;
    const st = this.state.get(kind);
    if (!st) {
      this.state.set(kind, { prevIn: dts, prevOut: dts, offset: 0, step: 0 });
      return { dts, pts };
    }
    // 32-bit wrap: the raw value fell by more than half the range.
    if (st.prevIn - dts > this.wrapTicks / 2) {
      st.offset += this.wrapTicks;
      this.corrections.wraps++;
    } else if (dts - st.prevIn > this.wrapTicks / 2) {
      // A late packet from before a wrap we already applied.
      st.offset -= this.wrapTicks;
    }
    st.prevIn = dts;
    let out = dts + st.offset;
    const delta = out - st.prevOut;
    if (delta > MAX_FORWARD_JUMP_TICKS) {
      this.corrections.jumpsForward++;
      st.offset -= delta - st.step;
      out = st.prevOut + st.step;
    } else if (delta < -MAX_BACKWARD_JUMP_TICKS) {
      this.corrections.jumpsBackward++;
      st.offset += -delta + st.step;
      out = st.prevOut + st.step;
    } else if (delta < 0) {
      this.corrections.nonMonotonic++;
      out = st.prevOut;
    } else if (delta > 0) {
      st.step = delta;
    }
    st.prevOut = out;
    return { dts: out, pts: out + cts };
  }

  reset(): void {
    this.state.clear();
  }
}
