/**
 * Seeded fuzz test of the RTMP chunk reader (issue #9): 100,000 random and mutated chunk
 * streams, fed whole and in random pieces. Only ParseError may escape; both feeds give the same
 * messages (or both fail); accepted messages, chunked again by our writer, read back the same.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { RtmpMsgType } from './constants.ts';
import { command, setChunkSize } from './messages.ts';

const filled = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
// an aggregate of two FLV-tag-like sub-messages, each with its back pointer
const AGGREGATE = fromHex('0800000300000a00000000af0121 0000000e 0900000500001400000000270100000041 00000010'.replace(/ /g, ''));

const CORPUS = [
  concat([
    setChunkSize(256),
    command(3, 0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }),
    encodeRtmpMessage({ csid: 6, type: 8, timestamp: 0xfffff0, streamId: 1, body: filled(500, 1) }, 256),
    encodeRtmpMessage({ csid: 300, type: 9, timestamp: 0x1000000, streamId: 1, body: filled(600, 2) }, 256), // extended timestamp, 3-byte basic header
  ]),
  concat([
    encodeRtmpMessage({ csid: 70, type: 9, timestamp: 40, streamId: 1, body: filled(300, 3) }, 128),
    fromHex('c6'), // fmt 3 on csid 6 before any header: an error path
  ]),
  concat([
    encodeRtmpMessage({ csid: 4, type: RtmpMsgType.Aggregate, timestamp: 1000, streamId: 1, body: AGGREGATE }, 128),
    encodeRtmpMessage({ csid: 2, type: RtmpMsgType.Abort, timestamp: 0, streamId: 0, body: fromHex('00000004') }, 128),
    fromHex('44 000028 000002 08 af01'.replace(/ /g, '')), // fmt 1 (delta 40), then fmt 2 and fmt 3 new messages
    fromHex('84 000028 af01 c4 af01'.replace(/ /g, '')),
  ]),
];
const DICT = [fromHex('ffffff'), fromHex('c3'), fromHex('03'), fromHex('00'), fromHex('0100'), setChunkSize(1)];

interface Run {
  msgs: RtmpMessage[];
  error: boolean;
}

function run(pieces: Uint8Array[]): Run {
  const r = new RtmpChunkReader({ maxMessageLength: 1 << 16 });
  const msgs: RtmpMessage[] = [];
  try {
    for (const p of pieces) msgs.push(...r.feed(p));
  } catch (e) {
    if (e instanceof ParseError) return { msgs, error: true };
    throw e;
  }
  fuzzCheck(r.bytesRead === pieces.reduce((n, p) => n + p.length, 0), 'bytesRead counts every byte');
  return { msgs, error: false };
}

/** Types that change the reader's state or split into others: left out of the re-encoding. */
const STATEFUL: ReadonlySet<number> = new Set([RtmpMsgType.SetChunkSize, RtmpMsgType.Abort, RtmpMsgType.Aggregate]);

describe('RtmpChunkReader fuzz', () => {
  test('100,000 inputs, whole and in pieces: only ParseError, same messages, re-chunking round-trips', () => {
    const r = fuzz('rtmp chunk reader', { seed: 0xc4c4, corpus: CORPUS, dictionary: DICT, maxRandomLength: 200 }, ({ input, rnd }) => {
      const whole = run([input]);
      const split = run(fuzzPieces(input, rnd));
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('rtmp: rejected (both ways)');
      fuzzCheck(Bun.deepEquals(whole.msgs, split.msgs), 'whole and pieces give the same messages');
      const plain = whole.msgs.filter((m) => !STATEFUL.has(m.type) && m.body.length <= 4096);
      const size = 1 + Math.floor(rnd() * 300);
      const again = run([setChunkSize(size), ...plain.map((m) => encodeRtmpMessage(m, size))]);
      fuzzCheck(!again.error && Bun.deepEquals(again.msgs.slice(1), plain), 'messages re-chunked read back the same');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.05);
  }, FUZZ_TIMEOUT);
});
