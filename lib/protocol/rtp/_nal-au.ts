/**
 * Internal to lib/protocol/rtp: the parts H.264 (RFC 6184) and H.265 (RFC 7798) depacketising
 * share — drop accounting, fragment reassembly and grouping NAL units of one RTP timestamp into
 * one AvPacket (media.md §6.1).
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
