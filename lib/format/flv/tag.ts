/**
 * FLV tag framing (Adobe FLV spec v10.1 annex E.4.1, docs/protocols.md §4): 11-byte tag header, body,
 * 4-byte PreviousTagSize. `encodeFlvTag` is the FLV fan-out hot path (once per packet, shared by
 * every HTTP-FLV/WS-FLV player and recorder), so it allocates exactly once.
 *
 *   0          1..3        4..6          7           8..10        11..       +len..+4
 *  +----------+-----------+-------------+-----------+------------+----------+-----------------+
 *  | rsv|F|typ| DataSize  | Timestamp   | TsExtended| StreamID 0 | body     | PreviousTagSize |
 *  | 2b 1b 5b | u24       | u24 (low)   | u8 (high) | u24        | DataSize | u32 = 11 + len  |
 *  +----------+-----------+-------------+-----------+------------+----------+-----------------+
 */
import { LalError } from '../../core/errors.ts';

/** TagType values (E.4.1). */
export const FlvTagType = { Audio: 8, Video: 9, Script: 18 } as const;

export interface FlvTag {
  /** TagType (low 5 bits of byte 0): 8 audio, 9 video, 18 script data. */
  type: number;
  /** Milliseconds, 32-bit: 24-bit Timestamp plus TimestampExtended as the high byte. */
  timestamp: number;
  /** Tag body (audio/video tag header + payload, or AMF0 script data). */
  body: Uint8Array;
}

export const FLV_TAG_HEADER_SIZE = 11;
export const FLV_PREV_TAG_SIZE_SIZE = 4;
/**
 * Largest tag body: DataSize is a 24-bit field, so 16 MiB − 1 is the format's own ceiling; the
 * reader refuses anything larger before buffering it.
 */
export const MAX_FLV_TAG_SIZE = 16 * 1024 * 1024;

/** Bytes `encodeFlvTag` produces for a body of `bodyLength` bytes. */
export function flvTagSize(bodyLength: number): number {
  return FLV_TAG_HEADER_SIZE + bodyLength + FLV_PREV_TAG_SIZE_SIZE;
}

/**
 * Write one complete tag (header, body, PreviousTagSize) into `out` at `off`.
 * Returns the bytes written (`flvTagSize(body.length)`). `out` must have room.
 */
export function encodeFlvTagInto(type: number, timestamp: number, body: Uint8Array, out: Uint8Array, off: number): number {
  const len = body.length;
  if (len >= MAX_FLV_TAG_SIZE) {
    throw new LalError('too-large', `flv: tag body of ${len} bytes does not fit the 24-bit DataSize`);
  }
  const ts = timestamp >>> 0;
  out[off] = type & 0x1f;
  out[off + 1] = len >>> 16;
  out[off + 2] = (len >>> 8) & 0xff;
  out[off + 3] = len & 0xff;
  out[off + 4] = (ts >>> 16) & 0xff;
  out[off + 5] = (ts >>> 8) & 0xff;
  out[off + 6] = ts & 0xff;
  out[off + 7] = ts >>> 24;
  out[off + 8] = 0;
  out[off + 9] = 0;
  out[off + 10] = 0;
  out.set(body, off + FLV_TAG_HEADER_SIZE);
  const p = off + FLV_TAG_HEADER_SIZE + len;
  const prev = FLV_TAG_HEADER_SIZE + len;
  out[p] = prev >>> 24;
  out[p + 1] = (prev >>> 16) & 0xff;
  out[p + 2] = (prev >>> 8) & 0xff;
  out[p + 3] = prev & 0xff;
  return prev + FLV_PREV_TAG_SIZE_SIZE;
}

/** One tag as a new buffer (one allocation). */
export function encodeFlvTag(type: number, timestamp: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(flvTagSize(body.length));
  encodeFlvTagInto(type, timestamp, body, out, 0);
  return out;
}

/**
 * A sequence header (decoder configuration) rather than a frame: AVC/HEVC `AVCPacketType` 0,
 * enhanced-RTMP `SequenceStart` (PacketType 0), AAC `AACPacketType` 0 (E.4.2.1, E.4.3.1).
 */
export function isFlvSequenceHeader(type: number, body: Uint8Array): boolean {
  if (body.length < 2) return false;
  if (type === FlvTagType.Video) return (body[0] & 0x80) !== 0 ? (body[0] & 0x0f) === 0 : body[1] === 0 && ((body[0] & 0x0f) === 7 || (body[0] & 0x0f) === 12);
  if (type === FlvTagType.Audio) return body[0] >> 4 === 10 && body[1] === 0;
  return false;
}
