/**
 * RTP fixed header (RFC 3550 §5.1, §5.3.1) and timestamp conversions between RTP clocks and
 * lal's 90 kHz ticks (docs/architecture.md §1.3).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  (X = 1: header extension,
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   length in 32-bit words)
 * |                        header extension                       |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            payload  ...  [padding, last byte = padding count (P = 1)]
 */
import { ParseError } from '../../core/errors.ts';
import { putU16be, putU32be, u16be, u32be } from '../../core/bytes.ts';

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;

export interface RtpHeaderExtension {
  /** The 16 "defined by profile" bits (0xBEDE for RFC 8285 one-byte extensions). */
  profile: number;
  /** Extension data; its length is a multiple of 4. */
  data: Uint8Array;
}

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Contributing sources; empty for everything lal sends. */
  csrcs?: number[];
  extension?: RtpHeaderExtension;
  /** Padding bytes after the payload, count byte included (0 = P bit clear). */
  paddingSize?: number;
}

export interface RtpPacket {
  header: RtpHeader;
  /** View into the decoded buffer (extension and padding excluded). */
  payload: Uint8Array;
}

/**
 * Decode one RTP packet (one UDP datagram or one interleaved frame). CSRCs, the header
 * extension and padding are parsed and kept out of `payload`. Throws ParseError on anything that
 * is not RTP version 2 or whose lengths do not fit.
 */
export function decodeRtpPacket(buf: Uint8Array): RtpPacket {
  if (buf.length < RTP_HEADER_SIZE) throw new ParseError(`rtp: packet of ${buf.length} bytes is shorter than the 12-byte header`, 'truncated');
  const b0 = buf[0];
  const version = b0 >> 6;
  if (version !== RTP_VERSION) throw new ParseError(`rtp: version ${version} is not 2`);
  const cc = b0 & 0x0f;
  let off = RTP_HEADER_SIZE + cc * 4;
  if (off > buf.length) throw new ParseError(`rtp: ${cc} CSRCs run past the ${buf.length}-byte packet`, 'truncated');
  const header: RtpHeader = {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: u16be(buf, 2),
    timestamp: u32be(buf, 4),
    ssrc: u32be(buf, 8),
  };
  if (cc > 0) {
    header.csrcs = [];
    for (let i = 0; i < cc; i++) header.csrcs.push(u32be(buf, RTP_HEADER_SIZE + i * 4));
  }
  if (b0 & 0x10) {
    if (off + 4 > buf.length) throw new ParseError(`rtp: header extension at offset ${off} runs past the ${buf.length}-byte packet`, 'truncated');
    const profile = u16be(buf, off);
    const len = u16be(buf, off + 2) * 4;
    off += 4;
    if (off + len > buf.length) throw new ParseError(`rtp: header extension of ${len} bytes runs past the ${buf.length}-byte packet`, 'truncated');
    header.extension = { profile, data: buf.subarray(off, off + len) };
    off += len;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[buf.length - 1];
    if (pad === 0 || pad > end - off) throw new ParseError(`rtp: padding count ${pad} does not fit the ${end - off}-byte payload`);
    header.paddingSize = pad;
    end -= pad;
  }
  return { header, payload: buf.subarray(off, end) };
}

/** Bytes `encodeRtpPacketInto` writes for this header and a payload of `payloadLength` bytes. */
export function rtpPacketSize(header: RtpHeader, payloadLength: number): number {
  return rtpHeaderSize(header) + payloadLength + (header.paddingSize ?? 0);
}

/** Header bytes: fixed part, CSRCs and extension. */
export function rtpHeaderSize(header: RtpHeader): number {
  return RTP_HEADER_SIZE + (header.csrcs?.length ?? 0) * 4 + (header.extension ? 4 + header.extension.data.length : 0);
}

/**
 * Write header + payload (+ padding: zeros then the count) at `out[off]`; returns the bytes
 * written. Throws ParseError when a field is out of range.
 */
export function encodeRtpPacketInto(header: RtpHeader, payload: Uint8Array, out: Uint8Array, off: number): number {
  const n = writeRtpHeader(header, out, off);
  out.set(payload, off + n);
  let size = n + payload.length;
  const pad = header.paddingSize ?? 0;
  if (pad > 0) {
    out.fill(0, off + size, off + size + pad - 1);
    out[off + size + pad - 1] = pad;
    size += pad;
  }
  return size;
}

