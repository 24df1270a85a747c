import { test, expect, describe } from 'bun:test';
import { LalError, ParseError, ProtocolError } from '../../core/errors.ts';
import { MemorySink } from '../../core/sink.ts';
import { silentLogger } from '../../core/log.ts';
import { WsFrameReader } from '../http/ws.ts';
import { pickRtspAuthChallenge, rtspAuthorization, RtspAuthMethod } from './auth.ts';
import { encodeInterleaved } from './interleaved.ts';
import {
  MAX_QUEUED_WHILE_WAITING,
  RtspServerConn,
  formatRtspDate,
  type RtspDescribeResult,
  type RtspServerConnOptions,
  type RtspServerSetup,
  type RtspStreamInfo,
  type RtspTracks,
} from './server-conn.ts';
import { bytewiseCuts, mulberry32, onlyParseOrProtocolError, randomBytes, splitAt, tick, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const DATE = 'Mon, 02 Jan 2006 15:04:05 MST';
const URL = 'rtsp://127.0.0.1:5544/live/test110';
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=control:streamid=1\r\n';
/** LAL matches audio first, then video. */
const CONTROLS = ['streamid=1', 'streamid=0'];

const req = (method: string, uri: string, cseq: number | string | undefined, headers: string[] = [], body = '') =>
  utf8Encode(`${method} ${uri} RTSP/1.0\r\n${cseq === undefined ? '' : `CSeq: ${cseq}\r\n`}${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${utf8Encode(body).length}\r\n` : ''}\r\n${body}`);

interface Calls {
  announce: (RtspStreamInfo & { sdpText: string })[];
  describe: RtspStreamInfo[];
  setup: RtspServerSetup[];
  play: number[];
  record: number[];
  teardown: number;
  interleaved: [number, number[]][];
  errors: Error[];
}

function setup(opts: Partial<RtspServerConnOptions> & { describe?: () => RtspDescribeResult | undefined | Promise<RtspDescribeResult | undefined>; announce?: () => RtspTracks | false | Promise<RtspTracks | false> } = {}) {
  const sink = new MemorySink();
  const calls: Calls = { announce: [], describe: [], setup: [], play: [], record: [], teardown: 0, interleaved: [], errors: [] };
  const conn = new RtspServerConn({
    sink,
    log: silentLogger,
    clientIp: '10.0.0.9',
    allocUdpPorts: () => ({ rtp: 40000, rtcp: 40001 }),
    date: () => DATE,
    ...opts,
    handler: {
      onAnnounce: (i) => (calls.announce.push(i), opts.announce ? opts.announce() : { controls: CONTROLS }),
      onDescribe: (i) => (calls.describe.push(i), opts.describe ? opts.describe() : { sdpText: SDP, controls: CONTROLS }),
      onSetup: (i) => calls.setup.push(i),
      onPlay: () => calls.play.push(sink.bytesWritten),
      onRecord: () => calls.record.push(sink.bytesWritten),
      onTeardown: () => calls.teardown++,
      onInterleaved: (ch, p) => calls.interleaved.push([ch, Array.from(p)]),
      onError: (e) => calls.errors.push(e),
    },
  });
  let seen = 0;
  const out = (): string => {
    const s = sink.chunks.slice(seen).map(utf8Decode).join('');
    seen = sink.chunks.length;
    return s;
  };
  return { sink, conn, calls, out };
}

describe('formatRtspDate', () => {
  test('Go layout, given zone', () => {
    const d = new Date(Date.UTC(2006, 0, 2, 22, 4, 5));
    expect(formatRtspDate(d, -420, 'MST')).toBe('Mon, 02 Jan 2006 15:04:05 MST');
    expect(formatRtspDate(d, 480, 'CST')).toBe('Tue, 03 Jan 2006 06:04:05 CST');
    expect(formatRtspDate(d, 0, 'UTC')).toBe('Mon, 02 Jan 2006 22:04:05 UTC');
  });
  test('local zone by default', () => {
    expect(formatRtspDate(new Date())).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \S+$/);
  });
});

describe('RtspServerConn: exact responses (docs/protocols.md §3.2)', () => {
  test('OPTIONS', () => {
    const { conn, out } = setup();
    conn.feed(req('OPTIONS', URL, 1));
    expect(out()).toBe('RTSP/1.0 200 OK\r\nServer: lal0.1.0\r\nCSeq: 1\r\nPublic: DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN\r\n\r\n');
  });

  test('player over TCP: DESCRIBE, SETUP ×2 (verbatim Transport), PLAY, TEARDOWN', () => {
    const { conn, out, calls, sink } = setup();
    conn.feed(req('DESCRIBE', `${URL}?k=v`, 2, ['Accept: application/sdp']));
    expect(calls.describe).toEqual([{ url: `${URL}?k=v`, appName: 'live', streamName: 'test110', urlParam: 'k=v' }]);
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 2\r\nDate: ${DATE}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
    expect(conn.role).toBe('sub');
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 3\r\nDate: ${DATE}\r\nSession: 191201771\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`);
    conn.feed(req('SETUP', `${URL}/streamid=1`, 4, ['Transport: RTP/AVP/TCP;unicast;interleaved=2-3;mode="PLAY"', 'Session: 191201771']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 4\r\nDate: ${DATE}\r\nSession: 191201771\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3;mode="PLAY"\r\n\r\n`);
    expect(calls.setup).toEqual([
      { trackIndex: 1, control: 'streamid=0', uri: `${URL}/streamid=0`, transport: 'tcp', rtpChannel: 0, rtcpChannel: 1 },
      { trackIndex: 0, control: 'streamid=1', uri: `${URL}/streamid=1`, transport: 'tcp', rtpChannel: 2, rtcpChannel: 3 },
    ]);
    conn.feed(req('PLAY', URL, 5, ['Session: 191201771', 'Range: npt=0.000-']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 5\r\nDate: ${DATE}\r\n\r\n`);
    expect(calls.play).toEqual([sink.bytesWritten]); // onPlay after the response was written
    expect(conn.state).toBe('playing');
    conn.feed(encodeInterleaved(1, Uint8Array.from([0x80, 0xc9, 0, 1, 0, 0, 0, 1]))); // player RTCP RR
    expect(calls.interleaved).toEqual([[1, [0x80, 0xc9, 0, 1, 0, 0, 0, 1]]]);
    conn.feed(concat([req('TEARDOWN', URL, 6), req('OPTIONS', URL, 7)]));
    expect(out()).toBe('RTSP/1.0 200 OK\r\nCSeq: 6\r\n\r\n'); // nothing after TEARDOWN
    expect(calls.teardown).toBe(1);
    expect(conn.state).toBe('closed');
  });

  test('player over UDP: ports allocated, answer without mode', () => {
    const { conn, out, calls } = setup();
    conn.feed(req('DESCRIBE', URL, 1));
    out();
    conn.feed(req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP;unicast;client_port=30000-30001']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 2\r\nDate: ${DATE}\r\nSession: 191201771\r\nTransport: RTP/AVP/UDP;unicast;client_port=30000-30001;server_port=40000-40001\r\n\r\n`);
    expect(calls.setup[0]).toEqual({
      trackIndex: 1,
      control: 'streamid=0',
      uri: `${URL}/streamid=0`,
      transport: 'udp',
      clientIp: '10.0.0.9',
      clientRtpPort: 30000,
      clientRtcpPort: 30001,
      serverRtpPort: 40000,
      serverRtcpPort: 40001,
    });
  });

  test('publisher: ANNOUNCE, SETUP UDP (mode=record), SETUP TCP, RECORD, media', () => {
    const { conn, out, calls, sink } = setup();
    conn.feed(req('ANNOUNCE', URL, 2, ['Content-Type: application/sdp'], SDP));
    expect(calls.announce).toEqual([{ url: URL, appName: 'live', streamName: 'test110', urlParam: '', sdpText: SDP }]);
    expect(out()).toBe('RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n');
    expect(conn.sdpText).toBe(SDP);
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/UDP;unicast;client_port=30002-30003;mode=record']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 3\r\nDate: ${DATE}\r\nSession: 191201771\r\nTransport: RTP/AVP/UDP;unicast;client_port=30002-30003;server_port=40000-40001;mode=record\r\n\r\n`);
    conn.feed(req('SETUP', `${URL}/streamid=1`, 4, ['Transport: RTP/AVP/TCP;unicast;interleaved=2-3;mode=record']));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 4\r\nDate: ${DATE}\r\nSession: 191201771\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3;mode=record\r\n\r\n`);
    conn.feed(concat([req('RECORD', URL, 5, ['Range: npt=0.000-', 'Session: 191201771']), encodeInterleaved(2, Uint8Array.from([1, 2, 3]))]));
    expect(out()).toBe('RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 191201771\r\n\r\n');
    expect(calls.record).toEqual([sink.bytesWritten]);
    expect(calls.interleaved).toEqual([[2, [1, 2, 3]]]);
    expect(conn.state).toBe('recording');
    expect(conn.role).toBe('pub');
  });

  test.each(['GET_PARAMETER', 'SET_PARAMETER', 'PAUSE'])('%s → 200 with CSeq and Session (docs/quirks.md Q-RTSP-3 FIX)', (m) => {
    const { conn, out } = setup();
    conn.feed(req(m, URL, 9, ['Session: 191201771'], m === 'SET_PARAMETER' ? 'x: y\r\n' : ''));
    expect(out()).toBe('RTSP/1.0 200 OK\r\nCSeq: 9\r\nSession: 191201771\r\n\r\n');
  });

  test('other methods → 501 with CSeq', () => {
    const { conn, out } = setup();
    conn.feed(req('REDIRECT', URL, 3));
    expect(out()).toBe('RTSP/1.0 501 Not Implemented\r\nCSeq: 3\r\n\r\n');
    expect(conn.state).toBe('init');
  });

  test('missing CSeq → 400 Bad Request, then ProtocolError', () => {
    const { conn, out } = setup();
    expect(() => conn.feed(req('OPTIONS', URL, undefined))).toThrow(ProtocolError);
    expect(out()).toBe('RTSP/1.0 400 Bad Request\r\n\r\n');
    expect(conn.state).toBe('closed');
    conn.feed(req('OPTIONS', URL, 1)); // ignored
    expect(out()).toBe('');
  });

  test('CSeq is echoed verbatim', () => {
    const { conn, out } = setup();
    conn.feed(req('OPTIONS', '*', 'abc 12'));
    expect(out()).toContain('\r\nCSeq: abc 12\r\n');
  });

  test('SETUP over TCP without interleaved= gets channels assigned', () => {
    const { conn, out, calls } = setup();
    conn.feed(req('DESCRIBE', URL, 1));
    out();
    conn.feed(req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP/TCP;unicast']));
    expect(out()).toContain('\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n');
    expect(calls.setup[0]).toMatchObject({ transport: 'tcp', rtpChannel: 2, rtcpChannel: 3 });
  });

  test('SETUP picks the first supported alternative', () => {
    const { conn, out } = setup();
    conn.feed(req('DESCRIBE', URL, 1));
    out();
    conn.feed(req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001']));
    expect(out()).toContain('Transport: RTP/AVP/UDP;unicast;client_port=5000-5001;server_port=40000-40001\r\n');
  });
});

describe('RtspServerConn: held DESCRIBE (docs/behaviour.md §5.5)', () => {
  test('answered only when the handler resolves; pipelined requests wait behind it', async () => {
    let resolve!: (v: RtspDescribeResult | undefined) => void;
    const { conn, out, calls } = setup({ describe: () => new Promise((r) => (resolve = r)) });
    conn.feed(concat([req('OPTIONS', URL, 1), req('DESCRIBE', URL, 2)]));
    expect(out()).toContain('CSeq: 1');
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
    await tick();
    expect(conn.isWaiting).toBe(true);
    expect(out()).toBe('');
    expect(calls.setup).toEqual([]);
    resolve({ sdpText: SDP, controls: CONTROLS });
    await tick();
    const text = out();
    expect(text.indexOf('CSeq: 2')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('CSeq: 3')).toBeGreaterThan(text.indexOf('CSeq: 2'));
    expect(calls.setup.length).toBe(1);
    expect(conn.isWaiting).toBe(false);
    conn.feed(req('PLAY', URL, 4));
    expect(out()).toBe(`RTSP/1.0 200 OK\r\nCSeq: 4\r\nDate: ${DATE}\r\n\r\n`);
  });

  test('refusal after waiting → onError, closed, nothing written', async () => {
    const { conn, out, calls } = setup({ describe: () => Promise.resolve(undefined) });
    conn.feed(req('DESCRIBE', URL, 1));
    await tick();
    expect(out()).toBe('');
    expect(calls.errors.length).toBe(1);
    expect(calls.errors[0]).toBeInstanceOf(ProtocolError);
    expect(conn.state).toBe('closed');
  });

  test('a rejected promise → onError', async () => {
    const { conn, calls } = setup({ describe: () => Promise.reject(new LalError('state', 'boom')) });
    conn.feed(req('DESCRIBE', URL, 1));
    await tick();
    expect(calls.errors.map((e) => e.message)).toEqual(['boom']);
  });

  test('a queued violation after the answer → onError', async () => {
    const { conn, out, calls } = setup({ describe: () => Promise.resolve({ sdpText: SDP, controls: CONTROLS }) });
    conn.feed(concat([req('DESCRIBE', URL, 1), req('SETUP', `${URL}/nope`, 2, ['Transport: RTP/AVP/TCP;interleaved=0-1'])]));
    await tick();
    expect(out()).toContain('CSeq: 1');
    expect(calls.errors[0]).toBeInstanceOf(ProtocolError);
    expect(conn.state).toBe('closed');
  });

  test('close() while waiting: a late answer is ignored', async () => {
    let resolve!: (v: RtspDescribeResult | undefined) => void;
    const { conn, out, calls } = setup({ describe: () => new Promise((r) => (resolve = r)) });
    conn.feed(req('DESCRIBE', URL, 1));
    conn.close();
    resolve({ sdpText: SDP, controls: CONTROLS });
    await tick();
    expect(out()).toBe('');
    expect(calls.errors).toEqual([]);
  });

  test(`more than ${MAX_QUEUED_WHILE_WAITING} queued items → ProtocolError`, () => {
    const { conn } = setup({ describe: () => new Promise(() => {}) });
    conn.feed(req('DESCRIBE', URL, 1));
    const flood = concat([...Array.from({ length: MAX_QUEUED_WHILE_WAITING + 1 }, () => encodeInterleaved(0, new Uint8Array(4)))]);
    expect(() => conn.feed(flood)).toThrow(ProtocolError);
  });

  test('async ANNOUNCE is answered when it resolves', async () => {
    const { conn, out } = setup({ announce: () => Promise.resolve({ controls: ['trackID=1'] }) });
    conn.feed(concat([req('ANNOUNCE', URL, 1, [], SDP), req('SETUP', `${URL}/trackID=1`, 2, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record'])]));
    expect(out()).toBe('');
    await tick();
    const t = out();
    expect(t.startsWith('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n')).toBe(true);
    expect(t).toContain('CSeq: 2');
  });
});

describe('RtspServerConn: violations close without a response', () => {
  const D = req('DESCRIBE', URL, 1);
  const TCP01 = 'Transport: RTP/AVP/TCP;interleaved=0-1';
  /** [name, bytes, error type, responses written before the violation] */
  const cases: [string, Uint8Array, typeof ProtocolError | typeof ParseError, number][] = [
    ['SETUP before DESCRIBE', req('SETUP', `${URL}/streamid=0`, 1, [TCP01]), ProtocolError, 0],
    ['PLAY before DESCRIBE', req('PLAY', URL, 1), ProtocolError, 0],
    ['RECORD before ANNOUNCE', req('RECORD', URL, 1), ProtocolError, 0],
    ['SETUP for an unknown control', concat([D, req('SETUP', `${URL}/streamid=7`, 2, [TCP01])]), ProtocolError, 1],
    ['SETUP without Transport', concat([D, req('SETUP', `${URL}/streamid=0`, 2)]), ProtocolError, 1],
    ['SETUP multicast only', concat([D, req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP;multicast;client_port=1-2'])]), ProtocolError, 1],
    ['SETUP UDP without client_port', concat([D, req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP;unicast'])]), ProtocolError, 1],
    ['SETUP malformed Transport', concat([D, req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP/TCP;interleaved=x'])]), ParseError, 1],
    ['PLAY by a publisher', concat([req('ANNOUNCE', URL, 1, [], SDP), req('PLAY', URL, 2)]), ProtocolError, 1],
    ['DESCRIBE of another stream', concat([D, req('DESCRIBE', 'rtsp://127.0.0.1:5544/live/other', 2)]), ProtocolError, 1],
    ['ANNOUNCE after DESCRIBE', concat([D, req('ANNOUNCE', URL, 2, [], SDP)]), ProtocolError, 1],
    ['DESCRIBE after ANNOUNCE', concat([req('ANNOUNCE', URL, 1, [], SDP), req('DESCRIBE', URL, 2)]), ProtocolError, 1],
    ['DESCRIBE of a non-rtsp URI', req('DESCRIBE', 'http://h/live/x', 1), ParseError, 0],
    ['ANNOUNCE without host', req('ANNOUNCE', 'rtsp:///x', 1, [], SDP), ParseError, 0],
    ['malformed request', utf8Encode('DESCRIBE\r\n\r\n'), ParseError, 0],
  ];
  test.each(cases)('%s', (_name, bytes, type, answered) => {
    const { conn, out } = setup();
    let err: unknown;
    try {
      conn.feed(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(type);
    expect(conn.state).toBe('closed');
    expect(out().match(/RTSP\/1\.0/g)?.length ?? 0).toBe(answered);
  });

  test('sync refusal of ANNOUNCE / DESCRIBE throws ProtocolError', () => {
    const a = setup({ announce: () => false });
    expect(() => a.conn.feed(req('ANNOUNCE', URL, 1, [], SDP))).toThrow(ProtocolError);
    expect(a.out()).toBe('');
    const d = setup({ describe: () => undefined });
    expect(() => d.conn.feed(req('DESCRIBE', URL, 1))).toThrow(ProtocolError);
  });

});

describe('RtspServerConn: repeated DESCRIBE, UDP refusals', () => {
  test('a repeated DESCRIBE of the same stream is answered again, without asking the handler', () => {
    const { conn, calls, out } = setup();
    conn.feed(concat([req('DESCRIBE', URL, 1), req('DESCRIBE', `${URL}?x=1`, 2)]));
    const t = out();
    expect(calls.describe.length).toBe(1);
    const answers = t.split('RTSP/1.0 200 OK\r\n').slice(1);
    expect(answers.length).toBe(2);
    for (const [i, a] of answers.entries()) {
      expect(a).toBe(`CSeq: ${i + 1}\r\nDate: ${DATE}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
    }
    // SETUP and PLAY go on as usual, and a DESCRIBE after PLAY is answered too
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
    conn.feed(req('PLAY', URL, 4));
    conn.feed(req('DESCRIBE', URL, 5));
    expect(out()).toContain('CSeq: 5\r\nDate: ');
    expect(conn.state).toBe('playing');
    expect(calls.play.length).toBe(1);
  });

  test('a second DESCRIBE sent while the first is held is answered after it, once', async () => {
    let resolve!: (r: RtspDescribeResult) => void;
    const { conn, calls, out } = setup({ describe: () => new Promise((r) => (resolve = r)) });
    conn.feed(concat([req('DESCRIBE', URL, 1), req('DESCRIBE', URL, 2)]));
    expect(out()).toBe('');
    resolve({ sdpText: SDP, controls: CONTROLS });
    await tick();
    const t = out();
    expect(calls.describe.length).toBe(1);
    expect(t.indexOf('CSeq: 1\r\n')).toBeLessThan(t.indexOf('CSeq: 2\r\n'));
    expect(t.match(/application\/sdp/g)?.length).toBe(2);
  });

  test('no UDP port pair for the connection → 461 with CSeq; the connection stays and TCP works', () => {
    const asked: number[] = [];
    const { conn, calls, out } = setup({ allocUdpPorts: (i) => (asked.push(i), undefined) });
    conn.feed(req('DESCRIBE', URL, 1));
    out();
    conn.feed(req('SETUP', `${URL}/streamid=0`, 2, ['Transport: RTP/AVP;unicast;client_port=1-2']));
    expect(out()).toBe('RTSP/1.0 461 Unsupported Transport\r\nCSeq: 2\r\n\r\n');
    expect(asked).toEqual([1]); // streamid=0 is the video track, second in LAL's setup order
    expect(calls.setup.length).toBe(0);
    expect(conn.state).toBe('described');
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
    expect(out()).toStartWith('RTSP/1.0 200 OK\r\nCSeq: 3\r\n');
    expect(calls.setup.length).toBe(1);
  });
});

