/**
 * Seeded fuzz test of the HTTP request-head parser (issue #9): 100,000 random and mutated heads,
 * fed whole and in random pieces (one in twenty byte by byte, as a slow client's TCP segments
 * arrive). Only ParseError may escape; both feeds give the same request and leftover bytes (or
 * both fail); no input takes more than the per-input time limit.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT, utf8Encode } from '../../core/testing.ts';
import { HttpRequestParser, type HttpRequest } from './request.ts';

const CORPUS = [
  'GET /live/a%20b.flv?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58',
  'GET /hls/test110/playlist.m3u8 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nAccept: */*\r\n' +
    `Cookie: ${'session=abcdef0123456789; '.repeat(40)}\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n`,
  'HEAD /live/test.ts HTTP/1.0\r\n\r\n',
].map(utf8Encode);
const DICT = ['\r\n', '\r\n\r\n', ': ', ' HTTP/1.1', 'GET ', '%', '%zz', '?', 'Upgrade: websocket\r\n'].map(utf8Encode);

interface Run {
  request?: HttpRequest;
  rest: Uint8Array;
  error: boolean;
}

function run(pieces: Uint8Array[]): Run {
  const p = new HttpRequestParser();
  try {
    for (let i = 0; i < pieces.length; i++) {
      const r = p.feed(pieces[i]);
      if (r) return { request: r.request, rest: concat([r.rest, ...pieces.slice(i + 1)]), error: false };
    }
  } catch (e) {
    if (e instanceof ParseError) return { rest: new Uint8Array(0), error: true };
    throw e;
  }
  return { rest: new Uint8Array(0), error: false };
}

describe('HttpRequestParser fuzz', () => {
  test('100,000 inputs, whole and in pieces: only ParseError, same request and rest', () => {
    const r = fuzz('http request head', { seed: 0x4777, corpus: CORPUS, dictionary: DICT, maxRandomLength: 200 }, ({ input, rnd }) => {
      const whole = run([input]);
      const pieces = rnd() < 0.05 ? Array.from(input, (_, i) => input.subarray(i, i + 1)) : fuzzPieces(input, rnd);
      const split = run(pieces);
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('http: rejected (both ways)');
      fuzzCheck(Bun.deepEquals(whole, split), 'whole and pieces give the same request and rest');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
