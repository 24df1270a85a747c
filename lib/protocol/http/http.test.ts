import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { HttpRequestParser, MAX_HTTP_HEAD, isWebSocketUpgrade, splitUrlPath } from './request.ts';
import { WsFrameReader, WsOpcode, encodeWsFrame, wsAcceptKey } from './ws.ts';
import { utf8Decode, utf8Encode } from '../../core/testing.ts';


describe('HttpRequestParser', () => {
  const raw = 'GET /live/a%20b.flv?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nXY';
  test('parses whole, byte by byte and split, keeping the rest', () => {
    const bytes = utf8Encode(raw);
    for (const step of [bytes.length, 1, 7]) {
      const p = new HttpRequestParser();
      let r;
      for (let i = 0; i < bytes.length && !r; i += step) r = p.feed(bytes.subarray(i, i + step));
      expect(r).toBeDefined();
      expect(r!.request.method).toBe('GET');
      expect(r!.request.path).toBe('/live/a b.flv');
      expect(r!.request.query).toBe('x=1');
      expect(r!.request.headers.host).toBe('h');
      expect(isWebSocketUpgrade(r!.request)).toBe(true);
    }
    const r = new HttpRequestParser().feed(bytes)!;
    expect(utf8Decode(r.rest)).toBe('XY');
  });
  test('rejects garbage and oversized heads with ParseError', () => {
    expect(() => new HttpRequestParser().feed(utf8Encode('\x16\x03\x01garbage\r\n\r\n'))).toThrow(ParseError);
    expect(() => new HttpRequestParser().feed(utf8Encode('GET / HTTP/1.1\r\nbad header\r\n\r\n'))).toThrow(ParseError);
    expect(() => new HttpRequestParser().feed(utf8Encode('GET /%zz HTTP/1.1\r\n\r\n'))).toThrow(ParseError);
    const p = new HttpRequestParser();
    expect(() => p.feed(new Uint8Array(MAX_HTTP_HEAD + 10).fill(65))).toThrow(ParseError);
  });
  test('splitUrlPath follows urls.md §2', () => {
    expect(splitUrlPath('/a/b/c')).toEqual({ dir: 'a/b', last: 'c' });
    expect(splitUrlPath('/c')).toEqual({ dir: '', last: 'c' });
    expect(splitUrlPath('/a/')).toEqual({ dir: 'a', last: '' });
    expect(splitUrlPath('/')).toEqual({ dir: '', last: '' });
  });
});

describe('WebSocket framing', () => {
  test('accept key (RFC 6455 §1.3 example)', () => {
    expect(wsAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  test('frame headers for 7, 16 and 64-bit lengths round-trip through the reader', () => {
    for (const n of [0, 5, 125, 126, 1000, 65535, 65536]) {
      const payload = new Uint8Array(n).map((_, i) => i & 0xff);
      const f = encodeWsFrame(WsOpcode.Binary, payload);
      expect(f[0]).toBe(0x82);
      if (n <= 64 * 1024) {
        const got = new WsFrameReader().feed(f);
        expect(got.length).toBe(1);
        expect(got[0].payload).toEqual(payload);
      }
    }
  });
  test('masked client frames are unmasked; split input gives the same frames', () => {
    const mask = [1, 2, 3, 4];
    const payload = utf8Encode('hello');
    const f = new Uint8Array(2 + 4 + payload.length);
    f[0] = 0x89; // FIN ping
    f[1] = 0x80 | payload.length;
    f.set(mask, 2);
    for (let i = 0; i < payload.length; i++) f[6 + i] = payload[i] ^ mask[i & 3];
    const r = new WsFrameReader();
    const out = [];
    for (const b of f) out.push(...r.feed(Uint8Array.of(b)));
    expect(out.length).toBe(1);
    expect(out[0].opcode).toBe(WsOpcode.Ping);
    expect(utf8Decode(out[0].payload)).toBe('hello');
  });
  test('huge client frames are refused', () => {
    const f = Uint8Array.of(0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0);
    expect(() => new WsFrameReader().feed(f)).toThrow(ParseError);
  });
});
