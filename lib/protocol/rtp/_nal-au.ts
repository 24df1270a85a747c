/**
 * Internal to lib/protocol/rtp: the parts H.264 (RFC 6184) and H.265 (RFC 7798) packetising and
 * depacketising share — FU fragmentation, drop accounting, fragment reassembly, aggregation
 * packets, and grouping NAL units of one RTP timestamp into one AvPacket (media.md §5.2, §6.1).
 * The two formats differ only in their header sizes and bit positions, which h264.ts and
 * h265.ts supply.
 */
import type { AvPacket, VideoCodec } from '../../core/packet.ts';
import { MAX_NALUS_PER_AU } from '../../codec/h264/nalu.ts';
import type { RtpPacket } from './packet.ts';
import { RtpTimestampUnwrapper, ticksFromRtpTimestamp } from './packet.ts';

/**
 * Largest NAL unit reassembled from fragments. An intra slice of a 4K picture at broadcast
 * quality is a few MiB; 16 MiB bounds what a peer can make us buffer without hurting them.
 */
export const MAX_FRAGMENTED_NALU_SIZE = 16 * 1024 * 1024;

/**
 * Why depacketisers drop input. Loss is normal on UDP, so nothing here throws: the session reads
 * these counters and logs them periodically (design.md §1.7 rule 9).
 */
export interface RtpDropCounters {
  /** Payload type differs from the track's. */
  payloadType: number;
  /** Empty payload. */
  empty: number;
  /** A payload whose internal lengths do not fit (truncated STAP/AP, AU headers…). */
  malformed: number;
  /** A packetisation we do not handle (STAP-B, MTAP, FU-B, PACI, interleaved mode). */
  unsupported: number;
  /**
   * A middle or end fragment with no start before it: the benign case of joining a stream
   * mid-NAL ("non-starting fragment without previous" in gortsplib), also what follows a loss.
   */
  fragmentWithoutStart: number;
  /** A partly received fragmented unit dropped because a packet was missing. */
  fragmentLost: number;
  /** A unit above MAX_FRAGMENTED_NALU_SIZE or an access unit above MAX_NALUS_PER_AU units. */
  tooLarge: number;
}

export function newDropCounters(): RtpDropCounters {
  return { payloadType: 0, empty: 0, malformed: 0, unsupported: 0, fragmentWithoutStart: 0, fragmentLost: 0, tooLarge: 0 };
}

/** Total of all drop counters. */
export function totalDrops(d: RtpDropCounters): number {
  return d.payloadType + d.empty + d.malformed + d.unsupported + d.fragmentWithoutStart + d.fragmentLost + d.tooLarge;
}

/** Reassembles one fragmented unit from contiguous packets. */
export class FragmentBuffer {
  private pieces: Uint8Array[] = [];
  private size = 0;
  private nextSeq = -1;
  private ts = 0;

  get active(): boolean {
    return this.nextSeq >= 0;
  }

  /** Begin a unit with `head` (the rebuilt unit header) and the first fragment's data. */
  start(head: Uint8Array, data: Uint8Array, seq: number, ts: number): void {
    this.pieces = [head, data];
    this.size = head.length + data.length;
    this.nextSeq = (seq + 1) & 0xffff;
    this.ts = ts;
  }

  /** True when `seq`/`ts` continue the current unit. */
  continues(seq: number, ts: number): boolean {
    return this.active && seq === this.nextSeq && ts === this.ts;
  }

  /** Append a fragment; false (and reset) when the unit would exceed the size bound. */
  append(data: Uint8Array, seq: number): boolean {
    if (this.size + data.length > MAX_FRAGMENTED_NALU_SIZE) {
      this.reset();
      return false;
    }
    this.pieces.push(data);
    this.size += data.length;
    this.nextSeq = (seq + 1) & 0xffff;
    return true;
  }

  /** The whole unit in one new buffer (copy: it spans packets), then reset. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.pieces) {
      out.set(p, o);
      o += p.length;
    }
    this.reset();
    return out;
  }

  reset(): void {
    this.pieces = [];
    this.size = 0;
    this.nextSeq = -1;
  }
}

/** Groups NAL units of one RTP timestamp into AvPackets (emitted on marker or timestamp change). */
export class NalAccessUnitAssembler {
  private units: Uint8Array[] = [];
  private ts = 0;
  private readonly unwrapper = new RtpTimestampUnwrapper();

  constructor(
    private readonly codec: VideoCodec,
    private readonly clockRate: number,
    private readonly isKey: (units: readonly Uint8Array[]) => boolean,
    private readonly drops: RtpDropCounters,
  ) {}

