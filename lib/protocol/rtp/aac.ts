/**
 * MPEG-4 AAC over RTP, RFC 3640 `mode=AAC-hbr` (`mpeg4-generic`): packetiser per docs/media.md §5.2
 * (one AU per packet, no fragmentation) and depacketiser per docs/media.md §6.1 (several AUs per
 * packet; one AU fragmented over packets).
 *
 * +---------+-----------+-----------+---------------+
 * | RTP     | AU Header | Auxiliary | Access Unit   |
 * | Header  | Section   | Section   | Data Section  |
 * +---------+-----------+-----------+---------------+
 *
 * AU Header Section (§3.2.1): AU-headers-length (16 bits, in bits), then AU-headers, padded to a
 * byte. With AAC-hbr each AU-header is 16 bits:
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  AU-size (13 bits)      |Index|   first header: AU-Index, later ones: AU-Index-delta
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * The Access Unit Data Section holds the AUs back to back. A fragmented AU (§3.2.3.2) has one
 * AU-header carrying the size of the whole AU in every fragment, all with the same timestamp.
 */
import { ParseError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { BitReader } from '../../core/bit-reader.ts';
import type { SdpFmtp } from '../../format/sdp/types.ts';
import type { RtpPacket } from './packet.ts';
import { RtpTimestampUnwrapper, ticksFromRtpTimestamp } from './packet.ts';
import { newDropCounters } from './_nal-au.ts';
import type { RtpDropCounters } from './_nal-au.ts';

/** Largest AU the 13-bit AU-size of AAC-hbr can describe. */
export const MAX_AAC_HBR_AU_SIZE = 0x1fff;

/** AU-header field widths (RFC 3640 §4.1 `sizelength`, `indexlength`, `indexdeltalength`). */
export interface AacAuHeaderConfig {
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
}

/** AAC-hbr (RFC 3640 §3.3.6): 13, 3, 3. */
export const AAC_HBR: AacAuHeaderConfig = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 };

/**
 * AU-header widths from SDP fmtp parameters, AAC-hbr defaults for the ones missing. Throws
 * ParseError when a value is not a small integer, when AU sizes are absent (sizelength 0:
 * constant-size AUs, which AAC does not use) or when the header also carries fields lal does not
 * read (CTS/DTS deltas, RAP flag, stream state).
 */
export function aacAuHeaderConfig(fmtp: SdpFmtp): AacAuHeaderConfig {
  const num = (key: string, def: number): number => {
    const v = fmtp[key];
    if (v === undefined || v === '') return def;
    if (!/^\d{1,2}$/.test(v)) throw new ParseError(`rtp: aac fmtp ${key}=${JSON.stringify(v)} is not a small integer`);
    return Number(v);
  };
  const c = { sizeLength: num('sizelength', 13), indexLength: num('indexlength', 3), indexDeltaLength: num('indexdeltalength', 3) };
  if (c.sizeLength < 1 || c.sizeLength > 16 || c.indexLength > 8 || c.indexDeltaLength > 8) {
    throw new ParseError(`rtp: aac AU-header widths ${c.sizeLength}/${c.indexLength}/${c.indexDeltaLength} are outside 1..16/0..8/0..8`);
  }
  for (const key of ['ctsdeltalength', 'dtsdeltalength', 'randomaccessindication', 'streamstateindication', 'auxiliarydatasizelength']) {
    if (fmtp[key] !== undefined && fmtp[key] !== '0') throw new ParseError(`rtp: aac fmtp ${key}=${fmtp[key]} is not supported`);
  }
  return c;
}

/** The payload of one AAC-hbr packet for one raw AU: `00 10` + 13-bit size + index 0, then the AU. */
export function aacPayload(frame: Uint8Array): Uint8Array[] {
  if (frame.length > MAX_AAC_HBR_AU_SIZE) {
    throw new ParseError(`rtp: aac frame of ${frame.length} bytes exceeds the 13-bit AU-size (${MAX_AAC_HBR_AU_SIZE})`, 'too-large');
  }
  const head = new Uint8Array(4);
  head[1] = 0x10; // AU-headers-length = 16 bits
  head[2] = frame.length >> 5;
  head[3] = (frame.length & 0x1f) << 3;
  return [head, frame];
}

export interface AacDepacketizerOptions {
  /** RTP clock: the AAC sampling rate. */
  clockRate: number;
  payloadType?: number;
  /** AU-header widths, AAC-hbr by default; see aacAuHeaderConfig. */
  auHeader?: AacAuHeaderConfig;
  /** Samples per AU, the timestamp step between AUs of one packet (1024 for AAC-LC). */
  samplesPerFrame?: number;
}

/**
 * RTP packets (in sequence order) → one AvPacket per AAC access unit. AU i of a packet gets the
 * packet's timestamp + i × samplesPerFrame; every timestamp is converted from the extended RTP
 * timestamp. Unfragmented AUs are views into the payload; a fragmented AU is reassembled into a
 * new buffer and dropped when a fragment is missing.
 */
