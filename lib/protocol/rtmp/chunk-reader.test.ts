import { test, expect, describe } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { fromHex, mulberry32, mutateBytes, onlyParseError, randomBytes, randomPieces } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const filled = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Plain comparable form of messages. */
const plain = (ms: RtmpMessage[]) => ms.map((m) => ({ ...m, body: Array.from(m.body) }));

function feedWhole(bytes: Uint8Array): RtmpMessage[] {
  return new RtmpChunkReader().feed(bytes);
}
function feedBytewise(bytes: Uint8Array): RtmpMessage[] {
  const r = new RtmpChunkReader();
  const out: RtmpMessage[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...r.feed(bytes.subarray(i, i + 1)));
  expect(r.bytesRead).toBe(bytes.length);
  return out;
}
function feedRandom(bytes: Uint8Array, seed: number): RtmpMessage[] {
  const r = new RtmpChunkReader();
  const out: RtmpMessage[] = [];
  for (const piece of randomPieces(bytes, mulberry32(seed), 300)) out.push(...r.feed(piece));
  return out;
}
function expectBoundaryIndependent(bytes: Uint8Array): RtmpMessage[] {
  const whole = feedWhole(bytes);
  expect(plain(feedBytewise(bytes))).toEqual(plain(whole));
  for (let s = 1; s <= 5; s++) expect(plain(feedRandom(bytes, s))).toEqual(plain(whole));
  return whole;
}

describe('chunk headers', () => {
  test('fmt 0 then fmt 3 new message re-applies the fmt 0 field as delta (as ffmpeg and LAL read it)', () => {
    const ms = expectBoundaryIndependent(concat([fromHex('03 0003e8 000020 08 39300000'), filled(32, 1), fromHex('c3'), filled(32, 2)]));
    expect(ms.map((m) => m.timestamp)).toEqual([1000, 2000]);
    expect(ms[1].streamId).toBe(12345);
    expect(ms[1].body).toEqual(filled(32, 2));
  });

  // RTMP spec §5.3.2.1 example 1: audio messages on one stream with a constant delta.
  test('spec example 1: fmt 0, fmt 2 (delta 20), fmt 3, fmt 3 → 1000, 1020, 1040, 1060', () => {
    const msgs = expectBoundaryIndependent(
      concat([
        fromHex('03 0003e8 000020 08 39300000'), filled(32, 1), // fmt 0: ts 1000, len 32, type 8, msid 12345
        fromHex('83 000014'), filled(32, 2), // fmt 2: delta 20
        fromHex('c3'), filled(32, 3), // fmt 3
        fromHex('c3'), filled(32, 4),
      ]),
    );
    expect(msgs.map((m) => m.timestamp)).toEqual([1000, 1020, 1040, 1060]);
    expect(msgs.every((m) => m.type === 8 && m.streamId === 12345 && m.csid === 3 && m.body.length === 32)).toBe(true);
    expect(msgs[3].body).toEqual(filled(32, 4));
  });

  test('spec example 2: a 307-byte message in chunks of 128 (fmt 0, fmt 3, fmt 3)', () => {
    const body = filled(307, 9);
    const bytes = concat([
      fromHex('04 0003e8 000133 09 01000000'), body.subarray(0, 128),
      fromHex('c4'), body.subarray(128, 256),
      fromHex('c4'), body.subarray(256),
    ]);
    const [m, ...rest] = expectBoundaryIndependent(bytes);
    expect(rest.length).toBe(0);
    expect(m).toEqual({ csid: 4, type: 9, timestamp: 1000, streamId: 1, body });
  });

  test('fmt 1 changes length and type, keeps stream id; deltas accumulate', () => {
    const bytes = concat([
      fromHex('06 000064 000002 08 01000000'), fromHex('aabb'),
      fromHex('46 00000a 000003 09'), fromHex('010203'),
      fromHex('86 000005'), fromHex('040506'),
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => [m.type, m.timestamp, m.streamId, m.body.length])).toEqual([
      [8, 100, 1, 2],
      [9, 110, 1, 3],
      [9, 115, 1, 3],
    ]);
  });

  test('2-byte and 3-byte basic headers (csid 64..319 and 320..65599)', () => {
    const bytes = concat([
      fromHex('00 00 000001 000001 12 00000000'), fromHex('aa'), // csid 64
      fromHex('00 ff 000002 000001 12 00000000'), fromHex('bb'), // csid 319
      fromHex('01 00 01 000003 000001 12 00000000'), fromHex('cc'), // csid 64 + 0 + 256 = 320
      fromHex('01 ff ff 000004 000001 12 00000000'), fromHex('dd'), // csid 65599
      fromHex('c1 ff ff'), // fmt 3 new message on csid 65599 (delta 4)
      fromHex('ee'),
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => [m.csid, m.timestamp, m.body[0]])).toEqual([
      [64, 1, 0xaa],
      [319, 2, 0xbb],
      [320, 3, 0xcc],
      [65599, 4, 0xdd],
      [65599, 8, 0xee],
    ]);
  });

  test('fmt 1/2/3 on a chunk stream without a previous header is a ParseError', () => {
    expect(() => feedWhole(fromHex('45 000000 000001 08 00'))).toThrow(ParseError);
    expect(() => feedWhole(fromHex('85 000000'))).toThrow(/without a previous/);
    expect(() => feedWhole(fromHex('c5 00'))).toThrow(ParseError);
  });

  test('zero-length messages complete at their header', () => {
    const ms = expectBoundaryIndependent(concat([fromHex('05 000001 000000 12 01000000'), fromHex('c5')]));
    expect(ms.map((m) => [m.timestamp, m.body.length])).toEqual([[1, 0], [2, 0]]);
  });

  test('interleaved chunk streams assemble independently', () => {
    const a = filled(200, 1);
    const v = filled(150, 2);
    const bytes = concat([
      fromHex('06 000000 0000c8 08 01000000'), a.subarray(0, 128),
      fromHex('07 000000 000096 09 01000000'), v.subarray(0, 128),
      fromHex('c6'), a.subarray(128),
      fromHex('c7'), v.subarray(128),
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => m.csid)).toEqual([6, 7]);
    expect(ms[0].body).toEqual(a);
    expect(ms[1].body).toEqual(v);
  });
});