describe('RtspServerConn: authentication (docs/protocols.md §3.5)', () => {
  const fixedRandom = (n: number) => new Uint8Array(n).fill(5);

  test('Digest: 401 layout, then the right answer passes', () => {
    const { conn, out, calls } = setup({ auth: { method: RtspAuthMethod.Digest, username: 'admin', password: 'pw' }, random: fixedRandom });
    conn.feed(req('DESCRIBE', URL, 2));
    const t = out();
    expect(t).toMatch(new RegExp(`^RTSP/1\\.0 401 Unauthorized\\r\\nCSeq: 2\\r\\nDate: ${DATE}\\r\\nWWW-Authenticate: Digest realm="lal", nonce="[0-9a-f]{32}"\\r\\n\\r\\n$`));
    expect(calls.describe).toEqual([]);
    expect(conn.state).toBe('init');
    const ch = pickRtspAuthChallenge([/WWW-Authenticate: (.*)\r\n/.exec(t)?.[1] ?? '']);
    if (!ch) throw new Error('no challenge');
    conn.feed(req('DESCRIBE', URL, 3, [`Authorization: ${rtspAuthorization(ch, { username: 'admin', password: 'pw', method: 'DESCRIBE', uri: URL })}`]));
    expect(out()).toContain('RTSP/1.0 200 OK\r\nCSeq: 3\r\n');
    expect(calls.describe.length).toBe(1);
  });

  test('Digest: wrong password → close without response', () => {
    const { conn, out } = setup({ auth: { method: RtspAuthMethod.Digest, username: 'admin', password: 'pw' } });
    conn.feed(req('DESCRIBE', URL, 1));
    const ch = pickRtspAuthChallenge([/WWW-Authenticate: (.*)\r\n/.exec(out())?.[1] ?? '']);
    if (!ch) throw new Error('no challenge');
    expect(() => conn.feed(req('DESCRIBE', URL, 2, [`Authorization: ${rtspAuthorization(ch, { username: 'admin', password: 'bad', method: 'DESCRIBE', uri: URL })}`]))).toThrow(ProtocolError);
    expect(out()).toBe('');
  });

  test('Digest: a nonce this connection did not issue fails (docs/quirks.md Q-RTSP-2 FIX)', () => {
    const { conn } = setup({ auth: { method: RtspAuthMethod.Digest, username: 'admin', password: 'pw' } });
    const forged = rtspAuthorization({ scheme: 'digest', realm: 'lal', nonce: '0123456789abcdef0123456789abcdef', qopAuth: false }, { username: 'admin', password: 'pw', method: 'DESCRIBE', uri: URL });
    expect(() => conn.feed(req('DESCRIBE', URL, 1, [`Authorization: ${forged}`]))).toThrow(ProtocolError);
  });

  test('Basic works (docs/quirks.md Q-RTSP-1 FIX); only DESCRIBE is challenged', () => {
    const { conn, out, calls } = setup({ auth: { method: RtspAuthMethod.Basic, username: 'admin', password: 'admin' } });
    conn.feed(req('OPTIONS', URL, 1));
    expect(out()).toContain('200 OK');
    conn.feed(req('DESCRIBE', URL, 2));
    expect(out()).toBe(`RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nDate: ${DATE}\r\nWWW-Authenticate: Basic realm="lal"\r\n\r\n`);
    conn.feed(req('DESCRIBE', URL, 3, ['Authorization: Basic YWRtaW46YWRtaW4=']));
    expect(out()).toContain('RTSP/1.0 200 OK\r\nCSeq: 3\r\n');
    expect(calls.describe.length).toBe(1);
    const p = setup({ auth: { method: RtspAuthMethod.Basic, username: 'admin', password: 'admin' } });
    p.conn.feed(req('ANNOUNCE', URL, 1, [], SDP)); // publishers are never challenged
    expect(p.out()).toBe('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n');
  });

  test('Basic: wrong scheme or password → close', () => {
    const a = setup({ auth: { method: RtspAuthMethod.Basic, username: 'admin', password: 'admin' } });
    expect(() => a.conn.feed(req('DESCRIBE', URL, 1, [`Authorization: Basic ${btoa('admin:x')}`]))).toThrow(ProtocolError);
    const b = setup({ auth: { method: RtspAuthMethod.Basic, username: 'admin', password: 'admin' } });
    expect(() => b.conn.feed(req('DESCRIBE', URL, 1, ['Authorization: Digest username="admin"']))).toThrow(ProtocolError);
  });
});

