/**
 * RTMP message → chunks (RTMP spec §5.3; docs/protocols.md §2.3). Every message starts with a
 * fmt-0 header carrying the absolute timestamp, continuation chunks are fmt 3, and when the
 * timestamp is ≥ FFFFFF the 4-byte extended timestamp is written on every chunk. fmt 0 on
 * every message is what lets the fan-out share one encoding among all players (docs/architecture.md §2.3).
 *
 * This is the server's fan-out hot path (once per media packet, the result shared by every
 * RTMP player): size first, one allocation, one copy of the body, no per-call closures.
 *
 *   first chunk: [fmt0|csid] ts(3) len(3) type(1) msid(4 LE) [ext ts(4)] body[0..cs]
 *   next chunks: [fmt3|csid] [ext ts(4)] body[cs..2cs] …
 */
import { putU24be, putU32be, putU32le } from '../../core/bytes.ts';
import { LalError } from '../../core/errors.ts';
import { MAX_CHUNK_SIZE, OUT_CHUNK_SIZE } from './constants.ts';

/** What the writer needs of a message. */
export interface RtmpMessageOut {
  csid: number;
  type: number;
  /** Absolute timestamp in ms; taken modulo 2^32. */
  timestamp: number;
  streamId: number;
  body: Uint8Array;
}

const MAX_CSID = 65599;
const MAX_BODY = 0xffffff;

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function check(m: RtmpMessageOut, chunkSize: number): void {
  if (!(m.csid >= 2 && m.csid <= MAX_CSID)) throw new LalError('rtmp-encode', `rtmp: cannot encode csid ${m.csid} (2..${MAX_CSID})`);
  if (!(chunkSize >= 1 && chunkSize <= MAX_CHUNK_SIZE)) throw new LalError('rtmp-encode', `rtmp: cannot encode with chunk size ${chunkSize}`);
  if (m.body.length > MAX_BODY) throw new LalError('rtmp-encode', `rtmp: message body of ${m.body.length} bytes exceeds the 24-bit length field`);
}

/** Encoded size of `m` in chunks of `chunkSize`. */
export function encodeRtmpMessageSize(m: RtmpMessageOut, chunkSize = OUT_CHUNK_SIZE): number {
  check(m, chunkSize);
  return sizeOf(m, chunkSize);
}

function sizeOf(m: RtmpMessageOut, chunkSize: number): number {
  const basic = basicHeaderSize(m.csid);
  const ext = m.timestamp >>> 0 >= 0xffffff ? 4 : 0;
  const len = m.body.length;
  const chunks = len === 0 ? 1 : Math.ceil(len / chunkSize);
  return basic + 11 + ext + len + (chunks - 1) * (basic + ext);
}

function writeBasic(out: Uint8Array, o: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[o] = (fmt << 6) | csid;
    return o + 1;
  }
  if (csid < 320) {
    out[o] = fmt << 6;
    out[o + 1] = csid - 64;
    return o + 2;
  }
  const c = csid - 64;
  out[o] = (fmt << 6) | 1;
  out[o + 1] = c & 0xff;
  out[o + 2] = c >>> 8;
  return o + 3;
}

/**
 * Encode `m` into `out` at `off` (room for encodeRtmpMessageSize bytes required); returns the
 * bytes written.
 */
export function encodeRtmpMessageInto(m: RtmpMessageOut, out: Uint8Array, off: number, chunkSize = OUT_CHUNK_SIZE): number {
  check(m, chunkSize);
  if (out.length - off < sizeOf(m, chunkSize)) throw new LalError('rtmp-encode', `rtmp: output buffer too small for the message`);
  return writeChunks(m, out, off, chunkSize);
}

function writeChunks(m: RtmpMessageOut, out: Uint8Array, off: number, chunkSize: number): number {
  const body = m.body;
  const len = body.length;
  const ts = m.timestamp >>> 0;
  const ext = ts >= 0xffffff;
  const csid = m.csid;
  // fmt 0 message header: timestamp (0xffffff = extended), length, type id, stream id (little-endian)
  let o = writeBasic(out, off, 0, csid);
  putU24be(out, o, ext ? 0xffffff : ts);
  putU24be(out, o + 3, len);
  out[o + 6] = m.type;
  putU32le(out, o + 7, m.streamId >>> 0);
  o += 11;
  if (ext) {
    putU32be(out, o, ts);
    o += 4;
  }
  if (len <= chunkSize) {
    out.set(body, o);
    return o + len - off;
  }
  out.set(body.subarray(0, chunkSize), o);
  o += chunkSize;
  for (let p = chunkSize; p < len; p += chunkSize) {
    o = writeBasic(out, o, 3, csid); // continuation: fmt 3, same csid, the extended timestamp again
    if (ext) {
      putU32be(out, o, ts);
      o += 4;
    }
    const end = p + chunkSize < len ? p + chunkSize : len;
    out.set(body.subarray(p, end), o);
    o += end - p;
  }
  return o - off;
}

/** Encode `m` into one new buffer of chunks (see encodeRtmpMessageInto). */
export function encodeRtmpMessage(m: RtmpMessageOut, chunkSize = OUT_CHUNK_SIZE): Uint8Array {
  check(m, chunkSize);
  const out = new Uint8Array(sizeOf(m, chunkSize));
  writeChunks(m, out, 0, chunkSize);
  return out;
}
