/**
 * Seeded fuzz test of the RTSP client connection's input side (issue #9): 100,000 random and
 * mutated server answers (a real RtspServerConn's, recorded in memory for a password-protected
 * pull over TCP, a pull over UDP and a push) fed whole, half of them also in random pieces.
 * Nothing may escape `feed()`; a broken answer ends in one `onError` with a
 * ParseError/ProtocolError; when nothing fails, both feeds give the same requests and events.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError, ProtocolError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { MemorySink } from '../../core/sink.ts';
import { fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT, PipeSink, utf8Encode } from '../../core/testing.ts';
import { RtspAuthMethod } from './auth.ts';
import { RtspClientConn, type RtspClientConnOptions } from './client-conn.ts';
import { encodeInterleaved } from './interleaved.ts';
import { RtspServerConn } from './server-conn.ts';

const URL = 'rtsp://admin:P%40ss@127.0.0.1:5544/live/test110';
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=control:streamid=1\r\n';
const CONTROLS = ['streamid=0', 'streamid=1'];

type Case = Pick<RtspClientConnOptions, 'mode' | 'transport'>;
const CASES: Case[] = [{ mode: 'pull', transport: 'tcp' }, { mode: 'pull', transport: 'udp' }, { mode: 'push', transport: 'tcp' }];

function client(sink: MemorySink, c: Case, events: unknown[]): RtspClientConn {
  let ports = 30000;
  return new RtspClientConn({
    sink,
    log: silentLogger,
    url: URL,
    ...c,
    sdp: c.mode === 'push' ? { sdpText: SDP, controls: CONTROLS } : undefined,
    allocUdpPorts: () => ((ports += 2), { rtp: ports - 2, rtcp: ports - 1 }),
    keepAliveTimer: () => () => {},
    cnonce: () => '0a4f113b',
    handler: {
      onSdp: (s) => (events.push(['sdp', s]), { controls: CONTROLS }),
      onSetup: (i) => void events.push(['setup', i]),
      onStarted: () => void events.push('started'),
      onInterleaved: (ch, p) => void events.push(['interleaved', ch, p]),
      onError: (e) => {
        fuzzCheck(e instanceof ParseError || e instanceof ProtocolError, () => `onError got ${e.constructor.name}: ${e.message}`);
        events.push('error');
      },
    },
  });
}

/** What a server answers the client of case `c` (with media after PLAY for a pull). */
function serverAnswers(c: Case): Uint8Array {
  const cs = new PipeSink();
  const ss = new PipeSink();
  let serverPorts = 40000;
  const server = new RtspServerConn({
    sink: ss,
    log: silentLogger,
    clientIp: '127.0.0.1',
    date: () => 'Mon, 02 Jan 2006 15:04:05 MST',
    random: (n) => new Uint8Array(n).fill(9),
    // Basic, not Digest: the 401 → retry path at a fraction of the MD5 cost (Digest has its own tests)
    auth: c.mode === 'pull' && c.transport === 'tcp' ? { method: RtspAuthMethod.Basic, username: 'admin', password: 'P@ss' } : undefined,
    allocUdpPorts: () => ((serverPorts += 2), { rtp: serverPorts - 2, rtcp: serverPorts - 1 }),
    handler: {
      onAnnounce: () => ({ controls: ['streamid=1', 'streamid=0'] }),
      onDescribe: () => ({ sdpText: SDP, controls: ['streamid=1', 'streamid=0'] }),
      onSetup: () => {},
      onPlay: () => {},
      onRecord: () => {},
      onTeardown: () => {},
      onInterleaved: () => {},
      onError: (e) => { throw e; },
    },
  });
  const events: unknown[] = [];
  const cli = client(cs, c, events);
  cli.start();
  const seen: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) {
    const up = cs.drain();
    if (up.length > 0) server.feed(up);
    const down = ss.drain();
    if (down.length > 0) {
      seen.push(down);
      cli.feed(down);
    }
  }
  if (!events.includes('started')) throw new Error(`recording ${JSON.stringify(c)} did not start: ${JSON.stringify(events)}`);
  if (c.mode === 'pull' && c.transport === 'tcp') seen.push(encodeInterleaved(0, Uint8Array.of(0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65)), encodeInterleaved(1, Uint8Array.of(0x80, 0xc8, 0, 0)));
  seen.push(utf8Encode('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')); // a request from the server
  return concat(seen);
}

/** Input format: which case (one byte), then the server's bytes. */
const CORPUS = CASES.map((c, i) => concat([Uint8Array.of(i), serverAnswers(c)]));
const DICT = ['\r\n', 'RTSP/1.0 ', '200 OK\r\n', '401 Unauthorized\r\n', 'CSeq: ', 'Session: ', 'Transport: ', 'Content-Length: ', 'WWW-Authenticate: Digest realm="x", nonce="y"\r\n', '$'].map(utf8Encode);

interface Run {
  out: Uint8Array;
  events: unknown[];
}

function run(pieces: Uint8Array[], c: Case): Run {
  const sink = new MemorySink();
  const events: unknown[] = [];
  const cli = client(sink, c, events);
  cli.start();
  for (const p of pieces) cli.feed(p); // must not throw
  fuzzCheck(events.filter((e) => e === 'error').length <= 1, 'at most one error');
  return { out: concat(sink.chunks), events };
}

describe('RtspClientConn fuzz', () => {
  test('100,000 server answers, whole (half also in pieces): nothing escapes, one error at most, same behaviour', () => {
    let started = 0;
    const r = fuzz('rtsp client conn', { seed: 0xc1e7, corpus: CORPUS, dictionary: DICT, maxRandomLength: 300, allowed: [] }, ({ input, rnd }) => {
      if (input.length === 0) return;
      const c = CASES[input[0] % CASES.length];
      const answers = input.subarray(1);
      const whole = run([answers], c);
      if (whole.events.includes('started')) started++;
      if (rnd() < 0.5) return; // pieces for half the inputs keep the run near 2 s
      const split = run(fuzzPieces(answers, rnd), c);
      if (whole.events.includes('error') || split.events.includes('error')) return; // a failure may come earlier in one of them
      fuzzCheck(Bun.deepEquals(whole, split), 'whole and pieces give the same requests and events');
    });
    expect(r.ok).toBe(r.runs);
    expect(started).toBeGreaterThan(r.runs * 0.05); // mutations reach the playing/recording states
  }, FUZZ_TIMEOUT);
});