export function encodeRtpPacket(header: RtpHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(rtpPacketSize(header, payload.length));
  encodeRtpPacketInto(header, payload, out, 0);
  return out;
}

/** Write the header only (payload follows at the returned offset); used by the packetiser. */
export function writeRtpHeader(header: RtpHeader, out: Uint8Array, off: number): number {
  const cc = header.csrcs?.length ?? 0;
  const pad = header.paddingSize ?? 0;
  if (cc > 15) throw new ParseError(`rtp: ${cc} CSRCs exceed 15`);
  if (pad < 0 || pad > 255 || !Number.isInteger(pad)) throw new ParseError(`rtp: padding size ${pad} is not 0..255`);
  if (header.payloadType < 0 || header.payloadType > 127 || !Number.isInteger(header.payloadType)) {
    throw new ParseError(`rtp: payload type ${header.payloadType} is not 0..127`);
  }
  const ext = header.extension;
  if (ext && (ext.data.length % 4 !== 0 || ext.data.length > 0xffff * 4)) {
    throw new ParseError(`rtp: header extension of ${ext.data.length} bytes is not a multiple of 4 up to 262140`);
  }
  out[off] = (RTP_VERSION << 6) | (pad > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | cc;
  out[off + 1] = (header.marker ? 0x80 : 0) | header.payloadType;
  putU16be(out, off + 2, header.sequenceNumber & 0xffff);
  putU32be(out, off + 4, header.timestamp >>> 0);
  putU32be(out, off + 8, header.ssrc >>> 0);
  let o = off + RTP_HEADER_SIZE;
  for (let i = 0; i < cc; i++, o += 4) putU32be(out, o, header.csrcs![i] >>> 0);
  if (ext) {
    putU16be(out, o, ext.profile & 0xffff);
    putU16be(out, o + 2, ext.data.length / 4);
    out.set(ext.data, o + 4);
    o += 4 + ext.data.length;
  }
  return o - off;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/** lal's packet clock (docs/architecture.md §1.3). */
export const TICKS_PER_SECOND = 90000;

/**
 * 90 kHz ticks → RTP timestamp of a `clockRate` clock, modulo 2^32: floor(ticks × clock / 90000).
 * For RTMP input (ticks = ms × 90) this is docs/media.md §5.2's floor(ms × clock / 1000). Exact for
 * any integer tick count (no 2^53 overflow on long streams).
 */
export function rtpTimestampFromTicks(ticks: number, clockRate: number): number {
  if (clockRate === TICKS_PER_SECOND) return ticks >>> 0;
  const q = Math.floor(ticks / TICKS_PER_SECOND);
  const r = ticks - q * TICKS_PER_SECOND;
  // (q mod 2^32) × clock stays below 2^53 for any clock under 2 MHz
  return ((((q % 0x100000000) * clockRate) % 0x100000000) + Math.floor((r * clockRate) / TICKS_PER_SECOND)) >>> 0;
}

/**
 * An extended (unwrapped) RTP timestamp → 90 kHz ticks: floor(ts × 90000 / clock). Audio is
 * converted from each absolute timestamp, never by summing deltas, so rounding cannot drift.
 */
export function ticksFromRtpTimestamp(ts: number, clockRate: number): number {
  if (clockRate === TICKS_PER_SECOND) return ts;
  const q = Math.floor(ts / clockRate);
  const r = ts - q * clockRate;
  return q * TICKS_PER_SECOND + Math.floor((r * TICKS_PER_SECOND) / clockRate);
}

/**
 * Unwraps 32-bit RTP timestamps into a continuous number line: the first value is kept, each
 * next one moves by the signed 32-bit difference to the previous (so B-frame reordering and
 * the 2^32 wrap both come out right).
 */
export class RtpTimestampUnwrapper {
  private last = -1;
  private ext = 0;

  unwrap(ts: number): number {
    ts >>>= 0;
    if (this.last < 0) this.ext = ts;
    else this.ext += (ts - this.last) | 0;
    this.last = ts;
    return this.ext;
  }
}

/** `a` after `b` in 16-bit sequence-number space (RFC 3550 §A.1): their difference is 1..32767. */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}
