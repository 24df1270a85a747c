/**
 * AvPacket → RTP packets for RTSP players (docs/media.md §5.2), encoded once per packet and shared by
 * every player (docs/architecture.md §1.4).
 *
 * One call allocates one buffer holding, for each RTP packet, the 4-byte RTSP interleaved header
 * (RFC 2326 §10.12: `$`, channel, 16-bit length) followed by the packet:
 *
 *   | 24 ch len16 | RTP packet 1 | 24 ch len16 | RTP packet 2 | …
 *
 * TCP players write `interleaved` as it is (one write per AvPacket); UDP players send each of
 * `packets`, which are views into the same buffer that skip the 4-byte headers. Nothing is
 * patched per player; a player whose interleaved channel differs from the one encoded gets its
 * own copy from setInterleavedChannel (or the server memoises one batch per channel).
 */
import { LalError, ParseError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { putU16be } from '../../core/bytes.ts';
import { RTP_HEADER_SIZE, rtpTimestampFromTicks, writeRtpHeader } from './packet.ts';
import { h264Payloads } from './h264.ts';
import { h265Payloads } from './h265.ts';
import { aacPayload } from './aac.ts';
import { simplePayload } from './simple.ts';

/** Codecs lal packetises and depacketises (docs/media.md §1). */
export type RtpCodec = 'h264' | 'h265' | 'aac' | 'g711a' | 'g711u' | 'opus';

/** LAL's RTP payload size: NALs up to this go alone, larger ones are fragmented to it. */
export const DEFAULT_RTP_MAX_PAYLOAD = 1200;
/** Smallest payload size accepted: room for FU headers and some data. */
const MIN_RTP_MAX_PAYLOAD = 16;
/** `$` + channel + 16-bit length (RFC 2326 §10.12). */
export const INTERLEAVED_HEADER_SIZE = 4;
const MAX_INTERLEAVED_PACKET = 0xffff;

export interface RtpPacketizerOptions {
  codec: RtpCodec;
  payloadType: number;
  clockRate: number;
  /** Random when absent (docs/media.md §5.2). */
  ssrc?: number;
  /** First sequence number; random when absent. */
  sequenceNumber?: number;
  /** Largest RTP payload in bytes (the 12-byte header not counted); 1200 by default. */
  mtu?: number;
}

export interface RtpBatch {
  /** Interleaved frames back to back, all with the channel given to packetizeBatch. */
  interleaved: Uint8Array;
  /** The RTP packets, views into `interleaved`. */
  packets: Uint8Array[];
}

export class RtpPacketizer {
  readonly codec: RtpCodec;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly ssrc: number;
  readonly mtu: number;
  private seq: number;

  constructor(opts: RtpPacketizerOptions) {
    const mtu = opts.mtu ?? DEFAULT_RTP_MAX_PAYLOAD;
    if (!Number.isInteger(mtu) || mtu < MIN_RTP_MAX_PAYLOAD || mtu > MAX_INTERLEAVED_PACKET - RTP_HEADER_SIZE) {
      throw new LalError('rtp-options', `rtp: payload size ${mtu} is outside ${MIN_RTP_MAX_PAYLOAD}..${MAX_INTERLEAVED_PACKET - RTP_HEADER_SIZE}`);
    }
    if (!Number.isInteger(opts.payloadType) || opts.payloadType < 0 || opts.payloadType > 127) {
      throw new LalError('rtp-options', `rtp: payload type ${opts.payloadType} is not 0..127`);
    }
    if (!(opts.clockRate > 0)) throw new LalError('rtp-options', `rtp: clock rate ${opts.clockRate} is not positive`);
    this.codec = opts.codec;
    this.payloadType = opts.payloadType;
    this.clockRate = opts.clockRate;
    this.mtu = mtu;
    const rnd = crypto.getRandomValues(new Uint32Array(2));
    this.ssrc = (opts.ssrc ?? rnd[0]) >>> 0;
    this.seq = (opts.sequenceNumber ?? rnd[1]) & 0xffff;
  }

  /** Sequence number the next packet will carry. */
  get sequenceNumber(): number {
    return this.seq;
  }

  /** The RTP packets of one AvPacket (views into one shared buffer; see packetizeBatch). */
  packetize(pkt: AvPacket): Uint8Array[] {
    return this.packetizeBatch(pkt).packets;
  }

  /**
   * The RTP packets of one AvPacket in one allocation, each behind an interleaved header for
   * `channel`. Timestamp from the DTS (docs/quirks.md Q-RTP-1: composition time ignored); marker on the last
   * packet of a video access unit and on every audio packet. An access unit of only AUDs gives
   * no packets.
   */
  packetizeBatch(pkt: AvPacket, channel = 0): RtpBatch {
    if (pkt.codec !== this.codec) throw new LalError('rtp-codec', `rtp: ${pkt.codec} packet given to the ${this.codec} packetiser`);
    const payloads = this.payloads(pkt);
    let total = 0;
    for (const pieces of payloads) {
      let n = RTP_HEADER_SIZE;
      for (const p of pieces) n += p.length;
      if (n > MAX_INTERLEAVED_PACKET) throw new ParseError(`rtp: ${pkt.codec} packet of ${n} bytes exceeds the interleaved 16-bit length`, 'too-large');
      total += INTERLEAVED_HEADER_SIZE + n;
    }
    const buf = new Uint8Array(total);
    const packets: Uint8Array[] = [];
    const timestamp = rtpTimestampFromTicks(pkt.dts, this.clockRate);
    const video = pkt.kind === 'video';
    let off = 0;
    for (let i = 0; i < payloads.length; i++) {
      const start = off;
      buf[off] = 0x24; // '$'
      buf[off + 1] = channel & 0xff;
      off += INTERLEAVED_HEADER_SIZE;
      off += writeRtpHeader(
        { marker: !video || i === payloads.length - 1, payloadType: this.payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc },
        buf,
        off,
      );
      this.seq = (this.seq + 1) & 0xffff;
      for (const p of payloads[i]) {
        buf.set(p, off);
        off += p.length;
      }
      putU16be(buf, start + 2, off - start - INTERLEAVED_HEADER_SIZE);
      packets.push(buf.subarray(start + INTERLEAVED_HEADER_SIZE, off));
    }
    return { interleaved: buf, packets };
  }

  private payloads(pkt: AvPacket): Uint8Array[][] {
    switch (this.codec) {
      case 'h264':
        return h264Payloads(pkt.units, this.mtu);
      case 'h265':
        return h265Payloads(pkt.units, this.mtu);
      case 'aac':
        return pkt.units.filter((u) => u.length > 0).map(aacPayload);
      default:
        return pkt.units.filter((u) => u.length > 0).map(simplePayload);
    }
  }
}

/**
 * A copy of interleaved frames (as packetizeBatch makes them) with every channel byte set to
 * `channel`. Throws ParseError when the buffer is not a sequence of whole frames.
 */
export function setInterleavedChannel(interleaved: Uint8Array, channel: number): Uint8Array {
  const out = interleaved.slice(); // copy: the original is shared with other players
  let off = 0;
  while (off < out.length) {
    if (off + INTERLEAVED_HEADER_SIZE > out.length || out[off] !== 0x24) {
      throw new ParseError(`rtp: no interleaved frame header at offset ${off}`);
    }
    out[off + 1] = channel & 0xff;
    off += INTERLEAVED_HEADER_SIZE + ((out[off + 2] << 8) | out[off + 3]);
  }
  if (off !== out.length) throw new ParseError(`rtp: last interleaved frame runs ${off - out.length} bytes past the end`, 'truncated');
  return out;
}
