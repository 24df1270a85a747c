import { test, expect, describe } from 'bun:test';
import { LalError, ParseError, ProtocolError } from '../../core/errors.ts';
import { MemorySink, type ByteSink } from '../../core/sink.ts';
import { silentLogger } from '../../core/log.ts';
import { RtspAuthMethod } from './auth.ts';
import { RtspMessageReader, encodeRtspResponse, type RtspRequest } from './message.ts';
import { encodeInterleaved } from './interleaved.ts';
import { RtspClientConn, RTCP_NAT_PROBE, RTP_NAT_PROBE, type RtspClientConnOptions, type RtspClientSetup } from './client-conn.ts';
import { RtspServerConn, type RtspDescribeResult, type RtspServerConnOptions, type RtspServerSetup } from './server-conn.ts';
import { mulberry32, PipeSink, randomBytes, randomPieces, sleep, toHex, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const URL = 'rtsp://127.0.0.1:5544/live/test110';
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=control:streamid=1\r\n';

interface ClientRec {
  sdp: string[];
  setups: RtspClientSetup[];
  started: number;
  interleaved: [number, number[]][];
  errors: Error[];
}

function makeClient(sink: ByteSink, opts: Partial<RtspClientConnOptions> = {}) {
  const rec: ClientRec = { sdp: [], setups: [], started: 0, interleaved: [], errors: [] };
  let ports = 30000;
  const conn = new RtspClientConn({
    sink,
    log: silentLogger,
    url: URL,
    mode: 'pull',
    allocUdpPorts: () => ((ports += 2), { rtp: ports - 2, rtcp: ports - 1 }),
    cnonce: () => '0a4f113b',
    ...opts,
    handler: {
      onSdp: (s) => (rec.sdp.push(s), { controls: ['streamid=0', 'streamid=1'] }),
      onSetup: (i) => rec.setups.push(i),
      onStarted: () => rec.started++,
      onInterleaved: (ch, p) => rec.interleaved.push([ch, Array.from(p)]),
      onError: (e) => rec.errors.push(e),
    },
  });
  return { conn, rec };
}

interface ServerRec {
  describe: number;
  announce: string[];
  setups: RtspServerSetup[];
  play: number;
  record: number;
  interleaved: [number, number[]][];
  errors: unknown[];
}

function makeServer(sink: ByteSink, opts: Partial<RtspServerConnOptions> & { hold?: boolean } = {}) {
  const rec: ServerRec = { describe: 0, announce: [], setups: [], play: 0, record: 0, interleaved: [], errors: [] };
  let ports = 40000;
  const answer: RtspDescribeResult = { sdpText: SDP, controls: ['streamid=1', 'streamid=0'] };
  const conn = new RtspServerConn({
    sink,
    log: silentLogger,
    clientIp: '127.0.0.1',
    allocUdpPorts: () => ((ports += 2), { rtp: ports - 2, rtcp: ports - 1 }),
    ...opts,
    handler: {
      onAnnounce: (i) => (rec.announce.push(i.sdpText), { controls: ['streamid=1', 'streamid=0'] }),
      onDescribe: () => (rec.describe++, opts.hold ? new Promise((r) => setTimeout(() => r(answer), 5)) : answer),
      onSetup: (i) => rec.setups.push(i),
      onPlay: () => rec.play++,
      onRecord: () => rec.record++,
      onTeardown: () => {},
      onInterleaved: (ch, p) => rec.interleaved.push([ch, Array.from(p)]),
      onError: (e) => rec.errors.push(e),
    },
  });
  return { conn, rec };
}

/** Carry bytes both ways in random splits until both sides are quiet (async answers included). */
async function pump(cs: PipeSink, client: RtspClientConn, ss: PipeSink, server: RtspServerConn, srec: ServerRec, seed: number) {
  const rnd = mulberry32(seed);
  const deliver = (data: Uint8Array, feed: (b: Uint8Array) => void) => {
    for (const piece of randomPieces(data, rnd, 64, true)) feed(piece);
  };
  for (let idle = 0; idle < 3; ) {
    let moved = false;
    if (cs.chunks.length > 0) {
      deliver(cs.drain(), (b) => {
        try {
          server.feed(b);
        } catch (e) {
          srec.errors.push(e);
        }
      });
      moved = true;
    }
    if (ss.chunks.length > 0) {
      deliver(ss.drain(), (b) => client.feed(b));
      moved = true;
    }
    if (moved) idle = 0;
    else {
      idle++;
      await sleep(10);
    }
  }
}

async function wire(copts: Partial<RtspClientConnOptions>, sopts: Partial<RtspServerConnOptions> & { hold?: boolean } = {}, seed = 1) {
  const cs = new PipeSink();
  const ss = new PipeSink();
  const c = makeClient(cs, copts);
  const s = makeServer(ss, sopts);
  c.conn.start();
  await pump(cs, c.conn, ss, s.conn, s.rec, seed);
  const again = () => pump(cs, c.conn, ss, s.conn, s.rec, seed + 1);
  return { c, s, cs, ss, again };
}

describe('RtspClientConn ↔ RtspServerConn in memory', () => {
  for (const seed of [1, 2, 3]) {
    test(`pull over TCP, held DESCRIBE (seed ${seed})`, async () => {
      const { c, s, again } = await wire({}, { hold: true }, seed);
      expect(c.rec.errors).toEqual([]);
      expect(s.rec.errors).toEqual([]);
      expect(c.rec.sdp).toEqual([SDP]);
      expect(c.rec.started).toBe(1);
      expect(c.conn.state).toBe('playing');
      expect(c.conn.session).toBe('191201771');
      expect(c.rec.setups).toEqual([
        { trackIndex: 0, control: 'streamid=0', uri: `${URL}/streamid=0`, transport: 'tcp', rtpChannel: 0, rtcpChannel: 1 },
        { trackIndex: 1, control: 'streamid=1', uri: `${URL}/streamid=1`, transport: 'tcp', rtpChannel: 2, rtcpChannel: 3 },
      ]);
      expect(s.rec.setups.map((x) => [x.control, x.transport === 'tcp' ? x.rtpChannel : -1])).toEqual([
        ['streamid=0', 0],
        ['streamid=1', 2],
      ]);
      expect(s.rec.play).toBe(1);
      // media: server → client over the interleaved channels
      const pkts = [Uint8Array.from([0x80, 96, 0, 1, 9, 9]), Uint8Array.from([0x80, 97, 0, 2, 8])];
      s.conn.sendInterleaved(0, pkts[0]);
      s.conn.sendInterleaved(2, pkts[1]);
      await again();
      expect(c.rec.interleaved).toEqual([
        [0, Array.from(pkts[0])],
        [2, Array.from(pkts[1])],
      ]);
    });
  }

  test('pull over UDP: ports exchanged both ways', async () => {
    const { c, s } = await wire({ transport: 'udp' });
    expect(c.rec.errors).toEqual([]);
    expect(c.rec.started).toBe(1);
    expect(c.rec.setups).toEqual([
      { trackIndex: 0, control: 'streamid=0', uri: `${URL}/streamid=0`, transport: 'udp', clientRtpPort: 30000, clientRtcpPort: 30001, serverRtpPort: 40000, serverRtcpPort: 40001 },
      { trackIndex: 1, control: 'streamid=1', uri: `${URL}/streamid=1`, transport: 'udp', clientRtpPort: 30002, clientRtcpPort: 30003, serverRtpPort: 40002, serverRtcpPort: 40003 },
    ]);
    expect(s.rec.setups).toEqual([
      { trackIndex: 1, control: 'streamid=0', uri: `${URL}/streamid=0`, transport: 'udp', clientIp: '127.0.0.1', clientRtpPort: 30000, clientRtcpPort: 30001, serverRtpPort: 40000, serverRtcpPort: 40001 },
      { trackIndex: 0, control: 'streamid=1', uri: `${URL}/streamid=1`, transport: 'udp', clientIp: '127.0.0.1', clientRtpPort: 30002, clientRtcpPort: 30003, serverRtpPort: 40002, serverRtcpPort: 40003 },
    ]);
  });

  test('push with ANNOUNCE / SETUP mode=record / RECORD, then RTP over TCP', async () => {
    const { c, s, again } = await wire({ mode: 'push', sdp: { sdpText: SDP, controls: ['streamid=0', 'streamid=1'] } });
    expect(c.rec.errors).toEqual([]);
    expect(s.rec.announce).toEqual([SDP]);
    expect(s.rec.record).toBe(1);
    expect(c.conn.state).toBe('recording');
    expect(s.conn.state).toBe('recording');
    expect(c.rec.sdp).toEqual([]);
    c.conn.sendInterleaved(0, Uint8Array.from([1, 2, 3]));
    c.conn.sendInterleaved(3, Uint8Array.from([4]));
    await again();
    expect(s.rec.interleaved).toEqual([
      [0, [1, 2, 3]],
      [3, [4]],
    ]);
  });

  test('push over UDP: server ports known to the client', async () => {
    const { c, s } = await wire({ mode: 'push', transport: 'udp', sdp: { sdpText: SDP, controls: ['streamid=1'] } });
    expect(c.rec.errors).toEqual([]);
    expect(c.rec.setups).toEqual([{ trackIndex: 0, control: 'streamid=1', uri: `${URL}/streamid=1`, transport: 'udp', clientRtpPort: 30000, clientRtcpPort: 30001, serverRtpPort: 40000, serverRtcpPort: 40001 }]);
    expect(s.rec.record).toBe(1);
  });

  test.each([
    ['Digest', RtspAuthMethod.Digest],
    ['Basic', RtspAuthMethod.Basic],
  ] as const)('auth challenge round trip (%s)', async (_n, method) => {
    const { c, s } = await wire({ url: 'rtsp://admin:P!@1988@127.0.0.1:5544/live/test110' }, { auth: { method, username: 'admin', password: 'P!@1988' } });
    expect(s.rec.errors).toEqual([]);
    expect(c.rec.errors).toEqual([]);
    expect(s.rec.describe).toBe(1);
    expect(c.rec.started).toBe(1);
  });

  test('wrong password: the server closes, no start', async () => {
    const { c, s } = await wire({ url: 'rtsp://admin:nope@127.0.0.1:5544/live/test110' }, { auth: { method: RtspAuthMethod.Digest, username: 'admin', password: 'pw' } });
    expect(s.rec.errors.length).toBe(1);
    expect(s.rec.errors[0]).toBeInstanceOf(ProtocolError);
    expect(s.rec.describe).toBe(0);
    expect(c.rec.started).toBe(0);
  });

  test('no credentials in the URL: the client fails on 401', async () => {
    const { c } = await wire({}, { auth: { method: RtspAuthMethod.Basic, username: 'a', password: 'b' } });
    expect(c.rec.errors.length).toBe(1);
    expect(c.rec.errors[0]).toBeInstanceOf(ProtocolError);
    expect(c.conn.state).toBe('closed');
  });
});

/** Drive a client by hand: read its requests, answer with crafted responses. */
function scripted(opts: Partial<RtspClientConnOptions> = {}) {
  const sink = new MemorySink();
  const { conn, rec } = makeClient(sink, opts);
  const reader = new RtspMessageReader();
  let seen = 0;
  const next = (): RtspRequest[] => {
    const items = reader.feed(concat(sink.chunks.slice(seen)));
    seen = sink.chunks.length;
    return items.filter((i): i is RtspRequest => i.type === 'request');
  };
  const answer = (r: RtspRequest, status: number, headers: [string, string][] = [], body?: string) =>
    conn.feed(encodeRtspResponse({ status, headers: [['CSeq', r.headers.get('CSeq') ?? ''], ...headers], body }));
  return { conn, rec, sink, next, answer };
}

describe('RtspClientConn: requests and status handling (docs/protocols.md §7.2, docs/quirks.md Q-RTSP-6 FIX)', () => {
  test('exact request layouts and Session carrying', () => {
    const { conn, next, answer } = scripted();
    conn.start();
    let [r] = next();
    expect(r.method).toBe('OPTIONS');
    expect(r.uri).toBe(URL);
    expect(r.headers.entries()).toEqual([
      ['CSeq', '1'],
      ['User-Agent', 'lal/0.1.0'],
    ]);
    answer(r, 200, [['Public', 'DESCRIBE, SETUP, PLAY']]);
    [r] = next();
    expect(r.method).toBe('DESCRIBE');
    expect(r.headers.entries()).toEqual([
      ['CSeq', '2'],
      ['User-Agent', 'lal/0.1.0'],
      ['Accept', 'application/sdp'],
    ]);
    answer(r, 200, [['Content-Type', 'application/sdp']], SDP);
    [r] = next();
    expect(r.method).toBe('SETUP');
    expect(r.uri).toBe(`${URL}/streamid=0`);
    expect(r.headers.get('Transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1');
    expect(r.headers.has('Session')).toBe(false);
    answer(r, 200, [['Session', '12345678;timeout=60'], ['Transport', 'RTP/AVP/TCP;unicast;interleaved=4-5']]);
    [r] = next();
    expect(r.headers.get('Transport')).toBe('RTP/AVP/TCP;unicast;interleaved=2-3');
    expect(r.headers.get('Session')).toBe('12345678');
    answer(r, 200, [['Session', '12345678']]);
    [r] = next();
    expect(r.method).toBe('PLAY');
    expect(r.uri).toBe(URL);
    expect(r.headers.entries()).toEqual([
      ['CSeq', '5'],
      ['User-Agent', 'lal/0.1.0'],
      ['Range', 'npt=0.000-'],
      ['Session', '12345678'],
    ]);
    answer(r, 200);
    expect(conn.state).toBe('playing');
    expect(conn.setups[0]).toMatchObject({ rtpChannel: 4, rtcpChannel: 5 }); // the server's choice wins
  });

  test.each([404, 454, 500, 302])('%d on DESCRIBE is an error', (status) => {
    const { conn, rec, next, answer } = scripted();
    conn.start();
    answer(next()[0], 200);
    answer(next()[0], status);
    expect(rec.errors.length).toBe(1);
    expect(rec.errors[0]).toBeInstanceOf(ProtocolError);
    expect(rec.errors[0].message).toContain(String(status));
    expect(conn.state).toBe('closed');
    expect(rec.started).toBe(0);
  });

  test('401 is retried once with credentials; a second 401 is an error', () => {
    const { conn, rec, next, answer } = scripted({ url: 'rtsp://u:p@127.0.0.1:5544/live/test110' });
    conn.start();
    let [r] = next();
    expect(r.uri).toBe(URL); // credentials never on the wire
    answer(r, 200);
    [r] = next();
    answer(r, 401, [['WWW-Authenticate', 'Digest realm="54c41545bbe6", nonce="abc"'], ['WWW-Authenticate', 'Basic realm="54c41545bbe6"']]);
    [r] = next();
    expect(r.method).toBe('DESCRIBE');
    expect(r.headers.get('CSeq')).toBe('3');
    expect(r.headers.get('Authorization')).toMatch(/^Digest username="u", realm="54c41545bbe6", nonce="abc", uri="rtsp:\/\/127\.0\.0\.1:5544\/live\/test110", response="[0-9a-f]{32}"$/);
    answer(r, 401, [['WWW-Authenticate', 'Digest realm="54c41545bbe6", nonce="abd"']]);
    expect(rec.errors.length).toBe(1);
    expect(rec.errors[0].message).toContain('401');
  });

  test('once challenged, later requests carry Authorization for their own URI', () => {
    const { conn, next, answer } = scripted({ url: 'rtsp://admin:admin@127.0.0.1:5544/live/test110' });
    conn.start();
    let [r] = next();
    answer(r, 401, [['WWW-Authenticate', 'Basic realm="MediaServer3.0"']]);
    [r] = next();
    expect(r.method).toBe('OPTIONS');
    expect(r.headers.get('Authorization')).toBe('Basic YWRtaW46YWRtaW4=');
    answer(r, 200);
    [r] = next();
    expect(r.headers.get('Authorization')).toBe('Basic YWRtaW46YWRtaW4=');
  });

  test('461 switches TCP → UDP for that and later tracks; a pull tolerates no server_port', () => {
    const { conn, rec, next, answer } = scripted();
    conn.start();
    answer(next()[0], 200);
    answer(next()[0], 200, [], SDP);
    let [r] = next();
    expect(r.headers.get('Transport')).toContain('TCP');
    answer(r, 461);
    [r] = next();
    expect(r.uri).toBe(`${URL}/streamid=0`);
    expect(r.headers.get('Transport')).toBe('RTP/AVP/UDP;unicast;client_port=30000-30001');
    answer(r, 200, [['Transport', 'RTP/AVP/UDP;unicast;client_port=30000-30001'], ['Session', 's1']]);
    [r] = next();
    expect(r.headers.get('Transport')).toBe('RTP/AVP/UDP;unicast;client_port=30002-30003');
    answer(r, 200, [['Transport', 'RTP/AVP/UDP;unicast;client_port=30002-30003;server_port=5000-5001']]);
    answer(next()[0], 200);
    expect(rec.errors).toEqual([]);
    expect(rec.setups.map((s) => (s.transport === 'udp' ? s.serverRtpPort : -1))).toEqual([undefined, 5000]);
    expect(rec.started).toBe(1);
  });

  test('461 for both transports is an error', () => {
    const { conn, rec, next, answer } = scripted();
    conn.start();
    answer(next()[0], 200);
    answer(next()[0], 200, [], SDP);
    answer(next()[0], 461);
    answer(next()[0], 461);
    expect(rec.errors.length).toBe(1);
  });

  test('push over UDP requires server_port', () => {
    const { conn, rec, next, answer } = scripted({ mode: 'push', transport: 'udp', sdp: { sdpText: SDP, controls: ['streamid=0'] } });
    conn.start();
    answer(next()[0], 200);
    const [ann] = next();
    expect(ann.method).toBe('ANNOUNCE');
    expect(ann.headers.get('Content-Type')).toBe('application/sdp');
    expect(utf8Decode(ann.body)).toBe(SDP);
    answer(ann, 200);
    const [r] = next();
    expect(r.headers.get('Transport')).toBe('RTP/AVP/UDP;unicast;client_port=30000-30001;mode=record');
    answer(r, 200, [['Transport', 'RTP/AVP/UDP;unicast;client_port=30000-30001']]);
    expect(rec.errors.length).toBe(1);
  });

  test('keep-alive GET_PARAMETER every 10 s when offered; answers ignored; close() stops it', () => {
    let fire: (() => void) | undefined;
    let interval = 0;
    let cancelled = 0;
    const { conn, rec, next, answer } = scripted({
      keepAliveTimer: (fn, ms) => ((fire = fn), (interval = ms), () => cancelled++),
    });
    conn.start();
    answer(next()[0], 200, [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER']]);
    answer(next()[0], 200, [], SDP);
    answer(next()[0], 200, [['Session', 'abc;timeout=60']]);
    answer(next()[0], 200);
    expect(fire).toBeUndefined();
    answer(next()[0], 200);
    expect(rec.started).toBe(1);
    expect(interval).toBe(10_000);
    fire?.();
    const [ka] = next();
    expect(ka.method).toBe('GET_PARAMETER');
    expect(ka.headers.get('Session')).toBe('abc');
    answer(ka, 200);
    answer(ka, 200); // duplicate / unknown answers are ignored too
    expect(rec.errors).toEqual([]);
    conn.close();
    expect(cancelled).toBe(1);
  });

  test('no keep-alive when GET_PARAMETER is not offered', () => {
    let armed = false;
    const { conn, next, answer } = scripted({ keepAliveTimer: () => ((armed = true), () => {}) });
    conn.start();
    answer(next()[0], 200, [['Public', 'DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN']]);
    answer(next()[0], 200, [], SDP);
    answer(next()[0], 200);
    answer(next()[0], 200);
    answer(next()[0], 200);
    expect(conn.state).toBe('playing');
    expect(armed).toBe(false);
  });

  test('a request from the server is answered', () => {
    const { conn, sink } = scripted();
    conn.start();
    const before = sink.chunks.length;
    conn.feed(utf8Encode('OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n'));
    expect(utf8Decode(sink.chunks[before])).toBe('RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n');
    conn.feed(utf8Encode('REDIRECT rtsp://x/y RTSP/1.0\r\nCSeq: 10\r\n\r\n'));
    expect(utf8Decode(sink.chunks[before + 1])).toBe('RTSP/1.0 501 Not Implemented\r\nCSeq: 10\r\n\r\n');
  });

  test('interleaved data is passed on', () => {
    const { conn, rec } = scripted();
    conn.start();
    conn.feed(encodeInterleaved(1, Uint8Array.from([7])));
    expect(rec.interleaved).toEqual([[1, [7]]]);
  });

  test('an SDP without tracks is an error', () => {
    const errors: Error[] = [];
    const c = new RtspClientConn({
      sink: new MemorySink(),
      log: silentLogger,
      url: URL,
      mode: 'pull',
      handler: { onSdp: () => ({ controls: [] }), onStarted: () => {}, onInterleaved: () => {}, onError: (e) => errors.push(e) },
    });
    c.start();
    c.feed(encodeRtspResponse({ status: 200, headers: [['CSeq', '1']] }));
    c.feed(encodeRtspResponse({ status: 200, headers: [['CSeq', '2']], body: 'v=0\r\n' }));
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(c.state).toBe('closed');
  });

  test('rtsps → tls, options validation, start twice', () => {
    const a = scripted({ url: 'rtsps://h/live/x' });
    expect(a.conn.tls).toBe(true);
    expect(a.conn.target.port).toBe(322);
    expect(scripted().conn.tls).toBe(false);
    const base = { sink: new MemorySink(), log: silentLogger, url: URL, handler: { onStarted() {}, onInterleaved() {}, onError() {} } };
    expect(() => new RtspClientConn({ ...base, mode: 'push' })).toThrow(LalError);
    expect(() => new RtspClientConn({ ...base, mode: 'pull' })).toThrow(LalError);
    expect(() => new RtspClientConn({ ...base, mode: 'push', sdp: { sdpText: SDP, controls: ['a'] }, transport: 'udp' })).toThrow(LalError);
    expect(() => new RtspClientConn({ ...base, mode: 'pull', url: 'http://h/x', handler: { ...base.handler, onSdp: () => ({ controls: [] }) } })).toThrow(ParseError);
    a.conn.start();
    expect(() => a.conn.start()).toThrow(LalError);
    expect(() => scripted().conn.feed(new Uint8Array(1))).toThrow(LalError);
  });

  test('NAT probes are the documented bytes', () => {
    expect(toHex(RTP_NAT_PROBE)).toBe('800000000000000000000000');
    expect(toHex(RTCP_NAT_PROBE)).toBe('80c9000100000000');
  });

  test('hostile server bytes: never throws, errors only through onError as LalError', () => {
    const rnd = mulberry32(77);
    for (let i = 0; i < 200; i++) {
      const { conn, rec } = scripted();
      conn.start();
      const b = randomBytes(rnd, Math.floor(rnd() * 300));
      const prefix = i % 2 === 0 ? utf8Encode('RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: GET_PARAMETER\r\n\r\n') : new Uint8Array(0);
      conn.feed(concat([prefix, b]));
      expect(rec.errors.length).toBeLessThanOrEqual(1);
      for (const e of rec.errors) expect(e).toBeInstanceOf(LalError);
    }
  });
});
