import { test, expect, describe } from 'bun:test';
import { ParseError, ProtocolError } from '../../core/errors.ts';
import { MemorySink } from '../../core/sink.ts';
import { silentLogger } from '../../core/log.ts';
import { encodeAmf0, decodeAmf0All, type Amf0Value } from '../../format/amf0/index.ts';
import { RtmpServerConn, splitStreamName, type RtmpServerHandler } from './server-conn.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { RtmpClientHandshake } from './handshake.ts';
import { command, dataMessage, pingRequest, setChunkSize, windowAckSize } from './messages.ts';
import { mulberry32, onlyParseOrProtocolError, randomBytes, randomPieces, toHex } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const HANDSHAKE = () => concat([new RtmpClientHandshake({ time: 1 }).start(), new Uint8Array(1536)]);
const CONNECT_OBJ = { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1:1935/live' };
const connect = (obj: Record<string, Amf0Value> = CONNECT_OBJ, tid = 1) => concat([setChunkSize(4096), command(3, 0, 'connect', tid, obj)]);
const createStream = (tid = 4) => command(3, 0, 'createStream', tid, null);
const publish = (name: string, ...rest: Amf0Value[]) => command(5, 1, 'publish', 5, null, name, ...rest);
const play = (name: string) => command(8, 1, 'play', 5, null, name, -2000);
const media = (type: number, ts: number, body: Uint8Array) => encodeRtmpMessage({ csid: type === 8 ? 4 : 6, type, timestamp: ts, streamId: 1, body }, 4096);

interface Calls {
  connect: { app: string; tcUrl: string; object: Record<string, Amf0Value> }[];
  publish: { streamName: string; urlParam: string; url: string; type: string }[];
  play: { streamName: string; urlParam: string; url: string }[];
  media: RtmpMessage[];
  deleteStream: number;
  playStartedAfter: number[];
}

function setup(opts: { acceptPublish?: boolean; acceptPlay?: boolean } = {}) {
  const sink = new MemorySink();
  const calls: Calls = { connect: [], publish: [], play: [], media: [], deleteStream: 0, playStartedAfter: [] };
  const handler: RtmpServerHandler = {
    onConnect: (i) => {
      calls.connect.push(i);
      expect(sink.chunks.length).toBe(1); // fires before the connect replies (only S0S1S2 so far)
    },
    onPublish: (i) => (calls.publish.push(i), opts.acceptPublish ?? true),
    onPlay: (i) => (calls.play.push(i), opts.acceptPlay ?? true),
    onPlayStarted: () => calls.playStartedAfter.push(sink.bytesWritten),
    onMedia: (m) => calls.media.push(m),
    onDeleteStream: () => calls.deleteStream++,
  };
  const conn = new RtmpServerConn({ sink, log: silentLogger, handler, handshakeTime: 0 });
  // Decode what the server wrote after S0S1S2, incrementally.
  const reader = new RtmpChunkReader();
  let seen = 0;
  let skipped = 0;
  const replies = (): RtmpMessage[] => {
    const out: RtmpMessage[] = [];
    for (; seen < sink.chunks.length; seen++) {
      let c = sink.chunks[seen];
      if (skipped < 3073) {
        const k = Math.min(3073 - skipped, c.length);
        skipped += k;
        c = c.subarray(k);
      }
      out.push(...reader.feed(c));
    }
    return out;
  };
  return { conn, sink, calls, replies };
}

function cmdOf(m: RtmpMessage): Amf0Value[] {
  expect(m.type).toBe(20);
  return decodeAmf0All(m.body);
}

describe('connect and createStream (docs/protocols.md §2.5)', () => {
  test('replies in order with the exact objects, chunk size 4096 afterwards', () => {
    const { conn, calls, replies } = setup();
    conn.feed(HANDSHAKE());
    expect(conn.state).toBe('connected');
    conn.feed(connect());
    expect(calls.connect).toEqual([{ app: 'live', tcUrl: 'rtmp://127.0.0.1:1935/live', object: CONNECT_OBJ }]);
    expect(conn.app).toBe('live');
    expect(conn.tcUrl).toBe('rtmp://127.0.0.1:1935/live');
    const r = replies();
    expect(r.map((m) => [m.type, m.csid, m.streamId])).toEqual([
      [5, 2, 0],
      [6, 2, 0],
      [1, 2, 0],
      [20, 3, 0],
    ]);
    expect(toHex(r[0].body)).toBe('004c4b40');
    expect(toHex(r[1].body)).toBe('004c4b4002');
    expect(toHex(r[2].body)).toBe('00001000');
    // byte-exact _result body, property order included
    expect(toHex(r[3].body)).toBe(
      toHex(
        encodeAmf0('_result', 1, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding: 0,
          version: '0,1,0',
        }),
      ),
    );
    conn.feed(createStream(4));
    const [cs] = replies();
    expect([cs.csid, cs.streamId]).toEqual([3, 0]);
    expect(cmdOf(cs)).toEqual(['_result', 4, null, 1]);
  });

  test('objectEncoding 3 is echoed, other values become 0', () => {
    for (const [oe, want] of [[3, 3], [0, 0], [7, 0]]) {
      const { conn, replies } = setup();
      conn.feed(concat([HANDSHAKE(), connect({ ...CONNECT_OBJ, objectEncoding: oe })]));
      const res = replies()[3];
      expect((cmdOf(res)[3] as Record<string, Amf0Value>).objectEncoding).toBe(want);
    }
  });

  test('missing tcUrl is accepted as ""; missing app or object is a ProtocolError', () => {
    const a = setup();
    a.conn.feed(concat([HANDSHAKE(), connect({ app: 'x' })]));
    expect(a.conn.tcUrl).toBe('');
    const b = setup();
    expect(() => b.conn.feed(concat([HANDSHAKE(), connect({ tcUrl: 'rtmp://h/x' })]))).toThrow(ProtocolError);
    const c = setup();
    expect(() => c.conn.feed(concat([HANDSHAKE(), command(3, 0, 'connect', 1, null)]))).toThrow(/command object/);
    const d = setup();
    d.conn.feed(concat([HANDSHAKE(), connect()]));
    expect(() => d.conn.feed(connect())).toThrow(/second connect/);
  });

  test('AMF3 command message (type 17) connect is handled like AMF0', () => {
    const { conn, calls } = setup();
    const body = concat([Uint8Array.of(0), encodeAmf0('connect', 1, CONNECT_OBJ)]);
    conn.feed(concat([HANDSHAKE(), setChunkSize(4096), encodeRtmpMessage({ csid: 3, type: 17, timestamp: 0, streamId: 0, body })]));
    expect(calls.connect.length).toBe(1);
  });

  test('publish/play/createStream before connect are ProtocolErrors', () => {
    for (const m of [createStream(), publish('x'), play('x')]) {
      const { conn } = setup();
      expect(() => conn.feed(concat([HANDSHAKE(), m]))).toThrow(/before connect/);
    }
  });
});

