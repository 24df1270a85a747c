/**
 * RTMP message → chunks (RTMP spec §5.3; protocols.md §2.3). Every message starts with a
 * fmt-0 header carrying the absolute timestamp, continuation chunks are fmt 3, and when the
 * timestamp is ≥ FFFFFF the 4-byte extended timestamp is written on every chunk. fmt 0 on
 * every message is what lets the fan-out share one encoding among all players (design.md §2.3).
 *
 * This is the server's fan-out hot path (once per media packet, the result shared by every
 * RTMP player): size first, one allocation, one copy of the body, no per-call closures.
 *
 *   first chunk: [fmt0|csid] ts(3) len(3) type(1) msid(4 LE) [ext ts(4)] body[0..cs]
 *   next chunks: [fmt3|csid] [ext ts(4)] body[cs..2cs] …
 */
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
  const t0 = ts >>> 24;
  const t1 = (ts >>> 16) & 0xff;
  const t2 = (ts >>> 8) & 0xff;
  const t3 = ts & 0xff;
  const sid = m.streamId >>> 0;
  const csid = m.csid;
  let o = writeBasic(out, off, 0, csid);
  if (ext) {
    out[o] = 0xff;
    out[o + 1] = 0xff;
    out[o + 2] = 0xff;
  } else {
    out[o] = t1;
    out[o + 1] = t2;
    out[o + 2] = t3;
  }
  out[o + 3] = (len >>> 16) & 0xff;
  out[o + 4] = (len >>> 8) & 0xff;
  out[o + 5] = len & 0xff;
  out[o + 6] = m.type;
  out[o + 7] = sid & 0xff;
  out[o + 8] = (sid >>> 8) & 0xff;
  out[o + 9] = (sid >>> 16) & 0xff;
  out[o + 10] = sid >>> 24;
  o += 11;
  if (ext) {
    out[o] = t0;
    out[o + 1] = t1;
    out[o + 2] = t2;
    out[o + 3] = t3;
    o += 4;
  }
  if (len <= chunkSize) {
    out.set(body, o);
    return o + len - off;
  }
  out.set(body.subarray(0, chunkSize), o);
  o += chunkSize;
  // Continuation basic header: fmt 3, same csid.
  const b0 = csid < 64 ? 0xc0 | csid : csid < 320 ? 0xc0 : 0xc1;
  for (let p = chunkSize; p < len; p += chunkSize) {
    out[o++] = b0;
    if (csid >= 64) {
      if (csid < 320) out[o++] = csid - 64;
      else {
        out[o++] = (csid - 64) & 0xff;
        out[o++] = (csid - 64) >>> 8;
      }
    }
    if (ext) {
      out[o] = t0;
      out[o + 1] = t1;
      out[o + 2] = t2;
      out[o + 3] = t3;
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
