/**
 * Internal to lib/protocol/rtp: the parts H.264 (RFC 6184) and H.265 (RFC 7798) packetising and
 * depacketising share — FU fragmentation, drop accounting, fragment reassembly, aggregation
 * packets, and grouping NAL units of one RTP timestamp into one AvPacket (docs/media.md §5.2, §6.1).
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
 * Most FU fragments one access unit may arrive in: a 16 MiB picture in 1 KiB fragments (real
 * senders fill ~1.4 KB payloads, so 16 MiB takes them ~12,000). Bounds the pieces held and the
 * work done for a peer that sends tiny fragments (500,000 one-byte FU-A middles used to cost
 * ~75 MB of views).
 */
export const MAX_FRAGMENTS_PER_AU = 16 * 1024;

/**
 * What holding one more piece costs besides its bytes (a view object and an array slot),
 * charged against MAX_AU_BYTES so that tiny fragments or units cannot hide their cost.
 */
export const PIECE_OVERHEAD_BYTES = 64;

/**
 * Most a depacketiser holds for one access unit: its NAL units plus the unit being reassembled,
 * each piece charged PIECE_OVERHEAD_BYTES on top of its bytes. A depacketiser holds one access
 * unit at a time, so this also bounds everything it holds (`heldBytes`). Room for the largest
 * NAL (MAX_FRAGMENTED_NALU_SIZE) with every fragment's overhead, and as much overhead again for
 * the access unit's other units.
 */
export const MAX_AU_BYTES = MAX_FRAGMENTED_NALU_SIZE + 2 * MAX_FRAGMENTS_PER_AU * PIECE_OVERHEAD_BYTES;

/**
 * Why depacketisers drop input. Loss is normal on UDP, so nothing here throws: the session reads
 * these counters and logs them periodically (docs/architecture.md §1.7 rule 9).
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
  /**
   * Input dropped for a bound: a unit above MAX_FRAGMENTED_NALU_SIZE, a unit beyond
   * MAX_NALUS_PER_AU, and every packet of an access unit that went over MAX_AU_BYTES or
   * MAX_FRAGMENTS_PER_AU (the whole access unit is dropped, counted once per packet).
   */
  tooLarge: number;
}

export function newDropCounters(): RtpDropCounters {
  return { payloadType: 0, empty: 0, malformed: 0, unsupported: 0, fragmentWithoutStart: 0, fragmentLost: 0, tooLarge: 0 };
}

/** Total of all drop counters. */
export function totalDrops(d: RtpDropCounters): number {
  return d.payloadType + d.empty + d.malformed + d.unsupported + d.fragmentWithoutStart + d.fragmentLost + d.tooLarge;
}

/**
 * Reassembles one fragmented unit from contiguous packets. It keeps views of the fragments
 * (bounded in number by MAX_FRAGMENTS_PER_AU through the depacketiser) and copies once, in
 * `finish`.
 */
export class FragmentBuffer {
  private pieces: Uint8Array[] = [];
  private size = 0;
  private nextSeq = -1;
  private ts = 0;

  get active(): boolean {
    return this.nextSeq >= 0;
  }

  /** Pieces held (the rebuilt header and each fragment). */
  get count(): number {
    return this.pieces.length;
  }

