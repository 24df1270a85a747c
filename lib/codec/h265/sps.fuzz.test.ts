/**
 * Seeded fuzz test of the H.265 SPS parser (issue #9): 100,000 random and mutated parameter
 * sets, only ParseError may escape, and every accepted SPS describes a sane picture.
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { addEmulationPrevention, H265_VECTORS } from '../_testing.ts';
import { parseH265Sps } from './sps.ts';

const CORPUS = H265_VECTORS.map((v) => fromHex(v.sps));
const DICT = [fromHex('000003'), fromHex('00000000'), fromHex('4201'), fromHex('ffffffff')];

describe('parseH265Sps fuzz', () => {
  test('100,000 inputs: only ParseError, and accepted sizes are positive and bounded', () => {
    const r = fuzz('h265 sps', { seed: 0x5b5265, corpus: CORPUS, dictionary: DICT }, ({ input, rnd }) => {
      const sps = parseH265Sps(rnd() < 0.1 ? addEmulationPrevention(input) : input);
      fuzzCheck(
        sps.width > 0 && sps.height > 0 && sps.width <= 32768 && sps.height <= 32768 && sps.displayWidth > 0 && sps.displayHeight > 0,
        () => `picture ${sps.width}x${sps.height} (display ${sps.displayWidth}x${sps.displayHeight})`,
      );
      fuzzCheck(sps.maxSubLayers >= 1 && sps.maxSubLayers <= 7 && sps.chromaFormatIdc <= 3 && sps.bitDepthLuma <= 16, () => JSON.stringify(sps));
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.05);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
