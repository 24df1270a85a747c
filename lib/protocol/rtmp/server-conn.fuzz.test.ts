/**
 * Seeded fuzz test of the RTMP server connection's input side (issue #9): after a valid
 * handshake (or without one), 100,000 random and mutated publish/play sessions fed whole and in
 * random pieces. Only ParseError/ProtocolError may escape `feed()`; when nothing is rejected,
 * both feeds give the same replies and handler calls.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError, ProtocolError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { MemorySink } from '../../core/sink.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { encodeAmf0 } from '../../format/amf0/encode.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { RtmpMsgType } from './constants.ts';
import { RtmpClientHandshake } from './handshake.ts';
import { command, dataMessage, pingRequest, setChunkSize, windowAckSize } from './messages.ts';
import { RtmpServerConn } from './server-conn.ts';

const HANDSHAKE = concat([new RtmpClientHandshake({ time: 1 }).start(), new Uint8Array(1536)]);
const media = (type: number, ts: number, body: Uint8Array) => encodeRtmpMessage({ csid: type === 8 ? 4 : 6, type, timestamp: ts, streamId: 1, body }, 4096);
const CONNECT = { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1:1935/live' };

const CORPUS = [
  concat([
    setChunkSize(4096),
    command(3, 0, 'connect', 1, CONNECT),
    command(3, 0, 'releaseStream', 2, null, 'test'),
    command(3, 0, 'FCPublish', 3, null, 'test'),
    command(3, 0, 'createStream', 4, null),
    command(5, 1, 'publish', 5, null, 'test?token=x', 'live'),
    dataMessage(4, 1, encodeAmf0('@setDataFrame', 'onMetaData', { width: 320, height: 240 })),
    media(9, 0, fromHex('1700000000 0164000dffe1000467640016 01000468ebe3cb'.replace(/ /g, ''))),
    media(8, 0, fromHex('af001210')),
    media(9, 40, new Uint8Array(300).fill(0x27)),
    windowAckSize(2_500_000),
    pingRequest(1234),
    command(3, 0, 'deleteStream', 6, null, 1),
  ]),
  concat([
    command(3, 0, 'connect', 1, { ...CONNECT, objectEncoding: 3 }),
    command(3, 0, 'createStream', 2, null),
    encodeRtmpMessage({ csid: 8, type: RtmpMsgType.CommandAmf3, timestamp: 0, streamId: 1, body: concat([Uint8Array.of(0), encodeAmf0('play', 3, null, 'test', -2000)]) }, 128),
    command(3, 0, 'getStreamLength', 4, null, 'test'),
    command(3, 0, 'someUnknownCommand', 5, null),
  ]),
];
const DICT = [encodeAmf0('publish'), encodeAmf0('play'), encodeAmf0('connect'), fromHex('0300'), fromHex('000009')];

interface Run {
  out: Uint8Array;
  calls: unknown[];
  error: boolean;
}

function run(pieces: Uint8Array[], handshake: boolean): Run {
  const sink = new MemorySink();
  const calls: unknown[] = [];
  const conn = new RtmpServerConn({
    sink,
    log: silentLogger,
    handshakeTime: 0,
    maxMessageLength: 1 << 16,
    handler: {
      onConnect: (i) => void calls.push(['connect', i]),
      onPublish: (i) => (calls.push(['publish', i]), i.streamName !== 'refused'),
      onPlay: (i) => (calls.push(['play', i]), true),
      onPlayStarted: () => void calls.push(['play-started']),
      onMedia: (m) => void calls.push(['media', m]),
      onDeleteStream: () => void calls.push(['delete']),
    },
  });
  let error = false;
  try {
    if (handshake) conn.feed(HANDSHAKE);
    for (const p of pieces) conn.feed(p);
  } catch (e) {
    if (!(e instanceof ParseError || e instanceof ProtocolError)) throw e;
    error = true;
  }
  return { out: concat(sink.chunks), calls, error };
}

describe('RtmpServerConn fuzz', () => {
  test('100,000 sessions, whole and in pieces: only ParseError/ProtocolError, same replies', () => {
    const r = fuzz('rtmp server conn', { seed: 0x5e7, corpus: CORPUS, dictionary: DICT, maxRandomLength: 300, allowed: [ParseError, ProtocolError] }, ({ input, rnd }) => {
      const handshake = rnd() < 0.9;
      const whole = run([input], handshake);
      const split = run(fuzzPieces(input, rnd), handshake);
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('rtmp: session rejected (both ways)');
      fuzzCheck(Bun.deepEquals(whole.out, split.out) && Bun.deepEquals(whole.calls, split.calls), 'whole and pieces give the same replies and calls');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.2);
  }, FUZZ_TIMEOUT);
});