describe('publish (docs/protocols.md §2.5, docs/urls.md §3)', () => {
  const start = (name: string, ...rest: Amf0Value[]) => {
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), connect(), createStream()]));
    s.replies();
    s.conn.feed(publish(name, ...rest));
    return s;
  };

  test('onStatus Publish.Start on csid 5, stream 1; handler gets name, query, url, type', () => {
    const { conn, calls, replies } = start('test110?lal_secret=abc', 'live');
    expect(calls.publish).toEqual([
      { streamName: 'test110', urlParam: 'lal_secret=abc', url: 'rtmp://127.0.0.1:1935/live/test110?lal_secret=abc', type: 'live' },
    ]);
    const [st] = replies();
    expect([st.csid, st.streamId, st.timestamp]).toEqual([5, 1, 0]);
    expect(toHex(st.body)).toBe(
      toHex(encodeAmf0('onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' })),
    );
    expect(conn.state).toBe('publishing');
    expect([conn.streamName, conn.urlParam, conn.url]).toEqual(['test110', 'lal_secret=abc', 'rtmp://127.0.0.1:1935/live/test110?lal_secret=abc']);
  });

  test('publish without the type argument is accepted (LAL issue #280)', () => {
    const { conn, calls } = start('s');
    expect(conn.state).toBe('publishing');
    expect(calls.publish[0].type).toBe('');
  });

  test.each([
    ['a', 'a', ''],
    ['a?x=1', 'a', 'x=1'],
    ['a?x=1?y=2', 'a', ''], // docs/quirks.md Q-RTMP-3
    ['c/d/test110?p1=1&p2=2', 'c/d/test110', 'p1=1&p2=2'],
    ['', '', ''],
  ])('splitStreamName(%p) → %p, %p', (name, stream, query) => {
    expect(splitStreamName(name)).toEqual({ streamName: stream, urlParam: query });
  });

  test('refused publish: onStatus error NetStream.Publish.BadName, then closed and deaf', () => {
    const s = setup({ acceptPublish: false });
    s.conn.feed(concat([HANDSHAKE(), connect(), createStream()]));
    s.replies();
    const before = s.sink.bytesWritten;
    s.conn.feed(concat([publish('taken'), media(9, 0, Uint8Array.of(0x17, 0))]));
    const [st] = s.replies();
    expect(cmdOf(st)).toEqual(['onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'Publish refused' }]);
    expect(s.conn.state).toBe('closed');
    expect(s.calls.media.length).toBe(0);
    const after = s.sink.bytesWritten;
    expect(after).toBeGreaterThan(before);
    s.conn.feed(command(3, 0, 'createStream', 9, null));
    expect(s.sink.bytesWritten).toBe(after);
    expect(s.sink.closed).toBe(false); // the session closes the socket, not the conn
  });

  test('media and metadata after publish reach onMedia; |RtmpSampleAccess is dropped', () => {
    const { conn, calls } = start('s', 'live');
    const meta = concat([encodeAmf0('@setDataFrame', 'onMetaData'), encodeAmf0({ width: 320 })]);
    const video = new Uint8Array(10000).fill(7);
    conn.feed(
      concat([
        dataMessage(4, 1, encodeAmf0('|RtmpSampleAccess', true, true)),
        dataMessage(4, 1, meta),
        media(9, 0, video),
        media(8, 23, Uint8Array.of(0xaf, 1, 2)),
      ]),
    );
    expect(calls.media.map((m) => [m.type, m.timestamp, m.body.length])).toEqual([
      [18, 0, meta.length],
      [9, 0, 10000],
      [8, 23, 3],
    ]);
    expect(calls.media[0].body).toEqual(meta);
    expect(calls.media[1].body).toEqual(video);
  });

  test('a data message not starting with an AMF0 string is a ParseError', () => {
    const { conn } = start('s');
    expect(() => conn.feed(dataMessage(4, 1, encodeAmf0(1)))).toThrow(ParseError);
  });

  test('second publish on the same connection is a ProtocolError', () => {
    const { conn } = start('s');
    expect(() => conn.feed(publish('t'))).toThrow(ProtocolError);
  });
});

