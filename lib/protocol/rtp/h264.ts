/**
 * H.264 over RTP (RFC 6184), non-interleaved mode: packetiser per docs/media.md §5.2 (single NAL
 * unit or FU-A, no aggregation, AUD dropped) and depacketiser per docs/media.md §6.1 (single NAL,
 * STAP-A, FU-A).
 *
 * NAL unit header / FU indicator / STAP-A header     FU header
 *  +---------------+                                +---------------+
 *  |0|1|2|3|4|5|6|7|                                |0|1|2|3|4|5|6|7|
 *  +-+-+-+-+-+-+-+-+                                +-+-+-+-+-+-+-+-+
 *  |F|NRI|  Type   |                                |S|E|R|  Type   |
 *  +---------------+                                +---------------+
 *
 * STAP-A (RFC 6184 §5.7.1): header (type 24), then for each NAL: 16-bit size, NAL unit.
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         NALU 1 Data  ...      | NALU 2 Size … |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * FU-A (RFC 6184 §5.8): FU indicator (F|NRI of the NAL, type 28), FU header (S start, E end,
 * type of the NAL), then a slice of the NAL without its header byte.
 */
import { isH264KeyFrame, NaluTypeH264 } from '../../codec/h264/nalu.ts';
import { NalDepacketizer, pushFuPayloads } from './_nal-au.ts';

/** RTP payload structure types of RFC 6184 §5.2 (NAL unit types 24–29 in the payload header). */
export const H264RtpType = {
  StapA: 24,
  StapB: 25,
  Mtap16: 26,
  Mtap24: 27,
  FuA: 28,
  FuB: 29,
} as const;

/**
 * RTP payloads for one access unit: each payload is a list of pieces written back to back
 * (payload-format header bytes, then a view of the NAL). NALs up to `maxPayload` bytes go alone,
 * larger ones as FU-A fragments whose payloads are `maxPayload` bytes except the last.
 */
export function h264Payloads(units: readonly Uint8Array[], maxPayload: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (const nal of units) {
    if (nal.length === 0 || (nal[0] & 0x1f) === NaluTypeH264.Aud) continue;
    if (nal.length <= maxPayload) {
      out.push([nal]);
      continue;
    }
    // docs/media.md §5.2: `1C` | NRI, and the NAL's F bit copied as RFC 6184 §5.8 asks (LAL drops
    // it; it only differs for a unit already marked as damaged).
    const indicator = (nal[0] & 0xe0) | H264RtpType.FuA;
    pushFuPayloads(out, nal, 1, [indicator], nal[0] & 0x1f, maxPayload);
  }
  return out;
}

/**
 * True when the payload starts an access point a player can begin with (docs/behaviour.md §5.5): an
 * SPS, PPS or IDR NAL, a STAP-A whose first NAL is one of those, or the start fragment of one.
 */
export function h264RtpStartsAccessPoint(payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  const t = payload[0] & 0x1f;
  const isStart = (x: number) => x === NaluTypeH264.Sps || x === NaluTypeH264.Pps || x === NaluTypeH264.Idr;
  if (t === H264RtpType.StapA) return payload.length > 3 && isStart(payload[3] & 0x1f);
  if (t === H264RtpType.FuA) return payload.length > 1 && (payload[1] & 0x80) !== 0 && isStart(payload[1] & 0x1f);
  return isStart(t);
}

export interface H264DepacketizerOptions {
  /** RTP clock; 90000 per RFC 6184 §8.2.1. */
  clockRate?: number;
  /** When set, packets of another payload type are dropped. */
  payloadType?: number;
}

/**
 * RTP packets (in sequence order) → H.264 access units. NAL units of one timestamp form one
 * AvPacket, emitted on the marker bit or when the timestamp changes. Single NALs and STAP-A
 * members are views into the packet payloads (the caller hands over those buffers); FU-A units
 * are reassembled into new buffers. A missing packet inside an FU drops that NAL only.
 */
export class H264Depacketizer extends NalDepacketizer {
  constructor(opts: H264DepacketizerOptions = {}) {
    super('h264', opts.clockRate ?? 90000, isH264KeyFrame, opts.payloadType);
  }

  protected handle(p: Uint8Array, seq: number, ts: number): void {
    const type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) this.addSingle(p);
    else if (type === H264RtpType.StapA) this.addAggregated(p, 1);
    else if (type === H264RtpType.FuA) {
      if (p.length < 3) this.drops.malformed++;
      else this.addFragment(p, p[1], p.subarray(2), seq, ts);
    } else this.drops.unsupported++; // 0, 30, 31 undefined; STAP-B, MTAP, FU-B need interleaved mode
  }

  /** F|NRI of the FU indicator, type of the FU header. */
  protected fuNalHeader(p: Uint8Array, fu: number): Uint8Array {
    return Uint8Array.of((p[0] & 0xe0) | (fu & 0x1f));
  }
}
