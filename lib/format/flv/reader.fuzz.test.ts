/**
 * Seeded fuzz test of the FLV push reader (issue #9): 100,000 random and mutated streams, each
 * fed whole and in random pieces. Only ParseError may escape; both feeds agree (same tags, same
 * error); what is accepted re-encodes to the same tags; nothing is held beyond what was fed.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { encodeFlvHeader, FLV_HEADER } from './header.ts';
import { FlvReader } from './reader.ts';
import { encodeFlvTag, FlvTagType, type FlvTag } from './tag.ts';

const REAL = new Uint8Array(readFileSync(join(import.meta.dir, '../../../fixtures/h264-aac.flv')));
const SYNTHETIC = concat([
  encodeFlvHeader({ audio: true, video: true }),
  encodeFlvTag(FlvTagType.Script, 0, fromHex('02000a6f6e4d657461446174610300057769647468004074000000000000000009')),
  encodeFlvTag(FlvTagType.Video, 0, fromHex('1700000000 0164001effe1000467640016 01000468ebe3cb'.replace(/ /g, ''))),
  encodeFlvTag(FlvTagType.Audio, 0, fromHex('af001210')),
  encodeFlvTag(FlvTagType.Video, 0x01020304, fromHex('2701000028 00000001 41')),
  encodeFlvTag(FlvTagType.Script, 5, new Uint8Array(0)),
  encodeFlvTag(FlvTagType.Audio, 0xfffffffe, fromHex('af0121')),
]);
const CORPUS = [REAL.subarray(0, 900), REAL.subarray(0, 420), SYNTHETIC, SYNTHETIC.subarray(FLV_HEADER.length)];

interface Run {
  tags: FlvTag[];
  error: boolean;
  pending: number;
}

function run(pieces: Uint8Array[], expectHeader: boolean): Run {
  const r = new FlvReader({ expectHeader, maxTagSize: 1 << 16 });
  const tags: FlvTag[] = [];
  try {
    for (const p of pieces) tags.push(...r.feed(p));
  } catch (e) {
    if (e instanceof ParseError) return { tags, error: true, pending: r.pendingBytes };
    throw e;
  }
  return { tags, error: false, pending: r.pendingBytes };
}

const flat = (tags: FlvTag[]) => tags.map((t) => ({ type: t.type, timestamp: t.timestamp, body: t.body }));

describe('FlvReader fuzz', () => {
  test('100,000 inputs, whole and in random pieces: only ParseError, same result, round trip', () => {
    const r = fuzz('flv reader', { seed: 0xf1f0, corpus: CORPUS, maxRandomLength: 80, dictionary: [FLV_HEADER, fromHex('0900000500')] }, ({ input, rnd }) => {
      const expectHeader = input.length > 0 && input[0] === 0x46 ? rnd() < 0.9 : rnd() < 0.3;
      const whole = run([input], expectHeader);
      const split = run(fuzzPieces(input, rnd), expectHeader);
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('flv: rejected (both ways)');
      fuzzCheck(Bun.deepEquals(flat(whole.tags), flat(split.tags)) && whole.pending === split.pending, 'whole and pieces give the same tags');
      fuzzCheck(whole.pending <= input.length, () => `${whole.pending} bytes pending of ${input.length} fed`);
      // the tags, written again, read back the same
      const again = run([concat(whole.tags.map((t) => encodeFlvTag(t.type, t.timestamp, t.body)))], false);
      fuzzCheck(!again.error && Bun.deepEquals(flat(again.tags), flat(whole.tags)) && again.pending === 0, 'tags round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.05);
  }, FUZZ_TIMEOUT);
});
