/**
 * Seeded fuzz test of the RTSP server connection's input side (issue #9): 100,000 random and
 * mutated publisher and player sessions (with and without Digest/Basic authentication), fed
 * whole and in random pieces. Only ParseError/ProtocolError may escape `feed()`; when nothing is
 * rejected both feeds give the same replies and handler calls.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError, ProtocolError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { MemorySink } from '../../core/sink.ts';
import { fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT, utf8Encode } from '../../core/testing.ts';
import { pickRtspAuthChallenge, rtspAuthorization, RtspAuthMethod, RtspServerAuth } from './auth.ts';
import { encodeInterleaved } from './interleaved.ts';
import { encodeRtspRequest, type RtspHeaderList } from './message.ts';
import { RtspServerConn } from './server-conn.ts';

const URL = 'rtsp://127.0.0.1:5544/live/test110?token=1';
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=control:streamid=1\r\n';
const CONTROLS = ['streamid=1', 'streamid=0'];
const AUTH = { method: RtspAuthMethod.Digest, username: 'admin', password: 'P@ss' } as const;
/** The digest nonces a connection issues come from this (fixed) randomness. */
const RANDOM = (n: number) => new Uint8Array(n).fill(7);

const req = (method: string, uri: string, cseq: number, headers: RtspHeaderList = [], body?: string) =>
  encodeRtspRequest({ method, uri, headers: [['CSeq', String(cseq)], ...headers], body });

/** An Authorization answering the challenge the server will send. */
function authorization(method: string, uri: string): string {
  const ch = pickRtspAuthChallenge([new RtspServerAuth({ ...AUTH, random: RANDOM }).challenge()]);
  if (!ch) throw new Error('no challenge');
  return rtspAuthorization(ch, { username: AUTH.username, password: AUTH.password, method, uri, cnonce: '0a4f113b', nc: 1 });
}

const PUBLISH = concat([
  req('OPTIONS', URL, 1),
  req('ANNOUNCE', URL, 2, [['Content-Type', 'application/sdp']], SDP),
  req('SETUP', `${URL}/streamid=0`, 3, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record']]),
  req('SETUP', `${URL}/streamid=1`, 4, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=2-3;mode=record'], ['Session', '191201771']]),
  req('RECORD', URL, 5, [['Session', '191201771'], ['Range', 'npt=0.000-']]),
  encodeInterleaved(0, Uint8Array.of(0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65, 1, 2)),
  encodeInterleaved(3, Uint8Array.of(0x80, 0xc8, 0, 6, 0, 0, 0, 1)),
  req('TEARDOWN', URL, 6, [['Session', '191201771']]),
]);
const PLAY = concat([
  req('OPTIONS', URL, 1),
  req('DESCRIBE', URL, 2, [['Accept', 'application/sdp']]),
  req('DESCRIBE', URL, 3, [['Accept', 'application/sdp'], ['Authorization', authorization('DESCRIBE', URL)]]),
  req('SETUP', `${URL}/streamid=1`, 4, [['Transport', 'RTP/AVP;unicast;client_port=30000-30001']]),
  req('SETUP', `${URL}/streamid=0`, 5, [['Transport', 'RTP/AVP/UDP;unicast;client_port=30002-30003'], ['Session', '191201771']]),
  req('PLAY', URL, 6, [['Session', '191201771']]),
  req('GET_PARAMETER', URL, 7, [['Session', '191201771']]),
]);
const BASIC_PLAY = concat([req('DESCRIBE', URL, 1, [['Authorization', 'Basic YWRtaW46UEBzcw==']]), req('PLAY', URL, 2)]);
const DICT = ['\r\n', 'RTSP/1.0', 'CSeq: 9\r\n', 'Transport: ', 'interleaved=', 'client_port=', ';', '-', 'Session: 191201771\r\n', 'Content-Length: ', '$', 'SETUP ', 'PLAY ', 'streamid=0'].map(utf8Encode);

interface Run {
  out: Uint8Array;
  calls: unknown[];
  error: boolean;
}

function run(pieces: Uint8Array[], auth: 0 | 1 | undefined): Run {
  const sink = new MemorySink();
  const calls: unknown[] = [];
  const conn = new RtspServerConn({
    sink,
    log: silentLogger,
    clientIp: '10.0.0.9',
    allocUdpPorts: () => ({ rtp: 40000, rtcp: 40001 }),
    date: () => 'Mon, 02 Jan 2006 15:04:05 MST',
    random: RANDOM,
    auth: auth === undefined ? undefined : { ...AUTH, method: auth },
    handler: {
      onAnnounce: (i) => (calls.push(['announce', i]), { controls: CONTROLS }),
      onDescribe: (i) => (calls.push(['describe', i]), { sdpText: SDP, controls: CONTROLS }),
      onSetup: (i) => void calls.push(['setup', i]),
      onPlay: () => void calls.push('play'),
      onRecord: () => void calls.push('record'),
      onTeardown: () => void calls.push('teardown'),
      onInterleaved: (ch, p) => void calls.push(['interleaved', ch, p]),
      onError: (e) => void calls.push(['error', e]),
    },
  });
  let error = false;
  try {
    for (const p of pieces) conn.feed(p);
  } catch (e) {
    if (!(e instanceof ParseError || e instanceof ProtocolError)) throw e;
    error = true;
  }
  fuzzCheck(!calls.some((c) => Array.isArray(c) && c[0] === 'error'), 'onError is for late (async) answers only');
  return { out: concat(sink.chunks), calls, error };
}

describe('RtspServerConn fuzz', () => {
  test('100,000 sessions, whole and in pieces: only ParseError/ProtocolError, same replies', () => {
    const r = fuzz('rtsp server conn', { seed: 0x5e75, corpus: [PUBLISH, PLAY, BASIC_PLAY], dictionary: DICT, maxRandomLength: 300, allowed: [ParseError, ProtocolError] }, ({ input, rnd }) => {
      const a = rnd();
      const auth = a < 0.5 ? undefined : a < 0.8 ? RtspAuthMethod.Digest : RtspAuthMethod.Basic;
      const whole = run([input], auth);
      const split = run(fuzzPieces(input, rnd), auth);
      // One feed may fail where the other does not: garbage after a TEARDOWN is never read when it
      // arrives later (the conn is closed), but fails the whole chunk it arrives in.
      if (whole.error || split.error) throw new ParseError('rtsp: session rejected');
      fuzzCheck(Bun.deepEquals(whole.out, split.out) && Bun.deepEquals(whole.calls, split.calls), 'whole and pieces give the same replies and calls');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
