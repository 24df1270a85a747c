/**
 * H.265 over RTP (RFC 7798), without DONL (sprop-max-don-diff 0): packetiser per media.md §5.2
 * (single NAL unit or FU, no aggregation, AUD dropped) and depacketiser per media.md §6.1
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
import type { AvPacket } from '../../core/packet.ts';
import { isH265Irap, isH265KeyFrame, NaluTypeH265 } from '../../codec/h265/nalu.ts';
import type { RtpPacket } from './packet.ts';
import { FragmentBuffer, NalAccessUnitAssembler, newDropCounters } from './_nal-au.ts';
import type { RtpDropCounters } from './_nal-au.ts';

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
 * layer 0 / TID 1 that is media.md §5.2's `62 01`.
 */
export function h265Payloads(units: readonly Uint8Array[], maxPayload: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (const nal of units) {
    if (nal.length === 0 || ((nal[0] >> 1) & 0x3f) === NaluTypeH265.Aud) continue;
    if (nal.length <= maxPayload || nal.length < 3) {
      out.push([nal]);
      continue;
    }
    const h0 = (nal[0] & 0x81) | (H265RtpType.Fu << 1);
    const h1 = nal[1];
    const type = (nal[0] >> 1) & 0x3f;
    const chunk = maxPayload - 3;
    for (let off = 2; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length);
      const head = new Uint8Array(3);
      head[0] = h0;
      head[1] = h1;
      head[2] = (off === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      out.push([head, nal.subarray(off, end)]);
    }
  }
  return out;
}

/**
 * True when the payload starts an access point (behaviour.md §5.5): VPS, SPS, PPS or IRAP
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
export class H265Depacketizer {
  readonly drops: RtpDropCounters = newDropCounters();
  private readonly au: NalAccessUnitAssembler;
  private readonly frag = new FragmentBuffer();
  private readonly payloadType: number | undefined;

  constructor(opts: H265DepacketizerOptions = {}) {
    this.payloadType = opts.payloadType;
    this.au = new NalAccessUnitAssembler('h265', opts.clockRate ?? 90000, isH265KeyFrame, this.drops);
  }

  push(pkt: RtpPacket): AvPacket[] {
    const out: AvPacket[] = [];
    if (this.payloadType !== undefined && pkt.header.payloadType !== this.payloadType) {
      this.drops.payloadType++;
      return out;
    }
    const seq = pkt.header.sequenceNumber;
    const ts = this.au.begin(pkt, out);
    if (this.frag.active && !this.frag.continues(seq, ts)) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
    if (pkt.payload.length === 0) this.drops.empty++;
    else this.handle(pkt.payload, seq, ts);
    this.au.end(pkt, out);
    return out;
  }

  /** Emit what is pending (end of stream). An unfinished FU is dropped. */
  flush(): AvPacket[] {
    const out: AvPacket[] = [];
    if (this.frag.active) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
    this.au.flush(out);
    return out;
  }

  private handle(p: Uint8Array, seq: number, ts: number): void {
    if (p.length < 2) {
      this.drops.malformed++;
      return;
    }
    const type = (p[0] >> 1) & 0x3f;
    if (type < H265RtpType.Ap) {
      this.interruptFragment();
      this.au.add(p);
      return;
    }
    if (type === H265RtpType.Ap) {
      this.interruptFragment();
      const nals: Uint8Array[] = [];
      let off = 2;
      while (off < p.length) {
        if (off + 2 > p.length) {
          this.drops.malformed++;
          return;
        }
        const size = (p[off] << 8) | p[off + 1];
        off += 2;
        if (off + size > p.length) {
          this.drops.malformed++;
          return;
        }
        if (size > 0) nals.push(p.subarray(off, off + size));
        off += size;
      }
      for (const n of nals) this.au.add(n);
      return;
    }
    if (type === H265RtpType.Fu) {
      if (p.length < 4) {
        this.drops.malformed++;
        return;
      }
      const fu = p[2];
      const data = p.subarray(3);
      if (fu & 0x80) {
        this.interruptFragment();
        const head = Uint8Array.of((p[0] & 0x81) | ((fu & 0x3f) << 1), p[1]);
        if (fu & 0x40) {
          const nal = new Uint8Array(2 + data.length);
          nal.set(head, 0);
          nal.set(data, 2);
          this.au.add(nal);
          return;
        }
        this.frag.start(head, data, seq, ts);
        return;
      }
      if (!this.frag.active) {
        this.drops.fragmentWithoutStart++;
        return;
      }
      if (!this.frag.append(data, seq)) {
        this.drops.tooLarge++;
        return;
      }
      if (fu & 0x40) this.au.add(this.frag.finish());
      return;
    }
    this.drops.unsupported++; // PACI (50) and the unspecified 51..63
  }

  private interruptFragment(): void {
    if (this.frag.active) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
  }
}
