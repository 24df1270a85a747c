/**
 * Seeded fuzz test of the ADTS header parser and frame splitter (issue #9): 100,000 random and
 * mutated streams each, only ParseError may escape, and accepted headers re-encode to the same
 * configuration and raw length.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { ADTS_44100_STEREO_FRAMES, ADTS_48000_MONO_STREAM } from '../_testing.ts';
import { decodeAdtsHeader, encodeAdtsHeader, splitAdts } from './adts.ts';

const STREAM = fromHex(ADTS_48000_MONO_STREAM);
const CORPUS = [
  STREAM.subarray(0, 189 + 202),
  fromHex(ADTS_44100_STEREO_FRAMES[1]),
  concat([fromHex(ADTS_44100_STEREO_FRAMES[1]), fromHex(ADTS_44100_STEREO_FRAMES[1])]),
  // a 9-byte header with crc_check (protection_absent 0)
  concat([fromHex('fff050802a7f fc 1234'.replace(/ /g, '')), new Uint8Array(0x153 - 9)]),
];
const DICT = [fromHex('fff1'), fromHex('fff0'), fromHex('fff9')];

describe('ADTS fuzz', () => {
  test('decodeAdtsHeader: 100,000 inputs, only ParseError, accepted headers round-trip', () => {
    const r = fuzz('aac adts header', { seed: 0xad75, corpus: CORPUS, dictionary: DICT, maxRandomLength: 16 }, ({ input }) => {
      const h = decodeAdtsHeader(input);
      fuzzCheck(h.frameLength >= h.headerLength && h.rawBlocks >= 1 && h.rawBlocks <= 4, () => JSON.stringify(h));
      const again = decodeAdtsHeader(encodeAdtsHeader(h.info, h.frameLength - h.headerLength));
      fuzzCheck(
        Bun.deepEquals(again.info, h.info) && again.frameLength === h.frameLength - h.headerLength + 7,
        () => `round trip ${JSON.stringify(h)} → ${JSON.stringify(again)}`,
      );
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);

  test('splitAdts: 100,000 inputs, only ParseError, accepted frames cover the input exactly', () => {
    const r = fuzz('aac adts split', { seed: 0xad76, corpus: CORPUS, dictionary: DICT }, ({ input }) => {
      const frames = splitAdts(input);
      let off = 0;
      for (const f of frames) {
        const h = decodeAdtsHeader(input, off);
        fuzzCheck(f.byteOffset - input.byteOffset === off + h.headerLength && f.length === h.frameLength - h.headerLength, 'frame view');
        off += h.frameLength;
      }
      fuzzCheck(off === input.length, () => `frames cover ${off} of ${input.length} bytes`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.05);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