describe('play (docs/protocols.md §2.5)', () => {
  test('Stream Is Recorded, Stream Begin, onStatus Play.Start, then onPlayStarted', () => {
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), connect(), createStream()]));
    s.replies();
    s.conn.feed(play('test110?k=v'));
    expect(s.calls.play).toEqual([{ streamName: 'test110', urlParam: 'k=v', url: 'rtmp://127.0.0.1:1935/live/test110?k=v' }]);
    const r = s.replies();
    expect(r.map((m) => [m.type, m.csid, m.streamId])).toEqual([
      [4, 2, 0],
      [4, 2, 0],
      [20, 5, 1],
    ]);
    expect(toHex(r[0].body)).toBe('000400000001');
    expect(toHex(r[1].body)).toBe('000000000001');
    expect(toHex(r[2].body)).toBe(
      toHex(encodeAmf0('onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Start', description: 'Start live' })),
    );
    expect(s.calls.playStartedAfter).toEqual([s.sink.bytesWritten]);
    expect(s.conn.state).toBe('playing');
  });

  test('refused play: onStatus error NetStream.Play.Failed, closed', () => {
    const s = setup({ acceptPlay: false });
    s.conn.feed(concat([HANDSHAKE(), connect(), createStream(), play('x')]));
    const r = s.replies();
    expect(cmdOf(r[r.length - 1])[3]).toEqual({ level: 'error', code: 'NetStream.Play.Failed', description: 'Play refused' });
    expect(s.conn.state).toBe('closed');
    expect(s.calls.playStartedAfter).toEqual([]);
  });

  test('media from a player is a ProtocolError (docs/quirks.md Q-RTMP-4)', () => {
    for (const m of [media(8, 0, Uint8Array.of(1)), media(9, 0, Uint8Array.of(1)), dataMessage(4, 1, encodeAmf0('onMetaData'))]) {
      const s = setup();
      s.conn.feed(concat([HANDSHAKE(), connect(), createStream(), play('x')]));
      expect(() => s.conn.feed(m)).toThrow(ProtocolError);
    }
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), connect()]));
    expect(() => s.conn.feed(media(9, 0, Uint8Array.of(1)))).toThrow(/not publishing/);
  });
});

