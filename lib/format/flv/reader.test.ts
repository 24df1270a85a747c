import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { FlvReader } from './reader.ts';
import { encodeFlvTag, FlvTagType, type FlvTag } from './tag.ts';
import { bytewiseCuts, mulberry32, onlyParseError, randomBytes, splitAt, toHex, truncations } from '../../core/testing.ts';

/**
 * The first 405 bytes of a real ffmpeg FLV (FLV header, onMetaData, AVC and AAC sequence
 * headers), made with: ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi
 * -i sine=frequency=440 -t 2 -c:v libx264 -g 25 -c:a aac -f flv x.flv
 */
const REAL_FLV_HEAD = Buffer.from(
  '464c5601050000000900000000120001250000000000000002000a6f6e4d65746144617461080000000d000864757261' +
  '74696f6e004000a3d70a3d70a400057769647468004074000000000000000668656967687400406e000000000000000d' +
  '766964656f646174617261746500000000000000000000096672616d6572617465004039000000000000000c76696465' +
  '6f636f646563696400401c000000000000000d617564696f6461746172617465004050d88000000000000f617564696f' +
  '73616d706c65726174650040e5888000000000000f617564696f73616d706c6573697a65004030000000000000000673' +
  '746572656f0100000c617564696f636f64656369640040240000000000000007656e636f64657202000d4c6176663538' +
  '2e32342e313030000866696c6573697a650040f6ccb000000000000009000001300900002f0000000000000017000000' +
  '000164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c00000003a08' +
  '00000700000000000000af00120856e50000000012',
  'hex',
);

const norm = (tags: FlvTag[]) => tags.map((t) => ({ type: t.type, ts: t.timestamp, body: toHex(t.body) }));

function feedSplit(buf: Uint8Array, cuts: number[], opts?: ConstructorParameters<typeof FlvReader>[0]): FlvTag[] {
  const r = new FlvReader(opts);
  const out: FlvTag[] = [];
  for (const piece of splitAt(buf, cuts)) out.push(...r.feed(piece));
  return out;
}

// A synthetic stream: the real head plus tags with extended timestamps and an empty body.
const EXTRA = concat([
  encodeFlvTag(FlvTagType.Video, 0x01020304, Uint8Array.of(0x27, 1, 0, 0, 0x28, 0, 0, 0, 1, 0x41)),
  encodeFlvTag(FlvTagType.Script, 5, new Uint8Array(0)),
  encodeFlvTag(FlvTagType.Audio, 0xfffffffe, Uint8Array.of(0xaf, 1, 0x21)),
]);
const STREAM = concat([REAL_FLV_HEAD, EXTRA]);

