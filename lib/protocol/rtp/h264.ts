/**
 * H.264 over RTP (RFC 6184), non-interleaved mode: packetiser per media.md §5.2 (single NAL
 * unit or FU-A, no aggregation, AUD dropped) and depacketiser per media.md §6.1 (single NAL,
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
import type { AvPacket } from '../../core/packet.ts';
import { isH264KeyFrame, NaluTypeH264 } from '../../codec/h264/nalu.ts';
import type { RtpPacket } from './packet.ts';
import { FragmentBuffer, NalAccessUnitAssembler, newDropCounters } from './_nal-au.ts';
import type { RtpDropCounters } from './_nal-au.ts';

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
    const indicator = (nal[0] & 0x60) | H264RtpType.FuA; // media.md §5.2: `1C` | NRI
    const type = nal[0] & 0x1f;
    const chunk = maxPayload - 2;
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length);
      const head = new Uint8Array(2);
      head[0] = indicator;
      head[1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      out.push([head, nal.subarray(off, end)]);
    }
  }
  return out;
}

/**
 * True when the payload starts an access point a player can begin with (behaviour.md §5.5): an
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
export class H264Depacketizer {
  readonly drops: RtpDropCounters = newDropCounters();
  private readonly au: NalAccessUnitAssembler;
  private readonly frag = new FragmentBuffer();
  private readonly payloadType: number | undefined;

  constructor(opts: H264DepacketizerOptions = {}) {
    this.payloadType = opts.payloadType;
    this.au = new NalAccessUnitAssembler('h264', opts.clockRate ?? 90000, isH264KeyFrame, this.drops);
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
    const type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      this.interruptFragment();
      this.au.add(p);
      return;
    }
    if (type === H264RtpType.StapA) {
      this.interruptFragment();
      const nals: Uint8Array[] = [];
      let off = 1;
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
    if (type === H264RtpType.FuA) {
      if (p.length < 3) {
        this.drops.malformed++;
        return;
      }
      const fu = p[1];
      const data = p.subarray(2);
      if (fu & 0x80) {
        this.interruptFragment();
        const head = Uint8Array.of((p[0] & 0xe0) | (fu & 0x1f));
        if (fu & 0x40) {
          // S and E together is not allowed (RFC 6184 §5.8); the data is still a whole NAL
          const nal = new Uint8Array(1 + data.length);
          nal[0] = head[0];
          nal.set(data, 1);
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
    this.drops.unsupported++; // 0, 30, 31 undefined; STAP-B, MTAP, FU-B need interleaved mode
  }

  private interruptFragment(): void {
    if (this.frag.active) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
  }
}