  /** Bytes held, each piece charged PIECE_OVERHEAD_BYTES more. */
  get charged(): number {
    return this.size + this.pieces.length * PIECE_OVERHEAD_BYTES;
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

/**
 * Groups NAL units of one RTP timestamp into AvPackets (emitted on marker or timestamp change).
 * Also keeps the access unit's budget: bytes held (units, each charged PIECE_OVERHEAD_BYTES) and
 * FU fragments seen. Once the depacketiser finds the budget exceeded it calls `discard()`: what
 * the unit held is let go and the rest of it is ignored until the next marker or timestamp.
 */
export class NalAccessUnitAssembler {
  private units: Uint8Array[] = [];
  private ts = 0;
  private readonly unwrapper = new RtpTimestampUnwrapper();
  /** Bytes of `units`, each charged PIECE_OVERHEAD_BYTES more. */
  heldBytes = 0;
  /** FU fragments of this access unit so far. */
  fragments = 0;
  /** The access unit went over its budget; drop the rest of it. */
  discarding = false;

  constructor(
    private readonly codec: VideoCodec,
    private readonly clockRate: number,
    private readonly isKey: (units: readonly Uint8Array[]) => boolean,
    private readonly drops: RtpDropCounters,
  ) {}

  /** Start a packet: unwrap its timestamp, emit the pending unit when the timestamp moved. */
  begin(pkt: RtpPacket, out: AvPacket[]): number {
    const ts = this.unwrapper.unwrap(pkt.header.timestamp);
    if (ts !== this.ts) {
      if (this.units.length > 0) this.emit(out);
      else this.resetBudget();
    }
    this.ts = ts;
    return ts;
  }

  /** Add a unit; false when it does not fit the access unit's byte budget (`extra` already held elsewhere). */
  add(nal: Uint8Array, extra = 0): boolean {
    if (nal.length === 0) return true;
    if (this.units.length >= MAX_NALUS_PER_AU) {
      this.drops.tooLarge++;
      return true;
    }
    const cost = nal.length + PIECE_OVERHEAD_BYTES;
    if (this.heldBytes + extra + cost > MAX_AU_BYTES) return false;
    this.units.push(nal);
    this.heldBytes += cost;
    return true;
  }

  /** Let go of everything held and ignore the rest of this access unit. */
  discard(): void {
    this.units = [];
    this.heldBytes = 0;
    this.discarding = true;
  }

  /** Finish a packet: the marker bit ends the access unit. */
  end(pkt: RtpPacket, out: AvPacket[]): void {
    if (!pkt.header.marker) return;
    if (this.units.length > 0) this.emit(out);
    else this.resetBudget();
  }

  flush(out: AvPacket[]): void {
    if (this.units.length > 0) this.emit(out);
    else this.resetBudget();
  }

  private resetBudget(): void {
    this.heldBytes = 0;
    this.fragments = 0;
    this.discarding = false;
  }

  private emit(out: AvPacket[]): void {
    const units = this.units;
    this.units = [];
    this.resetBudget();
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
    if (this.au.discarding) this.drops.tooLarge++;
    else if (pkt.payload.length === 0) this.drops.empty++;
    else this.handle(pkt.payload, seq, ts);
    this.au.end(pkt, out);
    return out;
  }

  /**
   * What this depacketiser holds now: the access unit in assembly and the unit being
   * reassembled, each piece charged PIECE_OVERHEAD_BYTES. Never above MAX_AU_BYTES.
   */
  get heldBytes(): number {
    return this.au.heldBytes + this.frag.charged;
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
    this.addUnit(p);
  }

  /** Add a complete unit to the access unit, which is dropped when it goes over budget. */
  private addUnit(nal: Uint8Array): void {
    if (!this.au.add(nal, this.frag.charged)) this.dropAccessUnit();
  }

  /** The access unit went over MAX_AU_BYTES or MAX_FRAGMENTS_PER_AU: drop all of it. */
  private dropAccessUnit(): void {
    this.frag.reset();
    this.au.discard();
    this.drops.tooLarge++;
  }

  /** Count one FU fragment of `bytes` against the access unit; false when it went over budget. */
  private admitFragment(bytes: number): boolean {
    const au = this.au;
    // The unit in reassembly is counted too: a marker bit on a middle fragment ends the access
    // unit's count but not the unit.
    if (++au.fragments > MAX_FRAGMENTS_PER_AU || this.frag.count > MAX_FRAGMENTS_PER_AU || au.heldBytes + this.frag.charged + bytes + PIECE_OVERHEAD_BYTES > MAX_AU_BYTES) {
      this.dropAccessUnit();
      return false;
    }
    return true;
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
    for (const n of nals) {
      this.addUnit(n);
      if (this.au.discarding) return;
    }
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
        this.addUnit(nal);
        return;
      }
      if (!this.admitFragment(h.length + data.length + PIECE_OVERHEAD_BYTES)) return;
      this.frag.start(h, data, seq, ts);
      return;
    }
    if (!this.frag.active) {
      this.drops.fragmentWithoutStart++;
      return;
    }
    if (!this.admitFragment(data.length)) return;
    if (!this.frag.append(data, seq)) {
      this.drops.tooLarge++;
      return;
    }
    if (fu & 0x40) this.addUnit(this.frag.finish());
  }

  /** A non-FU packet (or a new FU start) while a unit was being reassembled: that unit is lost. */
  protected interruptFragment(): void {
    if (this.frag.active) {
      this.drops.fragmentLost++;
      this.frag.reset();
    }
  }
}