describe('RtspServerConn: RTSP over WebSocket (docs/protocols.md §3.7, docs/quirks.md Q-RTSP-5 FIX)', () => {
  function wsPayloads(chunks: Uint8Array[]): string[] {
    return new WsFrameReader().feed(concat(chunks)).map((f) => {
      expect(f.opcode).toBe(2);
      expect(f.fin).toBe(true);
      return utf8Decode(f.payload);
    });
  }

  test('every response, ANNOUNCE and RECORD included, is one binary frame', () => {
    const { conn, sink } = setup({ ws: true });
    conn.feed(req('OPTIONS', URL, 1));
    conn.feed(req('ANNOUNCE', URL, 2, [], SDP));
    conn.feed(req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record']));
    conn.feed(req('RECORD', URL, 4));
    expect(sink.chunks.length).toBe(4);
    const frames = wsPayloads(sink.chunks);
    expect(frames[1]).toBe('RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n');
    expect(frames[3]).toBe('RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 191201771\r\n\r\n');
  });

  test('player: RTP in one frame with the interleaved prefix, packet not copied', () => {
    const { conn, sink } = setup({ ws: true });
    conn.feed(req('DESCRIBE', URL, 1));
    const before = sink.chunks.length;
    const pkt = Uint8Array.from({ length: 200 }, (_, i) => i);
    expect(conn.sendInterleaved(0, pkt)).toBe(true);
    expect(sink.chunks.length).toBe(before + 2);
    expect(sink.chunks[before + 1]).toBe(pkt);
    const [f] = new WsFrameReader().feed(concat([sink.chunks[before], pkt]));
    expect(Array.from(f.payload)).toEqual(Array.from(encodeInterleaved(0, pkt)));
  });
});

describe('RtspServerConn: sendInterleaved over TCP', () => {
  test('two writes: the 4-byte prefix, then the shared packet', () => {
    const { conn, sink } = setup();
    const pkt = new Uint8Array(1400).fill(3);
    conn.sendInterleaved(2, pkt);
    expect(Array.from(sink.chunks[0])).toEqual([0x24, 2, 0x05, 0x78]);
    expect(sink.chunks[1]).toBe(pkt);
  });
});

describe('RtspServerConn: boundary independence and hostile input', () => {
  const SCRIPT = concat([
    req('OPTIONS', URL, 1),
    req('ANNOUNCE', URL, 2, ['Content-Type: application/sdp'], SDP),
    req('SETUP', `${URL}/streamid=0`, 3, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record']),
    req('SETUP', `${URL}/streamid=1`, 4, ['Transport: RTP/AVP/TCP;unicast;interleaved=2-3;mode=record']),
    req('RECORD', URL, 5),
    ...Array.from({ length: 20 }, (_, i) => encodeInterleaved(i % 4, new Uint8Array(50 + i * 37).fill(i))),
    req('GET_PARAMETER', URL, 6),
    req('TEARDOWN', URL, 7),
  ]);

  function run(cuts: number[]) {
    const s = setup();
    for (const piece of splitAt(SCRIPT, cuts)) s.conn.feed(piece);
    return { out: s.out(), calls: s.calls };
  }

  test('whole, byte by byte and random splits give identical output and calls', () => {
    const whole = run([]);
    expect(whole.calls.interleaved.length).toBe(20);
    expect(whole.calls.teardown).toBe(1);
    expect(whole.out.match(/RTSP\/1\.0 200 OK/g)?.length).toBe(7);
    const bytewise = run(bytewiseCuts(SCRIPT.length));
    expect(bytewise.out).toBe(whole.out);
    expect(bytewise.calls).toEqual(whole.calls);
    const rnd = mulberry32(11);
    for (let r = 0; r < 30; r++) {
      const cuts = new Set<number>();
      for (let i = 0; i < 1 + Math.floor(rnd() * 30); i++) cuts.add(1 + Math.floor(rnd() * (SCRIPT.length - 1)));
      const got = run([...cuts].sort((a, b) => a - b));
      expect(got.out).toBe(whole.out);
      expect(got.calls).toEqual(whole.calls);
    }
  });

  test('a SETUP whose folded Transport carries a bare CR is a ParseError, not an echo the encoder refuses (issue #9 fuzz)', () => {
    const { conn } = setup();
    conn.feed(req('ANNOUNCE', URL, 1, [], SDP));
    const setupReq = utf8Encode(`SETUP ${URL}/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;\r\n interleaved=0-1\r;mode=record\r\n\r\n`);
    expect(() => conn.feed(setupReq)).toThrow(ParseError);
  });

  test('200 random buffers and 200 mutated scripts: only ParseError/ProtocolError', async () => {
    const rnd = mulberry32(5);
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(rnd, Math.floor(rnd() * 400));
      const { conn } = setup();
      onlyParseOrProtocolError(() => conn.feed(i % 3 === 0 ? concat([req('DESCRIBE', URL, 1), b]) : b));
    }
    for (let i = 0; i < 200; i++) {
      const b = SCRIPT.slice();
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * 1200)] = Math.floor(rnd() * 256);
      const s = setup({ auth: i % 2 === 0 ? { method: RtspAuthMethod.Digest, username: 'a', password: 'b' } : undefined });
      onlyParseOrProtocolError(() => s.conn.feed(b));
      await Promise.resolve();
      for (const e of s.calls.errors) expect(e).toBeInstanceOf(LalError);
    }
  });
});