describe('extended timestamps', () => {
  const body = filled(300, 5);
  const first = (extTs: string) => concat([fromHex(`05 ffffff 00012c 09 01000000 ${extTs}`), body.subarray(0, 128)]);

  test('fmt 0 extended, repeated on fmt-3 continuation chunks (spec, Flash, ffmpeg)', () => {
    const bytes = concat([first('12345678'), fromHex('c5 12345678'), body.subarray(128, 256), fromHex('c5 12345678'), body.subarray(256)]);
    const [m] = expectBoundaryIndependent(bytes);
    expect(m.timestamp).toBe(0x12345678);
    expect(m.body).toEqual(body);
  });

  test('continuation chunks without the extended field (old librtmp variant)', () => {
    const bytes = concat([first('12345678'), fromHex('c5'), body.subarray(128, 256), fromHex('c5'), body.subarray(256)]);
    const [m] = expectBoundaryIndependent(bytes);
    expect(m.timestamp).toBe(0x12345678);
    expect(m.body).toEqual(body);
  });

  test('omitted field with a last chunk shorter than 4 bytes, followed by another message', () => {
    const b = filled(130, 8);
    const bytes = concat([
      fromHex('05 ffffff 000082 09 01000000 01000000'), b.subarray(0, 128),
      fromHex('c5'), b.subarray(128), // 2 payload bytes, no extended field
      fromHex('06 000007 000001 08 01000000'), fromHex('99'),
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.length).toBe(2);
    expect(ms[0].body).toEqual(b);
    expect(ms[1]).toEqual({ csid: 6, type: 8, timestamp: 7, streamId: 1, body: fromHex('99') });
  });

  test('fmt 1 extended delta and fmt 3 new messages repeat it', () => {
    const bytes = concat([
      fromHex('05 000010 000001 08 01000000'), fromHex('01'),
      fromHex('45 ffffff 000001 08 01000000'), fromHex('02'), // delta 0x01000000 (extended)
      fromHex('c5 01000000'), fromHex('03'), // new message, fmt 3, extended field repeated
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => m.timestamp)).toEqual([0x10, 0x01000010, 0x02000010]);
  });

  test('timestamps wrap at 2^32', () => {
    const bytes = concat([fromHex('05 ffffff 000001 08 01000000 fffffff0'), fromHex('01'), fromHex('85 000020'), fromHex('02')]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => m.timestamp)).toEqual([0xfffffff0, 0x10]);
  });
});