describe('FlvReader', () => {
  test('parses the real ffmpeg head: header, metadata, AVC and AAC sequence headers', () => {
    const r = new FlvReader();
    const tags = r.feed(REAL_FLV_HEAD);
    expect(r.header).toEqual({ version: 1, audio: true, video: true, dataOffset: 9 });
    expect(tags.map((t) => [t.type, t.timestamp, t.body.length])).toEqual([
      [18, 0, 293],
      [9, 0, 47],
      [8, 0, 7],
    ]);
    expect(toHex(tags[2].body)).toBe('af00120856e500');
    expect(r.pendingBytes).toBe(0);
  });

  test('bodies are views of the fed chunk, not copies', () => {
    const tags = new FlvReader().feed(REAL_FLV_HEAD);
    expect(tags[1].body.buffer).toBe(REAL_FLV_HEAD.buffer);
  });

  test('whole, byte by byte and random splits give identical tags', () => {
    const whole = norm(new FlvReader().feed(STREAM));
    expect(whole.length).toBe(6);
    expect(whole[3].ts).toBe(0x01020304);
    expect(whole[5].ts).toBe(0xfffffffe);
    expect(whole[4].body).toBe('');
    const bytewise = norm(feedSplit(STREAM, bytewiseCuts(STREAM.length)));
    expect(bytewise).toEqual(whole);
    const rnd = mulberry32(7);
    for (let i = 0; i < 50; i++) {
      const cuts = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * STREAM.length)).sort((a, b) => a - b);
      expect(norm(feedSplit(STREAM, cuts))).toEqual(whole);
      // the same pieces as separate buffers (network reads): gathered by copying
      const r = new FlvReader();
      const tags: FlvTag[] = [];
      for (const piece of splitAt(STREAM, cuts)) tags.push(...r.feed(piece.slice()));
      expect(norm(tags)).toEqual(whole);
      expect(r.pendingBytes).toBe(0);
    }
  });

  test('a tag across consecutive views of one buffer (a mapped file fed in pieces) stays a view', () => {
    const whole = norm(new FlvReader().feed(STREAM));
    // cut inside the metadata body, inside a tag header, and inside the last body
    for (const cuts of [[20], [100, 330], [STREAM.length - 2], [5, 6, 7, 300, 301, 340]]) {
      const r = new FlvReader();
      const tags: FlvTag[] = [];
      for (const piece of splitAt(STREAM, cuts)) {
        tags.push(...r.feed(piece));
        expect(r.pendingBytes).toBeLessThanOrEqual(STREAM.length);
      }
      expect(norm(tags)).toEqual(whole);
      for (const t of tags) if (t.body.length > 0) expect(t.body.buffer).toBe(STREAM.buffer);
    }
    // the tail of a different buffer is never joined with the next chunk, even where the offsets line up
    const other = new Uint8Array(STREAM.length);
    other.set(STREAM.subarray(0, 100)); // cut inside the metadata body
    const r = new FlvReader();
    const tags = [...r.feed(other.subarray(0, 100)), ...r.feed(STREAM.subarray(100))];
    expect(norm(tags)).toEqual(whole);
    expect(tags[0].body.buffer).not.toBe(STREAM.buffer);
    expect(tags[0].body.buffer).not.toBe(other.buffer);
  });

  test('expectHeader: false reads bare tags (HTTP-FLV after the header, RTMP dumps)', () => {
    const tags = new FlvReader({ expectHeader: false }).feed(EXTRA);
    expect(tags.map((t) => t.type)).toEqual([9, 18, 8]);
  });

  test('header with DataOffset beyond 9 skips the extension', () => {
    const head = Buffer.from('464c5601050000000c' + 'aabbcc' + '00000000', 'hex');
    const r = new FlvReader();
    const tags = feedSplit(concat([head, EXTRA]), [4, 10, 12]);
    expect(tags.length).toBe(3);
    expect(r.feed(head)).toEqual([]);
    expect(r.header?.dataOffset).toBe(12);
  });

  test('bad signature throws ParseError', () => {
    expect(() => new FlvReader().feed(Buffer.from('474c5601050000000900000000', 'hex'))).toThrow(ParseError);
  });

  test('a tag larger than maxTagSize throws before buffering it', () => {
    const r = new FlvReader({ expectHeader: false, maxTagSize: 100 });
    expect(() => r.feed(encodeFlvTag(9, 0, new Uint8Array(101)).subarray(0, 11))).toThrow('flv: tag size 101 exceeds 100');
  });

  test('every truncation yields a prefix of the tags and never throws', () => {
    const all = norm(new FlvReader().feed(STREAM));
    for (const cut of truncations(STREAM)) {
      const got = norm(new FlvReader().feed(cut));
      expect(got).toEqual(all.slice(0, got.length));
    }
  });

  test('hostile input: 200 seeded random buffers only ever throw ParseError', () => {
    const rnd = mulberry32(42);
    let threw = 0;
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rnd() * 600);
      const buf = randomBytes(rnd, len);
      // half of them start with a valid signature so the tag path is exercised too
      if (i % 2 === 0 && len >= 13) buf.set(REAL_FLV_HEAD.subarray(0, 13));
      for (const expectHeader of [true, false]) {
        try {
          new FlvReader({ expectHeader, maxTagSize: 4096 }).feed(buf);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          threw++;
        }
        onlyParseError(() => feedSplit(buf, [Math.floor(len / 3), Math.floor(len / 2)], { expectHeader }));
      }
    }
    expect(threw).toBeGreaterThan(0);
  });
});