export class AacDepacketizer {
  readonly drops: RtpDropCounters = newDropCounters();
  private readonly cfg: AacAuHeaderConfig;
  private readonly clockRate: number;
  private readonly payloadType: number | undefined;
  private readonly samplesPerFrame: number;
  private readonly unwrapper = new RtpTimestampUnwrapper();
  /**
   * The AU being reassembled, in its own buffer of the size its AU-header announced (at most
   * 2^16 − 1 with sizelength ≤ 16): fragments are copied in as they come, so nothing per fragment
   * is kept, and an empty fragment (which would never complete it) drops it.
   */
  private frag: { ts: number; nextSeq: number; buf: Uint8Array; have: number } | undefined;

  /** Bytes held for an AU in reassembly. */
  get heldBytes(): number {
    return this.frag ? this.frag.buf.length : 0;
  }
  /** Timestamp of the previous packet and whether it ended an AU (marker bit), to tell first fragments from orphans. */
  private prev: { ts: number; ended: boolean } | undefined;

  constructor(opts: AacDepacketizerOptions) {
    this.cfg = opts.auHeader ?? AAC_HBR;
    this.clockRate = opts.clockRate;
    this.payloadType = opts.payloadType;
    this.samplesPerFrame = opts.samplesPerFrame ?? 1024;
  }

  push(pkt: RtpPacket): AvPacket[] {
    const out: AvPacket[] = [];
    if (this.payloadType !== undefined && pkt.header.payloadType !== this.payloadType) {
      this.drops.payloadType++;
      return out;
    }
    const ts = this.unwrapper.unwrap(pkt.header.timestamp);
    const prev = this.prev;
    this.prev = { ts, ended: pkt.header.marker };
    const seq = pkt.header.sequenceNumber;
    const p = pkt.payload;
    if (p.length === 0) {
      this.drops.empty++;
      return out;
    }
    const sizes = this.auSizes(p);
    if (!sizes) {
      this.drops.malformed++;
      return out;
    }
    let off = sizes.dataOffset;
    const data = p.length - off;

    const f = this.frag;
    if (f) {
      if (f.ts === ts && f.nextSeq === seq && sizes.list.length === 1 && sizes.list[0] === f.buf.length) {
        const piece = p.subarray(off, Math.min(p.length, off + (f.buf.length - f.have)));
        if (piece.length === 0) {
          this.drops.malformed++;
          this.frag = undefined;
          return out;
        }
        f.buf.set(piece, f.have);
        f.have += piece.length;
        f.nextSeq = (seq + 1) & 0xffff;
        if (f.have === f.buf.length) {
          this.frag = undefined;
          out.push(this.packet(f.buf, ts));
        } else if (pkt.header.marker) {
          // the last fragment (RFC 3640 §3.3.6: M set) came and the AU is still short
          this.drops.fragmentLost++;
          this.frag = undefined;
        }
        return out;
      }
      this.drops.fragmentLost++;
      this.frag = undefined;
    }

    if (sizes.list.length === 1 && sizes.list[0] > data) {
      // An AU spread over packets (RFC 3640 §3.2.3.2). Nothing marks the first fragment; a
      // packet continuing the timestamp of an unfinished previous packet is a later one whose
      // start was lost.
      if (prev && prev.ts === ts && !prev.ended) {
        this.drops.fragmentWithoutStart++;
        return out;
      }
      if (data <= 0) {
        this.drops.malformed++;
        return out;
      }
      const buf = new Uint8Array(sizes.list[0]);
      buf.set(p.subarray(off));
      this.frag = { ts, nextSeq: (seq + 1) & 0xffff, buf, have: data };
      return out;
    }
    let total = 0;
    for (const s of sizes.list) total += s;
    if (total > data) {
      this.drops.malformed++;
      return out;
    }
    for (let i = 0; i < sizes.list.length; i++) {
      const s = sizes.list[i];
      if (s > 0) out.push(this.packet(p.subarray(off, off + s), ts + i * this.samplesPerFrame));
      off += s;
    }
    return out;
  }

  /** Nothing is held back except an unfinished fragment, which is dropped. */
  flush(): AvPacket[] {
    if (this.frag) {
      this.drops.fragmentLost++;
      this.frag = undefined;
    }
    return [];
  }

  private packet(frame: Uint8Array, ts: number): AvPacket {
    const t = ticksFromRtpTimestamp(ts, this.clockRate);
    return { kind: 'audio', codec: 'aac', dts: t, pts: t, key: true, units: [frame] };
  }

  /** AU sizes of the AU Header Section, and where the data starts; undefined when it does not fit. */
  private auSizes(p: Uint8Array): { list: number[]; dataOffset: number } | undefined {
    if (p.length < 2) return undefined;
    const bits = (p[0] << 8) | p[1];
    const bytes = Math.ceil(bits / 8);
    if (bits === 0 || 2 + bytes > p.length) return undefined;
    const { sizeLength, indexLength, indexDeltaLength } = this.cfg;
    const r = new BitReader(p.subarray(2, 2 + bytes), 'rtp: aac AU headers');
    const list: number[] = [];
    let left = bits;
    for (let first = true; left > 0; first = false) {
      const need = sizeLength + (first ? indexLength : indexDeltaLength);
      if (left < need) return undefined;
      list.push(r.readBits(sizeLength));
      r.skipBits(need - sizeLength);
      left -= need;
    }
    return { list, dataOffset: 2 + bytes };
  }
}
