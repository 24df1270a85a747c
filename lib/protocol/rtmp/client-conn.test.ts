import { test, expect, describe } from 'bun:test';
import { LalError, ParseError, ProtocolError } from '../../core/errors.ts';
import { MemorySink } from '../../core/sink.ts';
import { silentLogger } from '../../core/log.ts';
import { decodeAmf0All, encodeAmf0, type Amf0Value } from '../../format/amf0/index.ts';
import { RtmpClientConn } from './client-conn.ts';
import { RtmpServerConn } from './server-conn.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { command, dataMessage, pingRequest, setChunkSize, windowAckSize } from './messages.ts';
import { mulberry32, PipeSink, randomBytes, randomPieces, toHex } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const filled = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

function pump(a: PipeSink, toB: (c: Uint8Array) => void, b: PipeSink, toA: (c: Uint8Array) => void, rnd: () => number): void {
  const deliver = (bytes: Uint8Array, to: (c: Uint8Array) => void) => {
    for (const piece of randomPieces(bytes, rnd, 700)) to(piece);
  };
  for (let rounds = 0; rounds < 1000 && (a.chunks.length > 0 || b.chunks.length > 0); rounds++) {
    deliver(a.drain(), toB);
    deliver(b.drain(), toA);
  }
}

interface Events {
  started: number;
  media: RtmpMessage[];
  errors: Error[];
}
const events = (): Events => ({ started: 0, media: [], errors: [] });
const clientHandler = (ev: Events) => ({
  onStarted: () => ev.started++,
  onMedia: (m: RtmpMessage) => ev.media.push(m),
  onError: (e: Error) => ev.errors.push(e),
});

function wire(mode: 'publish' | 'play', seed: number, opts: { complex?: boolean; acceptPublish?: boolean } = {}) {
  const rnd = mulberry32(seed);
  const cSink = new PipeSink();
  const sSink = new PipeSink();
  const ev = events();
  const server = {
    connect: [] as { app: string; tcUrl: string; object: Record<string, Amf0Value> }[],
    publish: [] as { streamName: string; urlParam: string; url: string; type: string }[],
    play: [] as { streamName: string; urlParam: string; url: string }[],
    media: [] as RtmpMessage[],
    playStarted: 0,
  };
  const srv = new RtmpServerConn({
    sink: sSink,
    log: silentLogger,
    handler: {
      onConnect: (i) => server.connect.push(i),
      onPublish: (i) => (server.publish.push(i), opts.acceptPublish ?? true),
      onPlay: (i) => (server.play.push(i), true),
      onPlayStarted: () => server.playStarted++,
      onMedia: (m) => server.media.push(m),
    },
  });
  const cli = new RtmpClientConn({
    sink: cSink,
    log: silentLogger,
    url: 'rtmp://127.0.0.1:1935/live/test110?k=v',
    mode,
    complexHandshake: opts.complex,
    handler: clientHandler(ev),
  });
  const run = () => pump(cSink, (c) => srv.feed(c), sSink, (c) => cli.feed(c), rnd);
  return { srv, cli, ev, server, run, sSink, cSink };
}

