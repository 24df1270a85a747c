import { captureLog, fakeConn as fakeConnOf } from './_testing.ts';
import { describe, expect, test } from 'bun:test';
import { silentLogger, type Logger } from '../../core/log.ts';
import { LAL_VERSION } from '../../core/version.ts';
import type { AvPacket } from '../../core/packet.ts';
import { RtspMessageReader, type RtspItem, type RtspResponse } from '../../protocol/rtsp/message.ts';
import { WsFrameReader } from '../../protocol/http/ws.ts';
import { encodeRtpPacket } from '../../protocol/rtp/packet.ts';
import { parseConfig } from '../config.ts';
import type { LiveSession, ServerContext } from '../context.ts';
import { StreamHub } from '../hub.ts';
import { SessionIdGen } from '../stat.ts';
import type { PacketConsumer } from '../output.ts';
import { rtpBranchDef } from '../rtp-branch.ts';
import { MAX_UDP_PAIRS_PER_CONNECTION, RtspSession, createRtspShared, wsRtspUpgradeHead } from './rtsp.ts';
import { MAX_PENDING_REPLY_BYTES } from './reply-bound.ts';


function context(rtsp: Record<string, unknown> = {}, log: Logger = silentLogger): ServerContext {
  const config = parseConfig(
    JSON.stringify({
      rtmp: { enable: false },
      rtsp: { enable: true, addr: '127.0.0.1:0', out_wait_key_frame_flag: true, ...rtsp },
      httpts: { enable: false },
      hls: { enable: false },
      log: { level: 5, filename: '', is_to_stdout: false },
    }),
  ).config;
  return {
    config,
    limits: {},
    hub: new StreamHub({ gopNum: 1, log }),
    ids: new SessionIdGen(),
    log,
    sessions: new Set<LiveSession>(),
    branches: { rtp: rtpBranchDef({ log: silentLogger }) },
  };
}

/** fakeConn plus the RTSP responses and interleaved frames written so far (plain mode). */
function fakeConn(readable = Infinity) {
  const f = fakeConnOf(readable, 554);
  const reader = new RtspMessageReader();
  let seen = 0;
  const items: RtspItem[] = [];
  return {
    ...f,
    items: () => {
      for (; seen < f.out.length; seen++) items.push(...reader.feed(f.out[seen]));
      return items;
    },
  };
}

const enc = (s: string) => new TextEncoder().encode(s);
const PCMA_SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=0\r\n';
const announce = (name: string, cseq = 1) => enc(`ANNOUNCE rtsp://127.0.0.1/live/${name} RTSP/1.0\r\nCSeq: ${cseq}\r\nContent-Length: ${PCMA_SDP.length}\r\n\r\n${PCMA_SDP}`);
const interleaved = (ch: number, b: Uint8Array) => Uint8Array.from([0x24, ch, b.length >> 8, b.length & 0xff, ...b]);

/** A stream-level output that collects the packets (as a recorder would be attached). */
function collector(): PacketConsumer & { packets: AvPacket[] } {
  const packets: AvPacket[] = [];
  return { packets, closed: false, onHeaders() {}, onPacket: (fp) => packets.push(fp.pkt), close() {} };
}

