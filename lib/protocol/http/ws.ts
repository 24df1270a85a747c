/**
 * WebSocket framing (RFC 6455 §5) for the server side: unmasked frames out, masked frames in.
 * Server frames are identical for every client, so a frame built once is shared by all players.
 */
import { createHash } from 'node:crypto';
import { ParseError } from '../../core/errors.ts';
import { ByteStash, putU16be, putU32be } from '../../core/bytes.ts';

export const WsOpcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** Control frames and client messages we accept are small; media never flows client → server. */
export const MAX_WS_CLIENT_FRAME = 64 * 1024;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function wsAcceptKey(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

export function wsFrameHeaderSize(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/** One unmasked FIN frame: header + payload in one buffer. */
export function encodeWsFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const h = wsFrameHeaderSize(payload.length);
  const out = new Uint8Array(h + payload.length);
  writeWsFrameHeader(out, 0, opcode, payload.length);
  out.set(payload, h);
  return out;
}

/** Write a frame header for `len` payload bytes at `off`; returns the header size. */
export function writeWsFrameHeader(out: Uint8Array, off: number, opcode: number, len: number): number {
  out[off] = 0x80 | opcode;
  if (len < 126) {
    out[off + 1] = len;
    return 2;
  }
  if (len < 65536) {
    out[off + 1] = 126;
    putU16be(out, off + 2, len);
    return 4;
  }
  out[off + 1] = 127;
  putU32be(out, off + 2, Math.floor(len / 2 ** 32));
  putU32be(out, off + 6, len >>> 0);
  return 10;
}

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Push parser for client frames (masked per RFC; unmasked accepted too). */
export class WsFrameReader {
  private stash = new ByteStash(MAX_WS_CLIENT_FRAME * 2, 'ws');

  feed(chunk: Uint8Array): WsFrame[] {
    this.stash.push(chunk);
    const out: WsFrame[] = [];
    for (;;) {
      const s = this.stash;
      if (s.length < 2) break;
      const b0 = s.at(0);
      const b1 = s.at(1);
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let h = 2;
      if (len === 126) {
        if (s.length < 4) break;
        len = (s.at(2) << 8) | s.at(3);
        h = 4;
      } else if (len === 127) {
        if (s.length < 10) break;
        if (s.at(2) | s.at(3) | s.at(4) | s.at(5)) throw new ParseError('ws: frame length over 4 GiB');
        len = s.at(6) * 2 ** 24 + ((s.at(7) << 16) | (s.at(8) << 8) | s.at(9));
        h = 10;
      }
      if (len > MAX_WS_CLIENT_FRAME) throw new ParseError(`ws: client frame of ${len} bytes exceeds ${MAX_WS_CLIENT_FRAME}`);
      const total = h + (masked ? 4 : 0) + len;
      if (s.length < total) break;
      const frame = s.take(total);
      let payload = frame.subarray(total - len);
      if (masked) {
        const mask = frame.subarray(h, h + 4);
        const p = new Uint8Array(len);
        for (let i = 0; i < len; i++) p[i] = payload[i] ^ mask[i & 3];
        payload = p;
      }
      out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
    }
    return out;
  }
}