describe('protocol control in the chunk layer', () => {
  test('Set Chunk Size is applied and returned', () => {
    const body = filled(1000, 3);
    const bytes = concat([
      fromHex('02 000000 000004 01 00000000 000003e8'),
      encodeRtmpMessage({ csid: 6, type: 9, timestamp: 40, streamId: 1, body }, 1000),
    ]);
    const r = new RtmpChunkReader();
    const ms = r.feed(bytes);
    expect(r.peerChunkSize).toBe(1000);
    expect(ms.map((m) => m.type)).toEqual([1, 9]);
    expect(ms[1].body).toEqual(body);
    expectBoundaryIndependent(bytes);
  });

  test.each([
    ['0', '00000000'],
    ['top bit only', '80000000'],
    ['> FFFFFF', '01000000'],
  ])('Set Chunk Size %s is a ParseError', (_n, v) => {
    expect(() => feedWhole(fromHex(`02 000000 000004 01 00000000 ${v}`))).toThrow(/chunk size/);
  });

  test('Set Chunk Size shorter than 4 bytes is ignored (returned, not applied)', () => {
    const r = new RtmpChunkReader();
    expect(r.feed(fromHex('02 000000 000002 01 00000000 0010')).length).toBe(1);
    expect(r.peerChunkSize).toBe(128);
  });

  test('Abort drops the partly assembled message of the named chunk stream', () => {
    const a = filled(200, 1);
    const bytes = concat([
      fromHex('06 000000 0000c8 08 01000000'), a.subarray(0, 128),
      fromHex('02 000000 000004 02 00000000 00000006'), // abort csid 6
      fromHex('06 000021 000001 08 01000000'), fromHex('77'),
    ]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => [m.type, m.csid])).toEqual([[2, 2], [8, 6]]);
    expect(ms[1].body).toEqual(fromHex('77'));
  });

  test('a new fmt 0 header on a chunk stream with a partial message drops the partial', () => {
    const a = filled(200, 1);
    const bytes = concat([fromHex('06 000000 0000c8 08 01000000'), a.subarray(0, 128), fromHex('06 000005 000001 08 01000000'), fromHex('55')]);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms).toEqual([{ csid: 6, type: 8, timestamp: 5, streamId: 1, body: fromHex('55') }]);
  });

  test('aggregate messages are split with timestamps rebased on the aggregate', () => {
    const sub = (type: number, ts: number, body: Uint8Array) => {
      const h = new Uint8Array(11);
      h[0] = type;
      h[1] = body.length >> 16;
      h[2] = (body.length >> 8) & 0xff;
      h[3] = body.length & 0xff;
      h[4] = (ts >> 16) & 0xff;
      h[5] = (ts >> 8) & 0xff;
      h[6] = ts & 0xff;
      h[7] = ts >>> 24;
      const bp = new Uint8Array(4);
      new DataView(bp.buffer).setUint32(0, 11 + body.length);
      return concat([h, body, bp]);
    };
    const agg = concat([sub(9, 5000, filled(10, 1)), sub(8, 5020, filled(5, 2)), sub(9, 0x01000000 + 5000, filled(3, 3)).subarray(0, 14)]);
    const bytes = encodeRtmpMessage({ csid: 7, type: 22, timestamp: 100, streamId: 1, body: agg }, 128);
    const ms = expectBoundaryIndependent(bytes);
    expect(ms.map((m) => [m.type, m.timestamp, m.csid, m.streamId, m.body.length])).toEqual([
      [9, 100, 7, 1, 10],
      [8, 120, 7, 1, 5],
      [9, 100 + 0x01000000, 7, 1, 3],
    ]);
    expect(ms[1].body).toEqual(filled(5, 2));
    // truncated sub-message
    const bad = encodeRtmpMessage({ csid: 7, type: 22, timestamp: 0, streamId: 1, body: agg.subarray(0, 20) }, 128);
    expect(() => feedWhole(bad)).toThrow(/aggregate/);
  });
});

describe('limits and ownership', () => {
  test('a message longer than maxMessageLength is refused at its header', () => {
    const r = new RtmpChunkReader({ maxMessageLength: 1000 });
    expect(() => r.feed(fromHex('06 000000 0003e9 08 01000000'))).toThrow(/exceeds limit/);
    expect(new RtmpChunkReader({ maxMessageLength: 1000 }).feed(concat([fromHex('06 000000 0003e8 08 01000000')])).length).toBe(0);
  });

  test('too many chunk streams is a ParseError', () => {
    const parts: Uint8Array[] = [];
    for (let c = 2; c < 2 + 70; c++) parts.push(encodeRtmpMessage({ csid: c, type: 8, timestamp: 0, streamId: 1, body: fromHex('00') }));
    expect(() => feedWhole(concat(parts))).toThrow(/chunk streams/);
  });

  test('bodies are their own buffers, not views of the input', () => {
    const body = filled(300, 4);
    const bytes = encodeRtmpMessage({ csid: 6, type: 9, timestamp: 1, streamId: 1, body }, 128);
    const [m] = new RtmpChunkReader().feed(bytes);
    expect(m.body.byteOffset).toBe(0);
    expect(m.body.buffer.byteLength).toBe(300);
    bytes.fill(0);
    expect(m.body).toEqual(body);
  });
});

describe('hostile input', () => {
  const rnd = mulberry32(0xc0ffee);
  const valid = concat([
    fromHex('02 000000 000004 01 00000000 00000100'),
    encodeRtmpMessage({ csid: 6, type: 8, timestamp: 0xfffff0, streamId: 1, body: filled(700, 1) }, 256),
    encodeRtmpMessage({ csid: 300, type: 9, timestamp: 0x1000000, streamId: 1, body: filled(600, 2) }, 256),
    encodeRtmpMessage({ csid: 3, type: 20, timestamp: 0, streamId: 0, body: filled(30, 3) }, 256),
  ]);

  test('every truncation parses without throwing', () => {
    for (let n = 0; n <= valid.length; n++) {
      expect(() => new RtmpChunkReader().feed(valid.subarray(0, n))).not.toThrow();
    }
  });

  test('200 random buffers and 200 mutations throw only ParseError', () => {
    for (let i = 0; i < 200; i++) {
      const buf = randomBytes(rnd, Math.floor(rnd() * 400));
      onlyParseError(() => new RtmpChunkReader({ maxMessageLength: 1 << 20 }).feed(buf));
      const m = mutateBytes(rnd, valid.slice(), 3);
      onlyParseError(() => {
        const r = new RtmpChunkReader();
        for (let o = 0; o < m.length; o += 97) r.feed(m.subarray(o, o + 97));
      });
    }
  });
});
