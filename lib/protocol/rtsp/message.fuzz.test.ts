/**
 * Seeded fuzz test of the RTSP message reader (issue #9): 100,000 random and mutated request,
 * response and interleaved streams, fed whole and in random pieces. Only ParseError may escape;
 * both feeds give the same items (or both fail); accepted items, encoded again by our writers,
 * read back the same; nothing is held beyond what was fed.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT, utf8Encode } from '../../core/testing.ts';
import { encodeInterleaved } from './interleaved.ts';
import { encodeRtspRequest, encodeRtspResponse, RtspMessageReader, type RtspItem } from './message.ts';

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';
const URI = 'rtsp://127.0.0.1:5544/live/test';
const rtp = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const CORPUS = [
  concat([
    encodeRtspRequest({ method: 'OPTIONS', uri: URI, headers: [['CSeq', '1'], ['User-Agent', 'lal/0.1.0']] }),
    encodeRtspRequest({ method: 'ANNOUNCE', uri: URI, headers: [['CSeq', '2'], ['Content-Type', 'application/sdp']], body: SDP }),
    encodeRtspRequest({ method: 'SETUP', uri: `${URI}/streamid=0`, headers: [['CSeq', '3'], ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record']] }),
    encodeInterleaved(0, rtp(60, 1)),
    encodeInterleaved(1, rtp(28, 2)),
    utf8Encode('\r\n'),
    encodeRtspRequest({ method: 'TEARDOWN', uri: URI, headers: [['CSeq', '4'], ['Session', '191201771']] }),
  ]),
  concat([
    encodeRtspResponse({ status: 401, headers: [['CSeq', '1'], ['WWW-Authenticate', 'Digest realm="lal", nonce="abc"'], ['WWW-Authenticate', 'Basic realm="lal"']] }),
    encodeRtspResponse({ status: 200, headers: [['CSeq', '2'], ['Content-Base', `${URI}/`]], body: SDP }),
    utf8Encode('RTSP/1.0 200 OK\nCSeq: 3\nSession: 12345678;\n timeout=60\n\n'), // bare LF, folded header
    encodeInterleaved(0, new Uint8Array(0)),
  ]),
];
const DICT = ['\r\n', '\r\n\r\n', '\n', 'RTSP/1.0', 'RTSP/1.0 200 OK\r\n', 'OPTIONS * RTSP/1.0\r\n', 'Content-Length: ', 'Content-Length: 99999\r\n',
  'CSeq: 1\r\n', ': ', ' ', '\t', '$', '$\x00\x00\x04'].map(utf8Encode);

interface Run {
  items: RtspItem[];
  error: boolean;
  buffered: number;
}

function run(pieces: Uint8Array[]): Run {
  const r = new RtspMessageReader();
  const items: RtspItem[] = [];
  try {
    for (const p of pieces) items.push(...r.feed(p));
  } catch (e) {
    if (e instanceof ParseError) return { items, error: true, buffered: r.buffered };
    throw e;
  }
  return { items, error: false, buffered: r.buffered };
}

/** Items in comparable form (headers as their entry lists). */
const plain = (items: RtspItem[]) => items.map((it) => (it.type === 'interleaved' ? it : { ...it, headers: it.headers.entries() }));

/** Our writers' encoding of an item read (version aside: the writers always say RTSP/1.0). */
function encode(it: RtspItem): Uint8Array {
  if (it.type === 'interleaved') return encodeInterleaved(it.channel, it.payload);
  const headers = it.headers.entries();
  if (it.type === 'request') return encodeRtspRequest({ method: it.method, uri: it.uri, headers, body: it.body });
  return encodeRtspResponse({ status: it.status, reason: it.reason, headers, body: it.body });
}
const noVersion = (items: RtspItem[]) => plain(items).map((it) => ('version' in it ? { ...it, version: '' } : it));

describe('RtspMessageReader fuzz', () => {
  test('100,000 inputs, whole and in pieces: only ParseError, same items, round trip', () => {
    const r = fuzz('rtsp message reader', { seed: 0x4757, corpus: CORPUS, dictionary: DICT, maxRandomLength: 200 }, ({ input, rnd }) => {
      const whole = run([input]);
      const split = run(fuzzPieces(input, rnd));
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('rtsp: rejected (both ways)');
      fuzzCheck(Bun.deepEquals(plain(whole.items), plain(split.items)) && whole.buffered === split.buffered, 'whole and pieces give the same items');
      fuzzCheck(whole.buffered <= input.length, () => `${whole.buffered} bytes buffered of ${input.length}`);
      const again = run([concat(whole.items.map(encode))]);
      fuzzCheck(!again.error && again.buffered === 0 && Bun.deepEquals(noVersion(again.items), noVersion(whole.items)), 'items round trip through the writers');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
