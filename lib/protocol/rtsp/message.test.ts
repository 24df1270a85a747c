import { test, expect, describe } from 'bun:test';
import { LalError, ParseError } from '../../core/errors.ts';
import {
  MAX_RTSP_BODY_BYTES,
  MAX_RTSP_HEADER_BYTES,
  RtspHeaders,
  RtspMessageReader,
  encodeRtspRequest,
  encodeRtspResponse,
  rtspBodyText,
  type RtspItem,
} from './message.ts';
import { encodeInterleaved } from './interleaved.ts';
import { bytewiseCuts, mulberry32, mutateBytes, onlyParseError, randomBytes, splitAt, toHex, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

/** Plain-object form for comparisons (headers as pair lists, bodies as arrays). */
function plain(items: RtspItem[]): unknown[] {
  return items.map((it) =>
    it.type === 'interleaved'
      ? { type: it.type, channel: it.channel, payload: toHex(it.payload) }
      : { ...it, headers: it.headers.entries().map(([n, v]) => [n, v]), body: toHex(it.body) },
  );
}

function feedSplits(data: Uint8Array, cuts: number[]): RtspItem[] {
  const r = new RtspMessageReader();
  const out: RtspItem[] = [];
  for (const piece of splitAt(data, cuts)) out.push(...r.feed(piece));
  expect(r.buffered).toBe(0);
  return out;
}

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=lal\r\nm=video 0 RTP/AVP 96\r\na=control:streamid=0\r\n';
const rtp = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const STREAM = concat([
  utf8Encode('OPTIONS rtsp://127.0.0.1:5544/live/test110 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n'),
  utf8Encode(`ANNOUNCE rtsp://127.0.0.1:5544/live/test110 RTSP/1.0\r\nContent-Type: application/sdp\r\nCSeq: 2\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`),
  encodeInterleaved(0, rtp(1400, 0x24)), // payload full of '$' must not confuse the framing
  encodeInterleaved(1, rtp(28, 0x0d)),
  utf8Encode('\r\n'), // stray CRLF between messages
  utf8Encode('RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678;timeout=60\r\n\r\n'),
  encodeInterleaved(2, new Uint8Array(0)),
  utf8Encode('GET_PARAMETER rtsp://h/live/x RTSP/1.0\nCSeq: 4\nContent-Length: 2\n\nok'), // bare LF
  encodeInterleaved(255, rtp(65535, 7)),
]);

describe('RtspMessageReader', () => {
  const whole = feedSplits(STREAM, []);

  test('parses requests, responses and interleaved frames in order', () => {
    expect(whole.map((m) => m.type)).toEqual(['request', 'request', 'interleaved', 'interleaved', 'response', 'interleaved', 'request', 'interleaved']);
    const [opt, ann, i0, i1, res, i2, gp, i3] = whole;
    if (opt.type !== 'request' || ann.type !== 'request' || gp.type !== 'request') throw new Error('type');
    expect(opt.method).toBe('OPTIONS');
    expect(opt.uri).toBe('rtsp://127.0.0.1:5544/live/test110');
    expect(opt.version).toBe('RTSP/1.0');
    expect(opt.headers.get('cseq')).toBe('1');
    expect(opt.headers.get('USER-AGENT')).toBe('Lavf59.27.100');
    expect(opt.body.length).toBe(0);
    expect(ann.method).toBe('ANNOUNCE');
    expect(rtspBodyText(ann)).toBe(SDP);
    expect(i0).toEqual({ type: 'interleaved', channel: 0, payload: rtp(1400, 0x24) });
    expect(i1).toEqual({ type: 'interleaved', channel: 1, payload: rtp(28, 0x0d) });
    if (res.type !== 'response') throw new Error('type');
    expect(res.status).toBe(200);
    expect(res.reason).toBe('OK');
    expect(res.headers.get('session')).toBe('12345678;timeout=60');
    expect(i2).toEqual({ type: 'interleaved', channel: 2, payload: new Uint8Array(0) });
    expect(gp.method).toBe('GET_PARAMETER');
    expect(rtspBodyText(gp)).toBe('ok');
    expect(i3.type === 'interleaved' && i3.channel === 255 && i3.payload.length === 65535).toBe(true);
  });

  test('byte by byte gives the same output', () => {
    const cuts = bytewiseCuts(STREAM.length);
    expect(plain(feedSplits(STREAM, cuts))).toEqual(plain(whole));
  });

  test('random splits give the same output', () => {
    const rnd = mulberry32(42);
    for (let round = 0; round < 60; round++) {
      const cuts = new Set<number>();
      const n = 1 + Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(rnd() * (STREAM.length - 1)));
      expect(plain(feedSplits(STREAM, [...cuts].sort((a, b) => a - b)))).toEqual(plain(whole));
    }
  });

  test('interleaved payload is a view of the fed chunk when whole', () => {
    const frame = encodeInterleaved(0, rtp(100, 1));
    const [it] = new RtspMessageReader().feed(frame);
    if (it.type !== 'interleaved') throw new Error('type');
    expect(it.payload.buffer).toBe(frame.buffer);
    expect(it.payload.byteOffset).toBe(4);
  });

  test('a bare CR in a folded header line is a ParseError, as in any header line (fuzz seed 0x4757 input #17480)', () => {
    const folded = utf8Encode('RTSP/1.0 200 OK\nCSeq: 3\nSession: 12345678;\n timeout\r60\n\n');
    expect(() => new RtspMessageReader().feed(folded)).toThrow(/bare CR in header Session/);
    expect(() => new RtspMessageReader().feed(utf8Encode('RTSP/1.0 200 OK\nSession: 1;timeout\r60\n\n'))).toThrow(/bare CR in header Session/);
  });

  test('headers: folding, repeated names, whitespace, empty values', () => {
    const [m] = new RtspMessageReader().feed(
      utf8Encode('RTSP/1.0 401 Unauthorized\r\nCSeq:   7  \r\nWWW-Authenticate: Digest realm="x",\r\n  nonce="y"\r\nWWW-Authenticate: Basic realm="x"\r\nX-Empty:\r\n\r\n'),
    );
    if (m.type !== 'response') throw new Error('type');
    expect(m.status).toBe(401);
    expect(m.reason).toBe('Unauthorized');
    expect(m.headers.get('CSeq')).toBe('7');
    expect(m.headers.getAll('www-authenticate')).toEqual(['Digest realm="x", nonce="y"', 'Basic realm="x"']);
    expect(m.headers.get('x-empty')).toBe('');
    expect(m.headers.has('nope')).toBe(false);
    expect(m.headers.size).toBe(4);
  });

  test('status line without reason phrase', () => {
    const [m] = new RtspMessageReader().feed(utf8Encode('RTSP/1.0 200\r\nCSeq: 1\r\n\r\n'));
    expect(m.type === 'response' && m.status === 200 && m.reason === '').toBe(true);
  });

  test('waits for the body', () => {
    const r = new RtspMessageReader();
    expect(r.feed(utf8Encode('SET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\nab'))).toEqual([]);
    const [m] = r.feed(utf8Encode('cde'));
    expect(m.type === 'request' && rtspBodyText(m)).toBe('abcde');
  });

  const malformed: [string, string][] = [
    ['garbage request line', 'HELLO\r\n\r\n'],
    ['HTTP version', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['missing version', 'OPTIONS rtsp://h/a\r\nCSeq: 1\r\n\r\n'],
    ['header without colon', 'OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n'],
    ['empty header name', 'OPTIONS * RTSP/1.0\r\n: 1\r\n\r\n'],
    ['continuation first', 'OPTIONS * RTSP/1.0\r\n  CSeq: 1\r\n\r\n'],
    ['negative length', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n'],
    ['non-numeric length', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1x\r\n\r\n'],
    ['conflicting lengths', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['huge length', `ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${MAX_RTSP_BODY_BYTES + 1}\r\n\r\n`],
    ['bad status code', 'RTSP/1.0 2000 OK\r\n\r\n'],
    ['NUL byte', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\0\r\n\r\n'],
    ['bare CR in a header', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\rX: y\r\n\r\n'],
  ];
  test.each(malformed)('malformed: %s → ParseError', (_name, text) => {
    expect(() => new RtspMessageReader().feed(utf8Encode(text))).toThrow(ParseError);
  });

  test('a 100 KB header fails as soon as 16 KiB arrived without its end', () => {
    const big = utf8Encode(`DESCRIBE rtsp://h/a RTSP/1.0\r\nX-Pad: ${'a'.repeat(100_000)}\r\n\r\n`);
    const r = new RtspMessageReader();
    let fed = 0;
    let err: unknown;
    try {
      while (fed < big.length) {
        r.feed(big.subarray(fed, fed + 1000));
        fed += 1000;
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect(fed).toBeLessThanOrEqual(MAX_RTSP_HEADER_BYTES); // the failing chunk crossed 16 KiB
    expect(fed).toBeGreaterThanOrEqual(MAX_RTSP_HEADER_BYTES - 1000);
  });

  test('binary garbage fails at once, not after 16 KiB', () => {
    expect(() => new RtspMessageReader().feed(Uint8Array.from([0x4f, 0x50, 0x01, 0x02]))).toThrow(ParseError);
  });

  test('a 16 KiB header byte by byte stays fast', () => {
    const r = new RtspMessageReader();
    const big = utf8Encode(`OPTIONS * RTSP/1.0\r\nX-Pad: ${'a'.repeat(MAX_RTSP_HEADER_BYTES - 40)}\r\n\r\n`);
    const t0 = performance.now();
    const out: RtspItem[] = [];
    for (let i = 0; i < big.length; i++) out.push(...r.feed(big.subarray(i, i + 1)));
    expect(out.length).toBe(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test('every truncation of the stream is accepted without output beyond the cut', () => {
    for (let n = 0; n < STREAM.length; n += 97) {
      onlyParseError(() => new RtspMessageReader().feed(STREAM.subarray(0, n)));
    }
  });

  test('hostile input: 200 random buffers throw only ParseError', () => {
    const rnd = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rnd() * 300);
      const b = randomBytes(rnd, len);
      // Half start from a plausible request so the header paths get exercised too.
      const data = i % 2 === 0 ? b : concat([utf8Encode('SETUP rtsp://h/a RTSP/1.0\r\n'), b]);
      onlyParseError(() => {
        const r = new RtspMessageReader();
        r.feed(data.subarray(0, len >> 1));
        r.feed(data.subarray(len >> 1));
      });
    }
  });

  test('mutated valid streams throw only ParseError', () => {
    const rnd = mulberry32(99);
    for (let i = 0; i < 200; i++) {
      const b = mutateBytes(rnd, STREAM.slice(0, 2000), 4);
      onlyParseError(() => new RtspMessageReader().feed(b));
    }
  });
});

describe('encoders', () => {
  test('response: exact bytes, Content-Length appended for a body', () => {
    const b = encodeRtspResponse({ status: 200, headers: [['CSeq', '3'], ['Content-Type', 'application/sdp']], body: 'v=0\r\n' });
    expect(utf8Decode(b)).toBe('RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
    expect(utf8Decode(encodeRtspResponse({ status: 461, headers: [['CSeq', '1']] }))).toBe('RTSP/1.0 461 Unsupported Transport\r\nCSeq: 1\r\n\r\n');
  });

  test('Content-Length given explicitly is not repeated; bytes counted in UTF-8', () => {
    const t = utf8Decode(encodeRtspResponse({ status: 200, headers: [['Content-Length', '3']], body: 'é!' }));
    expect(t).toBe('RTSP/1.0 200 OK\r\nContent-Length: 3\r\n\r\né!');
    const auto = utf8Decode(encodeRtspRequest({ method: 'ANNOUNCE', uri: 'rtsp://h/a', headers: [], body: 'é' }));
    expect(auto).toBe('ANNOUNCE rtsp://h/a RTSP/1.0\r\nContent-Length: 2\r\n\r\né');
  });

  test('request round trip through the reader', () => {
    const b = encodeRtspRequest({ method: 'SETUP', uri: 'rtsp://h/a/streamid=0', headers: [['CSeq', '4'], ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']] });
    const [m] = new RtspMessageReader().feed(b);
    if (m.type !== 'request') throw new Error('type');
    expect(m.method).toBe('SETUP');
    expect(m.headers.entries()).toEqual([['CSeq', '4'], ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
  });

  test('a status read as 000 is written back with three digits (fuzz seed 0x4757 input #14671), 1000 is refused', () => {
    const [m] = new RtspMessageReader().feed(utf8Encode('RTSP/1.0 000 OK\nCSeq: 3\n\n'));
    if (m.type !== 'response') throw new Error('type');
    expect(m.status).toBe(0);
    const again = encodeRtspResponse({ status: m.status, reason: m.reason, headers: m.headers.entries() });
    expect(utf8Decode(again)).toBe('RTSP/1.0 000 OK\r\nCSeq: 3\r\n\r\n');
    expect(new RtspMessageReader().feed(again)).toMatchObject([{ type: 'response', status: 0, reason: 'OK' }]);
    expect(() => encodeRtspResponse({ status: 1000, headers: [] })).toThrow(LalError);
  });

  test('header injection is refused', () => {
    expect(() => encodeRtspResponse({ status: 200, headers: [['CSeq', '1\r\nX: y']] })).toThrow(LalError);
    expect(() => encodeRtspRequest({ method: 'OPTIONS', uri: 'a b', headers: [] })).toThrow(LalError);
  });

  test('RtspHeaders from pairs', () => {
    const h = new RtspHeaders([['A', '1'], ['a', '2']]);
    expect(h.get('A')).toBe('1');
    expect(h.getAll('a')).toEqual(['1', '2']);
  });
});