  /** Start a packet: unwrap its timestamp, emit the pending unit when the timestamp moved. */
  begin(pkt: RtpPacket, out: AvPacket[]): number {
    const ts = this.unwrapper.unwrap(pkt.header.timestamp);
    if (this.units.length > 0 && ts !== this.ts) this.emit(out);
    this.ts = ts;
    return ts;
  }

  add(nal: Uint8Array): void {
    if (nal.length === 0) return;
    if (this.units.length >= MAX_NALUS_PER_AU) {
      this.drops.tooLarge++;
      return;
    }
    this.units.push(nal);
  }

  /** Finish a packet: the marker bit ends the access unit. */
  end(pkt: RtpPacket, out: AvPacket[]): void {
    if (pkt.header.marker && this.units.length > 0) this.emit(out);
  }

  flush(out: AvPacket[]): void {
    if (this.units.length > 0) this.emit(out);
  }

  private emit(out: AvPacket[]): void {
    const units = this.units;
    this.units = [];
    const t = ticksFromRtpTimestamp(this.ts, this.clockRate);
    out.push({ kind: 'video', codec: this.codec, dts: t, pts: t, key: this.isKey(units), units });
  }
}

/**
 * Append the FU fragments of one NAL (RFC 6184 §5.8 FU-A, RFC 7798 §4.4.3 FU) to `out`: each
 * payload is `prefix` (FU indicator / PayloadHdr), an FU header (S start, E end, `type`), then a
 * slice of the NAL from byte `skip` on (its header left out), `maxPayload` bytes except the last.
 */
export function pushFuPayloads(out: Uint8Array[][], nal: Uint8Array, skip: number, prefix: readonly number[], type: number, maxPayload: number): void {
  const chunk = maxPayload - prefix.length - 1;
  for (let off = skip; off < nal.length; off += chunk) {
    const end = Math.min(off + chunk, nal.length);
    const head = new Uint8Array(prefix.length + 1);
    head.set(prefix);
    head[prefix.length] = (off === skip ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    out.push([head, nal.subarray(off, end)]);
  }
}

/**
 * RTP packets (in sequence order) → access units of one NAL-based codec: payload-type filter,
 * fragment loss detection and access-unit grouping, with the format-specific payload parsing in
 * `handle` (single NAL, aggregation packet, FU). Nothing throws; drops are counted.
 */
export abstract class NalDepacketizer {
  readonly drops: RtpDropCounters = newDropCounters();
  protected readonly au: NalAccessUnitAssembler;
  protected readonly frag = new FragmentBuffer();
  private readonly payloadType: number | undefined;

  constructor(codec: VideoCodec, clockRate: number, isKey: (units: readonly Uint8Array[]) => boolean, payloadType: number | undefined) {
    this.payloadType = payloadType;
    this.au = new NalAccessUnitAssembler(codec, clockRate, isKey, this.drops);
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
    this.interruptFragment();
    this.au.flush(out);
    return out;
  }

  /** One non-empty payload of packet `seq` with unwrapped timestamp `ts`. */
  protected abstract handle(p: Uint8Array, seq: number, ts: number): void;

  /** A single NAL unit packet. */
  protected addSingle(p: Uint8Array): void {
    this.interruptFragment();
    this.au.add(p);
  }

  /**
   * An aggregation packet (STAP-A, RFC 6184 §5.7.1; AP, RFC 7798 §4.4.2): from `off` on, each NAL
   * as a 16-bit size then the unit. A size running past the end drops the whole packet.
   */
  protected addAggregated(p: Uint8Array, off: number): void {
    this.interruptFragment();
    const nals: Uint8Array[] = [];
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
  }

  /** The NAL header a start fragment's payload header and FU header `fu` stand for. */
  protected abstract fuNalHeader(p: Uint8Array, fu: number): Uint8Array;

  /** One FU packet `p`: `fu` is its FU header (S 0x80, E 0x40), `data` the NAL slice after it. */
  protected addFragment(p: Uint8Array, fu: number, data: Uint8Array, seq: number, ts: number): void {
    if (fu & 0x80) {
      this.interruptFragment();
      const h = this.fuNalHeader(p, fu);
      if (fu & 0x40) {
        // S and E together is not allowed (RFC 6184 §5.8, RFC 7798 §4.4.3); the data is still a whole NAL
        const nal = new Uint8Array(h.length + data.length);
        nal.set(h, 0);
        nal.set(data, h.length);
        this.au.add(nal);
        return;
      }
      this.frag.start(h, data, seq, ts);
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
  }

  /** A non-FU packet (or a new FU start) while a unit was being reassembled: that unit is lost. */
  protected interruptFragment(): void {
    if (this.frag.active) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
  }
}