describe('end to end in memory: RtmpClientConn ↔ RtmpServerConn', () => {
  test.each([
    [1, false],
    [2, true],
    [3, false],
  ])('publish (seed %d, complex handshake %p): media arrives identical', (seed, complex) => {
    const w = wire('publish', seed, { complex });
    w.cli.start();
    w.run();
    expect(w.ev.errors).toEqual([]);
    expect(w.ev.started).toBe(1);
    expect(w.cli.state).toBe('publishing');
    expect(w.cli.streamId).toBe(1);
    expect(w.srv.state).toBe('publishing');
    expect(w.server.connect.length).toBe(1);
    expect(w.server.connect[0].app).toBe('live');
    expect(w.server.connect[0].tcUrl).toBe('rtmp://127.0.0.1:1935/live');
    expect(w.server.connect[0].object).toEqual({
      app: 'live',
      type: 'nonprivate',
      flashVer: 'FMLE/3.0 (compatible; lal0.1.0)',
      fpad: false,
      tcUrl: 'rtmp://127.0.0.1:1935/live',
    });
    expect(w.server.publish).toEqual([{ streamName: 'test110', urlParam: 'k=v', url: 'rtmp://127.0.0.1:1935/live/test110?k=v', type: 'live' }]);

    const sent: { type: 8 | 9 | 18; timestamp: number; body: Uint8Array }[] = [
      { type: 18, timestamp: 0, body: encodeAmf0('@setDataFrame', 'onMetaData', { width: 320 }) },
      { type: 9, timestamp: 0, body: concat([Uint8Array.of(0x17, 0, 0, 0, 0), filled(40)]) },
      { type: 8, timestamp: 0, body: Uint8Array.of(0xaf, 0, 0x12, 0x10) },
      { type: 9, timestamp: 40, body: filled(100_000, 3) },
      { type: 8, timestamp: 23, body: filled(300, 4) },
      { type: 9, timestamp: 0xfffffe, body: filled(5000, 5) },
      { type: 9, timestamp: 0x1000000, body: filled(9000, 6) },
      { type: 8, timestamp: 0xffffffff, body: filled(10, 7) },
    ];
    for (const m of sent) expect(w.cli.writeMedia(m.type, m.timestamp, m.body)).toBe(true);
    w.run();
    expect(w.server.media.map((m) => ({ type: m.type, timestamp: m.timestamp, body: toHex(m.body), streamId: m.streamId }))).toEqual(
      sent.map((m) => ({ type: m.type, timestamp: m.timestamp, body: toHex(m.body), streamId: 1 })),
    );
    expect(w.server.media.map((m) => m.csid)).toEqual([5, 7, 6, 7, 6, 7, 7, 6]);
  });

  test('play: the client receives what the server side writes, |RtmpSampleAccess dropped', () => {
    const w = wire('play', 9);
    w.cli.start();
    w.run();
    expect(w.ev.errors).toEqual([]);
    expect(w.ev.started).toBe(1);
    expect(w.cli.state).toBe('playing');
    expect(w.server.play).toEqual([{ streamName: 'test110', urlParam: 'k=v', url: 'rtmp://127.0.0.1:1935/live/test110?k=v' }]);
    expect(w.server.playStarted).toBe(1);
    const out = [
      { csid: 5, type: 18, timestamp: 0, streamId: 1, body: encodeAmf0('onMetaData', { w: 1 }) },
      { csid: 7, type: 9, timestamp: 0, streamId: 1, body: filled(20_000, 1) },
      { csid: 6, type: 8, timestamp: 21, streamId: 1, body: filled(200, 2) },
      { csid: 7, type: 9, timestamp: 0x1234567, streamId: 1, body: filled(4097, 3) },
    ];
    // What a fan-out writes to an RTMP player (shared fmt-0 chunks, chunk size 4096).
    w.sSink.write(dataMessage(5, 1, encodeAmf0('|RtmpSampleAccess', false, false)));
    for (const m of out) w.sSink.write(encodeRtmpMessage(m, 4096));
    w.run();
    expect(w.ev.media.map((m) => ({ ...m, body: toHex(m.body) }))).toEqual(out.map((m) => ({ ...m, body: toHex(m.body) })));
  });

  test('refused publish reaches the client as an error (NetStream.Publish.BadName)', () => {
    const w = wire('publish', 4, { acceptPublish: false });
    w.cli.start();
    w.run();
    expect(w.ev.started).toBe(0);
    expect(w.ev.errors.length).toBe(1);
    expect(w.ev.errors[0]).toBeInstanceOf(ProtocolError);
    expect(w.ev.errors[0].message).toContain('NetStream.Publish.BadName');
    expect(w.cli.state).toBe('closed');
    expect(() => w.cli.writeMedia(9, 0, Uint8Array.of(1))).toThrow(LalError);
  });
});

