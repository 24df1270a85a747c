/**
 * H.265 over RTP (RFC 7798), without DONL (sprop-max-don-diff 0): packetiser per docs/media.md §5.2
 * (single NAL unit or FU, no aggregation, AUD dropped) and depacketiser per docs/media.md §6.1
 * (single NAL, AP, FU).
 *
 * PayloadHdr (same layout as the NAL unit header, RFC 7798 §1.1.4):
 *  +---------------+---------------+
 *  |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |F|   Type    |  LayerId  | TID |
 *  +-------------+-----------------+
 *
 * AP (type 48, §4.4.2): PayloadHdr, then for each NAL: 16-bit size, NAL unit.
 * FU (type 49, §4.4.3): PayloadHdr (F, LayerId, TID of the NAL, Type 49), FU header, a slice of
 * the NAL without its 2-byte header.
 *  +---------------+
 *  |0|1|2|3|4|5|6|7|
 *  +-+-+-+-+-+-+-+-+
 *  |S|E|  FuType   |
 *  +---------------+
 */
import { isH265Irap, isH265KeyFrame, NaluTypeH265 } from '../../codec/h265/nalu.ts';
import { NalDepacketizer, pushFuPayloads } from './_nal-au.ts';

/** RTP payload structure types of RFC 7798 §4.4. */
export const H265RtpType = {
  Ap: 48,
  Fu: 49,
  Paci: 50,
} as const;

/**
 * RTP payloads for one access unit (pieces written back to back, see h264Payloads). NALs up to
 * `maxPayload` bytes go alone, larger ones as FUs of `maxPayload` bytes except the last. The FU
 * PayloadHdr keeps the NAL's F, LayerId and TID as RFC 7798 §4.4.3 requires; for the usual
 * layer 0 / TID 1 that is docs/media.md §5.2's `62 01`.
 */
export function h265Payloads(units: readonly Uint8Array[], maxPayload: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (const nal of units) {
    if (nal.length === 0 || ((nal[0] >> 1) & 0x3f) === NaluTypeH265.Aud) continue;
    if (nal.length <= maxPayload || nal.length < 3) {
      out.push([nal]);
      continue;
    }
    const payloadHdr = [(nal[0] & 0x81) | (H265RtpType.Fu << 1), nal[1]];
    pushFuPayloads(out, nal, 2, payloadHdr, (nal[0] >> 1) & 0x3f, maxPayload);
  }
  return out;
}

/**
 * True when the payload starts an access point (docs/behaviour.md §5.5): VPS, SPS, PPS or IRAP
 * (types 16–23), an AP whose first NAL is one of those, or the start fragment of one.
 */
export function h265RtpStartsAccessPoint(payload: Uint8Array): boolean {
  if (payload.length < 2) return false;
  const isStart = (t: number) => isH265Irap(t) || t === NaluTypeH265.Vps || t === NaluTypeH265.Sps || t === NaluTypeH265.Pps;
  const t = (payload[0] >> 1) & 0x3f;
  if (t === H265RtpType.Ap) return payload.length > 4 && isStart((payload[4] >> 1) & 0x3f);
  if (t === H265RtpType.Fu) return payload.length > 2 && (payload[2] & 0x80) !== 0 && isStart(payload[2] & 0x3f);
  return isStart(t);
}

export interface H265DepacketizerOptions {
  /** RTP clock; 90000 per RFC 7798 §7.1. */
  clockRate?: number;
  /** When set, packets of another payload type are dropped. */
  payloadType?: number;
}

/** RTP packets (in sequence order) → H.265 access units; the same contract as H264Depacketizer. */
export class H265Depacketizer extends NalDepacketizer {
  constructor(opts: H265DepacketizerOptions = {}) {
    super('h265', opts.clockRate ?? 90000, isH265KeyFrame, opts.payloadType);
  }

  protected handle(p: Uint8Array, seq: number, ts: number): void {
    if (p.length < 2) {
      this.drops.malformed++;
      return;
    }
    const type = (p[0] >> 1) & 0x3f;
    if (type < H265RtpType.Ap) this.addSingle(p);
    else if (type === H265RtpType.Ap) this.addAggregated(p, 2);
    else if (type === H265RtpType.Fu) {
      if (p.length < 4) this.drops.malformed++;
      else this.addFragment(p, p[2], p.subarray(3), seq, ts);
    } else this.drops.unsupported++; // PACI (50) and the unspecified 51..63
  }

  /** F, LayerId and TID of the PayloadHdr, type of the FU header. */
  protected fuNalHeader(p: Uint8Array, fu: number): Uint8Array {
    return Uint8Array.of((p[0] & 0x81) | ((fu & 0x3f) << 1), p[1]);
  }
}
