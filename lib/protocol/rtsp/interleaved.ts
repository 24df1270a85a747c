/**
 * RTSP interleaved binary data framing (RFC 2326 §10.12; docs/protocols.md §3.1, §3.7):
 * `$` (0x24), 1-byte channel, 2-byte big-endian length, then the RTP/RTCP packet.
 * Parsing lives in the message reader (frames arrive mixed with RTSP messages); this file has
 * the writers. Players share one packet buffer: the 4-byte prefix (plus the WebSocket frame
 * header for RTSP over WebSocket) is a separate small buffer, so the packet is never copied.
 */
import { LalError } from '../../core/errors.ts';
import { putU16be } from '../../core/bytes.ts';
import { WsOpcode, wsFrameHeaderSize, writeWsFrameHeader } from '../http/ws.ts';

export const INTERLEAVED_MAGIC = 0x24;
export const INTERLEAVED_HEADER_SIZE = 4;
/** The length field is 16 bits. */
export const MAX_INTERLEAVED_PAYLOAD = 0xffff;

function check(channel: number, len: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new LalError('rtsp-interleaved', `rtsp: interleaved channel ${channel} out of 0..255`);
  if (!Number.isInteger(len) || len < 0 || len > MAX_INTERLEAVED_PAYLOAD) {
    throw new LalError('rtsp-interleaved', `rtsp: interleaved payload of ${len} bytes exceeds ${MAX_INTERLEAVED_PAYLOAD}`);
  }
}

/** The 4-byte prefix for a `len`-byte packet on `channel`. */
export function encodeInterleavedHeader(channel: number, len: number): Uint8Array {
  check(channel, len);
  const out = new Uint8Array(INTERLEAVED_HEADER_SIZE);
  out[0] = INTERLEAVED_MAGIC;
  out[1] = channel;
  putU16be(out, 2, len);
  return out;
}

/** Prefix + payload written into `out` at `off`; returns the bytes written. */
export function encodeInterleavedInto(channel: number, payload: Uint8Array, out: Uint8Array, off: number): number {
  check(channel, payload.length);
  const n = INTERLEAVED_HEADER_SIZE + payload.length;
  if (off < 0 || off + n > out.length) throw new LalError('rtsp-interleaved', `rtsp: interleaved frame of ${n} bytes does not fit at offset ${off}`);
  out[off] = INTERLEAVED_MAGIC;
  out[off + 1] = channel;
  putU16be(out, off + 2, payload.length);
  out.set(payload, off + INTERLEAVED_HEADER_SIZE);
  return n;
}

/** Prefix + payload in one new buffer. */
export function encodeInterleaved(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(INTERLEAVED_HEADER_SIZE + payload.length);
  encodeInterleavedInto(channel, payload, out, 0);
  return out;
}

/**
 * RTSP over WebSocket (docs/protocols.md §3.7): each packet is one unmasked binary frame holding
 * the interleaved prefix and the packet. Returns the WS frame header followed by the 4-byte
 * prefix; the packet follows as a separate write.
 */
export function encodeWsInterleavedHeader(channel: number, len: number): Uint8Array {
  check(channel, len);
  const frameLen = INTERLEAVED_HEADER_SIZE + len;
  const h = wsFrameHeaderSize(frameLen);
  const out = new Uint8Array(h + INTERLEAVED_HEADER_SIZE);
  writeWsFrameHeader(out, 0, WsOpcode.Binary, frameLen);
  out[h] = INTERLEAVED_MAGIC;
  out[h + 1] = channel;
  putU16be(out, h + 2, len);
  return out;
}