describe('RtspSession (in memory)', () => {
  test('publisher over interleaved TCP: ANNOUNCE/SETUP/RECORD, RTP reaches the stream, bytes counted; a second ANNOUNCE is refused silently', () => {
    const ctx = context();
    const shared = createRtspShared(ctx);
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, false);
    expect(ctx.sessions.has(s)).toBe(true);
    expect(s.stat.sessionId).toBe('RTSPSRVCMD1');
    s.onData(announce('p'));
    s.onData(enc('SETUP rtsp://127.0.0.1/live/p/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n'));
    s.onData(enc('RECORD rtsp://127.0.0.1/live/p RTSP/1.0\r\nCSeq: 3\r\n\r\n'));
    expect(f.items().map((i) => (i as RtspResponse).status)).toEqual([200, 200, 200]);
    expect(s.stat.sessionId).toBe('RTSPPUB1');
    const stream = ctx.hub.get('p')!;
    expect(stream.publisher).toBe(s);
    expect(stream.audioCodec).toBe('PCMA');
    const col = collector();
    stream.addOutput(col);
    let sent = 0;
    for (let i = 0; i < 5; i++) {
      const p = encodeRtpPacket({ marker: false, payloadType: 8, sequenceNumber: i, timestamp: i * 160, ssrc: 9 }, new Uint8Array(160).fill(i));
      sent += p.length;
      s.onData(interleaved(0, p));
    }
    // one packet of another payload type is dropped but counted as read
    const other = encodeRtpPacket({ marker: false, payloadType: 0, sequenceNumber: 5, timestamp: 800, ssrc: 9 }, new Uint8Array(10));
    s.onData(interleaved(0, other));
    expect(col.packets.map((p) => [p.codec, p.units[0][0], p.dts])).toEqual([0, 1, 2, 3, 4].map((i) => ['g711a', i, i * 20 * 90]));
    expect(s.stat.toJSON().read_bytes_sum).toBe(sent + other.length);

    const f2 = fakeConn();
    const s2 = new RtspSession(shared, f2.conn, false);
    s2.onData(announce('p'));
    expect(f2.ended()).toBe(true);
    expect(f2.bytes()).toBe(0);
    expect(stream.publisher).toBe(s);

    s.kick('test');
    expect(f.ended()).toBe(true);
    expect(stream.publisher).toBeUndefined();
    expect(ctx.sessions.size).toBe(0);
  });

  test('answers to a client that does not read are bounded: pipelined OPTIONS close the session as slow-consumer', () => {
    const cap = captureLog();
    const ctx = context({}, cap.log);
    const shared = createRtspShared(ctx);
    const f = fakeConn(64 * 1024); // the kernel takes 64 KiB, then the client reads nothing
    const s = new RtspSession(shared, f.conn, false);
    const one = enc('OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const burst = new Uint8Array(one.length * 500);
    for (let i = 0; i < 500; i++) burst.set(one, i * one.length);
    let sent = 0;
    while (!f.ended() && sent < 60 * 1024 * 1024) {
      s.onData(burst);
      sent += burst.length;
      expect(f.conn.sink.pendingBytes).toBeLessThan(MAX_PENDING_REPLY_BYTES + 2 * burst.length * 4);
    }
    expect(f.ended()).toBe(true);
    expect(s.closed).toBe(true);
    expect(sent).toBeLessThan(2 * 1024 * 1024); // cut long before the 60 MB were read
    expect(ctx.sessions.size).toBe(0);
    const closing = cap.lines.filter((l) => l.includes('closing') || l.includes('closed'));
    expect(closing.some((l) => l.startsWith('warn') && l.includes('the client does not read'))).toBe(true);
    expect(closing.some((l) => l.includes('(slow-consumer)'))).toBe(true);
  });

  test('the request phase is a total deadline: a client sending a byte a second is cut at the command timeout', () => {
    const ctx = context();
    const shared = createRtspShared(ctx, { commandTimeoutMs: 10_000 });
    const t = performance.now();
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, false);
    const text = enc('OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ' + 'a'.repeat(100));
    let i = 0;
    for (; i < text.length && !f.ended(); i++) {
      s.onData(text.subarray(i, i + 1));
      s.tick(t + (i + 1) * 1000);
    }
    expect(f.ended()).toBe(true);
    expect(i).toBeLessThanOrEqual(11);
    // a client that asks once and then waits gets the same 10 s from connecting, no more
    const g = fakeConn();
    const p = new RtspSession(shared, g.conn, false);
    p.onData(enc('OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
    p.tick(t + 9000);
    expect(g.ended()).toBe(false);
    p.tick(t + 10_500);
    expect(g.ended()).toBe(true);
  });

  test(`UDP: a repeated SETUP of a track reuses its pair; at most ${MAX_UDP_PAIRS_PER_CONNECTION} pairs per connection, then 461`, () => {
    const ctx = context();
    const shared = createRtspShared(ctx, { udpPorts: { min: 44000 + 2 * Math.floor(Math.random() * 3000), max: 60000 } });
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, false);
    const tracks = 6;
    let sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n';
    for (let i = 0; i < tracks; i++) sdp += `m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=${i}\r\n`;
    s.onData(enc(`ANNOUNCE rtsp://127.0.0.1/live/many RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`));
    let cseq = 2;
    const setup = (track: number, port: number) => {
      s.onData(enc(`SETUP rtsp://127.0.0.1/live/many/streamid=${track} RTSP/1.0\r\nCSeq: ${cseq++}\r\nTransport: RTP/AVP/UDP;unicast;client_port=${port}-${port + 1};mode=record\r\n\r\n`));
      return f.items().at(-1) as RtspResponse;
    };
    const first = setup(0, 5000).headers.get('Transport');
    for (let i = 0; i < 100; i++) expect(setup(0, 5002).headers.get('Transport')).toBe(first!.replace('5000-5001', '5002-5003'));
    expect(shared.udp.inUse).toBe(1);
    const statuses = [1, 2, 3, 4, 5].map((t) => setup(t, 6000 + 2 * t).status);
    expect(statuses).toEqual([200, 200, 200, 461, 461]);
    expect(shared.udp.inUse).toBe(MAX_UDP_PAIRS_PER_CONNECTION);
    // over TCP the refused track is fine, and a track moved to TCP gives its pair back
    s.onData(enc(`SETUP rtsp://127.0.0.1/live/many/streamid=4 RTSP/1.0\r\nCSeq: ${cseq++}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=8-9;mode=record\r\n\r\n`));
    s.onData(enc(`SETUP rtsp://127.0.0.1/live/many/streamid=0 RTSP/1.0\r\nCSeq: ${cseq++}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n`));
    expect(f.items().slice(-2).map((r) => (r as RtspResponse).status)).toEqual([200, 200]);
    expect(shared.udp.inUse).toBe(MAX_UDP_PAIRS_PER_CONNECTION - 1);
    expect(f.ended()).toBe(false);
    s.close('test');
    expect(shared.udp.inUse).toBe(0);
  });

  test('a repeated DESCRIBE is answered again by the same player', () => {
    const ctx = context();
    const shared = createRtspShared(ctx);
    const pub = fakeConn();
    const ps = new RtspSession(shared, pub.conn, false);
    ps.onData(announce('d'));
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, false);
    s.onData(enc('DESCRIBE rtsp://127.0.0.1/live/d RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
    s.onData(enc('DESCRIBE rtsp://127.0.0.1/live/d RTSP/1.0\r\nCSeq: 2\r\n\r\n'));
    const answers = f.items() as RtspResponse[];
    expect(answers.map((a) => [a.status, a.headers.get('CSeq')])).toEqual([[200, '1'], [200, '2']]);
    expect(new TextDecoder().decode(answers[1].body)).toBe(PCMA_SDP);
    expect(ctx.hub.get('d')!.sessions()).toEqual([s]);
    expect(f.ended()).toBe(false);
  });

  test('timeouts: silence before PLAY/RECORD, a held DESCRIBE bounded by the idle timeout, an idle publisher', () => {
    const ctx = context();
    const shared = createRtspShared(ctx, { commandTimeoutMs: 1000, idleTimeoutMs: 5000 });
    const t = performance.now();
    // nothing after OPTIONS
    const a = fakeConn();
    const sa = new RtspSession(shared, a.conn, false);
    sa.onData(enc('OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
    sa.tick(t + 500);
    expect(a.ended()).toBe(false);
    sa.tick(t + 1500);
    expect(a.ended()).toBe(true);
    // a DESCRIBE held for a stream without SDP survives the command timeout, not the idle one
    const b = fakeConn();
    const sb = new RtspSession(shared, b.conn, false);
    sb.onData(enc('DESCRIBE rtsp://127.0.0.1/live/none RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
    expect(ctx.hub.get('none')!.sessions().length).toBe(1); // the player
    expect(ctx.hub.get('none')!.existingBranch('rtp')).toBeDefined(); // and the RTP branch it waits on
    sb.tick(t);
    sb.tick(t + 1500);
    expect(b.ended()).toBe(false);
    sb.tick(t + 5500);
    expect(b.ended()).toBe(true);
    expect(ctx.hub.get('none')).toBeUndefined();
    // a recording publisher that sends nothing
    const c = fakeConn();
    const sc = new RtspSession(shared, c.conn, false);
    sc.onData(announce('idle'));
    sc.onData(enc('SETUP rtsp://127.0.0.1/live/idle/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n'));
    sc.onData(enc('RECORD rtsp://127.0.0.1/live/idle RTSP/1.0\r\nCSeq: 3\r\n\r\n'));
    sc.tick(t);
    sc.tick(t + 4000);
    expect(c.ended()).toBe(false);
    sc.tick(t + 5500);
    expect(c.ended()).toBe(true);
    expect(ctx.sessions.size).toBe(0);
  });

  test('UDP SETUP takes a port pair that is released when the session closes', () => {
    const ctx = context();
    const shared = createRtspShared(ctx, { udpPorts: { min: 44000 + 2 * Math.floor(Math.random() * 3000), max: 60000 } });
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, false);
    s.onData(announce('u'));
    s.onData(enc('SETUP rtsp://127.0.0.1/live/u/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record\r\n\r\n'));
    const r = f.items()[1] as RtspResponse;
    expect(r.headers.get('Transport')).toMatch(/^RTP\/AVP\/UDP;unicast;client_port=5000-5001;server_port=\d+-\d+;mode=record$/);
    expect(shared.udp.inUse).toBe(1);
    s.close('test');
    expect(shared.udp.inUse).toBe(0);
  });

  test('ws-rtsp: upstream 101 head, then one binary frame per RTSP answer', () => {
    const head = new TextDecoder().decode(wsRtspUpgradeHead('dGhlIHNhbXBsZSBub25jZQ=='));
    expect(head).toBe(
      `HTTP/1.1 101 Switching Protocol\r\nServer: lal${LAL_VERSION}\r\n` +
        'Sec-WebSocket-Accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nKeep-Alive: timeout=15, max=100\r\n' +
        'Connection: Upgrade\r\nUpgrade: websocket\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: *\r\n' +
        'Access-Control-Allow-Headers: Content-Type\r\nSec-WebSocket-Protocol:rtsp\r\n\r\n',
    );
    const ctx = context({ ws_rtsp_enable: true });
    const shared = createRtspShared(ctx);
    const f = fakeConn();
    const s = new RtspSession(shared, f.conn, true);
    s.onData(enc('GET /live/w HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: rtsp\r\n\r\n'));
    const upgraded = f.raw().toString('latin1');
    expect(upgraded.startsWith('HTTP/1.1 101 Switching Protocol\r\n')).toBe(true);
    const headLen = upgraded.indexOf('\r\n\r\n') + 4;
    // a masked client frame carrying OPTIONS
    const req = enc('OPTIONS rtsp://127.0.0.1/live/w RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const mask = [1, 2, 3, 4];
    s.onData(Uint8Array.from([0x82, 0x80 | req.length, ...mask, ...req.map((b, i) => b ^ mask[i & 3])]));
    const frames = new WsFrameReader().feed(f.raw().subarray(headLen));
    expect(frames.length).toBe(1);
    expect(frames[0].opcode).toBe(2);
    expect(new TextDecoder().decode(frames[0].payload)).toStartWith('RTSP/1.0 200 OK\r\nServer: ');
    expect(f.ended()).toBe(false);
  });
});

describe('stream names at admission (docs/quirks.md D-2)', () => {
  test('ANNOUNCE and DESCRIBE of a name the hub would refuse are refused without a stream', () => {
    for (const [method, name] of [['ANNOUNCE', '..'], ['DESCRIBE', '..'], ['ANNOUNCE', 'x'.repeat(1100)], ['DESCRIBE', 'y'.repeat(1100)]] as const) {
      const ctx = context();
      const f = fakeConn();
      const s = new RtspSession(createRtspShared(ctx), f.conn, false);
      s.onData(method === 'ANNOUNCE' ? announce(name) : enc(`DESCRIBE rtsp://127.0.0.1/live/${name} RTSP/1.0\r\nCSeq: 1\r\n\r\n`));
      expect([method, name.length, f.ended()]).toEqual([method, name.length, true]);
      expect(ctx.hub.streams.size).toBe(0);
      expect(f.items().every((i) => (i as RtspResponse).status !== 200)).toBe(true);
    }
  });
});