describe('other messages', () => {
  test('silent commands, deleteStream callback, unknown commands ignored', () => {
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), connect()]));
    s.replies();
    const before = s.sink.bytesWritten;
    for (const name of ['releaseStream', 'FCPublish', 'FCUnpublish', 'getStreamLength', 'closeStream', 'whatever', '_checkbw']) {
      s.conn.feed(command(3, 0, name, 2, null, 'x'));
    }
    expect(s.sink.bytesWritten).toBe(before);
    s.conn.feed(command(3, 0, 'deleteStream', 6, null, 1));
    expect(s.calls.deleteStream).toBe(1);
    expect(s.sink.bytesWritten).toBe(before);
    expect(s.conn.state).toBe('connected');
  });

  test('ping request → ping response with the same value; other user control ignored', () => {
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), pingRequest(0xdeadbeef)]));
    const [r] = s.replies();
    expect([r.type, r.csid, toHex(r.body)]).toEqual([4, 2, '0007deadbeef']);
    s.conn.feed(encodeRtmpMessage({ csid: 2, type: 4, timestamp: 0, streamId: 0, body: Uint8Array.of(0, 3, 0, 0, 0, 1, 0, 0, 0, 100) }));
    expect(s.replies()).toEqual([]);
  });

  test('acknowledgements every 2,500,000 bytes once the peer set a window, sequence = bytes received', () => {
    const s = setup();
    s.conn.feed(concat([HANDSHAKE(), connect(), createStream(), publish('s', 'live')]));
    s.replies();
    const big = media(9, 0, new Uint8Array(1_000_000));
    for (let i = 0; i < 3; i++) s.conn.feed(big);
    expect(s.replies().filter((m) => m.type === 3)).toEqual([]); // no window from the peer yet
    s.conn.feed(windowAckSize(5_000_000));
    const acks = s.replies().filter((m) => m.type === 3);
    expect(acks.length).toBe(1);
    expect(new DataView(acks[0].body.buffer).getUint32(0)).toBe(s.conn.bytesRead);
    s.conn.feed(big);
    s.conn.feed(big);
    expect(s.replies().filter((m) => m.type === 3)).toEqual([]);
    s.conn.feed(big);
    const more = s.replies().filter((m) => m.type === 3);
    expect(more.length).toBe(1);
    expect(new DataView(more[0].body.buffer).getUint32(0)).toBe(s.conn.bytesRead);
  });

  test('bytesRead counts every byte fed, handshake included', () => {
    const s = setup();
    const bytes = concat([HANDSHAKE(), connect(), createStream()]);
    for (let i = 0; i < bytes.length; i += 100) s.conn.feed(bytes.subarray(i, i + 100));
    expect(s.conn.bytesRead).toBe(bytes.length);
  });

  test('a whole session fed whole, byte by byte and in random splits gives the same calls and replies', () => {
    const session = concat([
      HANDSHAKE(),
      connect(),
      createStream(),
      publish('s?a=1', 'live'),
      dataMessage(4, 1, concat([encodeAmf0('@setDataFrame', 'onMetaData', { w: 1 })])),
      media(9, 0, new Uint8Array(9000).fill(3)),
      media(8, 0x1000000, Uint8Array.of(0xaf, 1)),
    ]);
    const run = (split: (b: Uint8Array) => Uint8Array[]) => {
      const s = setup();
      for (const p of split(session)) s.conn.feed(p);
      return { calls: JSON.stringify({ ...s.calls, media: s.calls.media.map((m) => ({ ...m, body: toHex(m.body) })) }), out: toHex(concat(s.sink.chunks)) };
    };
    const whole = run((b) => [b]);
    expect(run((b) => Array.from(b, (_, i) => b.subarray(i, i + 1)))).toEqual(whole);
    const rnd = mulberry32(5);
    expect(
      run((b) => randomPieces(b, rnd, 2000)),
    ).toEqual(whole);
  });
});

describe('hostile input', () => {
  const valid = concat([
    HANDSHAKE(),
    connect(),
    createStream(),
    publish('s', 'live'),
    dataMessage(4, 1, encodeAmf0('@setDataFrame', 'onMetaData', { w: 1 })),
    media(9, 0, new Uint8Array(500).fill(3)),
    media(8, 5, Uint8Array.of(0xaf, 1)),
  ]);

  test('every truncation of a valid session is accepted without error', () => {
    for (let n = 3073; n <= valid.length; n += 7) {
      const s = setup();
      expect(() => s.conn.feed(valid.subarray(0, n))).not.toThrow();
    }
  });

  test('random bytes (fresh and after a valid handshake) and mutations throw only ParseError/ProtocolError', () => {
    const rnd = mulberry32(0xbad);
    for (let i = 0; i < 200; i++) {
      const junk = randomBytes(rnd, 1 + Math.floor(rnd() * 600));
      onlyParseOrProtocolError(() => setup().conn.feed(junk));
      onlyParseOrProtocolError(() => {
        const s = setup();
        s.conn.feed(HANDSHAKE());
        s.conn.feed(junk);
      });
      onlyParseOrProtocolError(() => {
        const s = setup();
        s.conn.feed(concat([HANDSHAKE(), connect(), createStream()]));
        s.conn.feed(junk);
      });
      const m = valid.slice();
      for (let k = 0; k < 3; k++) {
        const at = 3073 + Math.floor(rnd() * (m.length - 3073));
        m[at] = Math.floor(rnd() * 256);
      }
      onlyParseOrProtocolError(() => setup().conn.feed(m));
    }
  });
});