describe('client against a scripted server', () => {
  /** Client after the handshake; returns helpers to feed server messages and read client output. */
  function scripted(mode: 'publish' | 'play', url = 'rtmp://h/app/s') {
    const sink = new MemorySink();
    const ev = events();
    const cli = new RtmpClientConn({ sink, log: silentLogger, url, mode, handler: clientHandler(ev) });
    cli.start();
    const s0s1s2 = new Uint8Array(3073);
    s0s1s2[0] = 3;
    cli.feed(s0s1s2);
    const reader = new RtmpChunkReader();
    let seen = 0;
    let skipped = 0;
    const sent = (): RtmpMessage[] => {
      const out: RtmpMessage[] = [];
      for (; seen < sink.chunks.length; seen++) {
        let c = sink.chunks[seen];
        if (skipped < 1537 + 1536) {
          const k = Math.min(1537 + 1536 - skipped, c.length);
          skipped += k;
          c = c.subarray(k);
        }
        out.push(...reader.feed(c));
      }
      return out;
    };
    return { cli, ev, sink, sent };
  }
  const result = (tid: number, ...args: Amf0Value[]) => command(3, 0, '_result', tid, ...args);
  const connectOk = () => result(1, { fmsVer: 'FMS/3,0,1,123' }, { level: 'status', code: 'NetConnection.Connect.Success' });

  test('sends Set Chunk Size, connect, createStream, play in order with the spec objects', () => {
    const { cli, ev, sent } = scripted('play', 'rtmp://h:1940/app/s?x=1');
    let m = sent();
    expect(m.map((x) => x.type)).toEqual([1, 20]);
    expect(toHex(m[0].body)).toBe('00001000');
    expect([m[1].csid, m[1].streamId]).toEqual([3, 0]);
    expect(decodeAmf0All(m[1].body)).toEqual([
      'connect',
      1,
      { app: 'app', type: 'nonprivate', flashVer: 'LNX 9,0,124,2', fpad: false, tcUrl: 'rtmp://h:1940/app' },
    ]);
    cli.feed(concat([windowAckSize(5000000), setChunkSize(4096), connectOk()]));
    m = sent();
    expect(decodeAmf0All(m[0].body)).toEqual(['createStream', 2, null]);
    cli.feed(command(3, 0, 'onBWDone', 0, null)); // ignored
    cli.feed(result(2, null, 7));
    m = sent();
    expect([m[0].csid, m[0].streamId]).toEqual([5, 7]);
    expect(decodeAmf0All(m[0].body)).toEqual(['play', 3, null, 's?x=1']);
    cli.feed(command(5, 7, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Reset' }));
    expect(ev.started).toBe(0);
    cli.feed(command(5, 7, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Start' }));
    expect(ev.started).toBe(1);
    expect(cli.streamId).toBe(7);
    cli.feed(encodeRtmpMessage({ csid: 6, type: 8, timestamp: 5, streamId: 7, body: Uint8Array.of(0xaf, 1) }));
    expect(ev.media.length).toBe(1);
    expect(ev.errors).toEqual([]);
  });

  test('publish command carries "live"; media uses csid 6/7/5 and the returned stream id', () => {
    const { cli, ev, sent } = scripted('publish');
    sent();
    cli.feed(connectOk());
    cli.feed(result(2, null, 3));
    const m = sent();
    expect(decodeAmf0All(m[m.length - 1].body)).toEqual(['publish', 3, null, 's', 'live']);
    expect(() => cli.writeMedia(9, 0, Uint8Array.of(1))).toThrow(/writeMedia while starting/);
    cli.feed(command(5, 3, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start' }));
    expect(ev.started).toBe(1);
    cli.writeMedia(9, 40, Uint8Array.of(0x27, 1));
    cli.writeMedia(8, 41, Uint8Array.of(0xaf, 1));
    cli.writeMedia(18, 0, encodeAmf0('onMetaData'));
    expect(sent().map((x) => [x.csid, x.type, x.streamId, x.timestamp])).toEqual([
      [7, 9, 3, 40],
      [6, 8, 3, 41],
      [5, 18, 3, 0],
    ]);
    // media from the server to a publishing client is ignored
    cli.feed(encodeRtmpMessage({ csid: 6, type: 8, timestamp: 5, streamId: 3, body: Uint8Array.of(0xaf, 1) }));
    expect(ev.media).toEqual([]);
  });

  test('ping requests are answered; acknowledgements only after a window was set', () => {
    const { cli, sent } = scripted('play');
    sent();
    cli.feed(pingRequest(1234));
    const [p] = sent();
    expect([p.type, toHex(p.body)]).toEqual([4, '0007000004d2']);
    const filler = encodeRtmpMessage({ csid: 9, type: 15, timestamp: 0, streamId: 0, body: new Uint8Array(600_000) }, 128);
    cli.feed(filler);
    expect(sent().filter((x) => x.type === 3)).toEqual([]);
    cli.feed(windowAckSize(1_000_000)); // > half a window already received: ack at once
    let acks = sent().filter((x) => x.type === 3);
    expect(acks.length).toBe(1);
    expect(new DataView(acks[0].body.buffer).getUint32(0)).toBe(cli.bytesRead);
    cli.feed(encodeRtmpMessage({ csid: 9, type: 15, timestamp: 0, streamId: 0, body: new Uint8Array(400_000) }, 128));
    expect(sent().filter((x) => x.type === 3)).toEqual([]); // < 500,000 since the last ack
    cli.feed(filler);
    acks = sent().filter((x) => x.type === 3);
    expect(acks.length).toBe(1);
    expect(new DataView(acks[0].body.buffer).getUint32(0)).toBe(cli.bytesRead);
  });

  test.each([
    ['_error on connect', () => command(3, 0, '_error', 1, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'code=403 need auth' }), /need auth/],
    ['connect not successful', () => command(3, 0, '_result', 1, null, { level: 'error', code: 'NetConnection.Connect.Failed' }), /connect failed/],
    ['garbage bytes', () => Uint8Array.of(0xc9, 1, 2, 3), /rtmp:/],
  ])('%s → onError once, closed, no throw', (_n, bytes, re) => {
    const { cli, ev } = scripted('publish');
    expect(() => cli.feed(bytes())).not.toThrow();
    expect(ev.errors.length).toBe(1);
    expect(ev.errors[0].message).toMatch(re);
    expect(cli.state).toBe('closed');
    cli.feed(bytes());
    expect(ev.errors.length).toBe(1);
  });

  test('createStream result without a stream id is an error', () => {
    const { cli, ev } = scripted('play');
    cli.feed(connectOk());
    cli.feed(command(3, 0, '_result', 2, null, 'x'));
    expect(ev.errors[0].message).toMatch(/stream id/);
  });

  test('an invalid URL throws ParseError from the constructor; feed before start is refused', () => {
    expect(() => new RtmpClientConn({ sink: new MemorySink(), log: silentLogger, url: 'http://x/a/b', mode: 'play', handler: clientHandler(events()) })).toThrow(ParseError);
    const c = new RtmpClientConn({ sink: new MemorySink(), log: silentLogger, url: 'rtmp://x/a/b', mode: 'play', handler: clientHandler(events()) });
    expect(() => c.feed(Uint8Array.of(3))).toThrow(LalError);
    c.start();
    expect(() => c.start()).toThrow(LalError);
    c.close();
    expect(c.state).toBe('closed');
  });

  test('hostile: random bytes never throw out of feed and report at most one error', () => {
    const rnd = mulberry32(77);
    for (let i = 0; i < 200; i++) {
      const { cli, ev } = scripted(i % 2 ? 'play' : 'publish');
      if (i % 3 === 0) cli.feed(connectOk());
      const junk = randomBytes(rnd, 1 + Math.floor(rnd() * 500));
      expect(() => cli.feed(junk)).not.toThrow();
      expect(ev.errors.length).toBeLessThanOrEqual(1);
      for (const e of ev.errors) expect(e instanceof ParseError || e instanceof ProtocolError).toBe(true);
    }
  });
});
