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
  test('a head of exactly MAX_HTTP_HEAD bytes is accepted, one byte more is not', () => {
    const line = 'GET / HTTP/1.1\r\nX: ';
    const fill = (total: number) => utf8Encode(line + 'a'.repeat(total - line.length - 4) + '\r\n\r\n');
    expect(new HttpRequestParser().feed(fill(MAX_HTTP_HEAD))!.request.headers.x).toHaveLength(MAX_HTTP_HEAD - line.length - 4);
    expect(() => new HttpRequestParser().feed(fill(MAX_HTTP_HEAD + 1))).toThrow(ParseError);
    // the same, byte by byte
    const p = new HttpRequestParser();
    const big = fill(MAX_HTTP_HEAD + 1);
    expect(() => {
      for (const b of big) p.feed(Uint8Array.of(b));
    }).toThrow(ParseError);
  });
  test('CR/LF runs that are not a blank line do not end the head', () => {
    for (const raw of ['GET / HTTP/1.1\r\nA: 1\r\r\n\r\n', 'GET / HTTP/1.1\r\nA: 1\n\r\n\r\n']) {
      const bytes = utf8Encode(raw);
      for (const step of [1, 2, 3, bytes.length]) {
        const p = new HttpRequestParser();
        let r;
        let at = -1;
        for (let i = 0; i < bytes.length && !r; i += step) {
          r = p.feed(bytes.subarray(i, i + step));
          if (r) at = Math.min(i + step, bytes.length) - r.rest.length;
        }
        expect(r).toBeDefined();
        expect(at).toBe(bytes.length);
      }
    }
  });
  test('work stays linear when the head arrives one byte at a time (4 KiB vs 16 KiB)', () => {
    const workFor = (n: number): number => {
      const bytes = utf8Encode('GET /live/x.flv HTTP/1.1\r\nX-Pad: ' + 'p'.repeat(n - 37) + '\r\n\r\n');
      expect(bytes.length).toBe(n);
      const p = new HttpRequestParser();
      let r;
      for (let i = 0; i < bytes.length; i++) r = p.feed(bytes.subarray(i, i + 1));
      expect(r?.request.path).toBe('/live/x.flv');
      return p.work;
    };
    const small = workFor(4 * 1024);
    const large = workFor(16 * 1024);
    // each byte is scanned once and copied at most about twice (doubling buffer)
    expect(large).toBeLessThanOrEqual(4 * 16 * 1024);
    expect(large / small).toBeLessThan(4 * 1.5);
  });
  test('splitUrlPath follows docs/urls.md §2', () => {
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
