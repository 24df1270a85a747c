/**
 * Seeded fuzz test of the H.264 SPS parser (issue #9): 100,000 random and mutated parameter
 * sets, only ParseError may escape, and every accepted SPS describes a sane picture.
 */
import { describe, expect, test } from 'bun:test';
import { fromBase64, fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { addEmulationPrevention, FIXTURE_SPS_B64, H264_VECTORS } from '../_testing.ts';
import { parseH264Sps } from './sps.ts';

const CORPUS = [fromBase64(FIXTURE_SPS_B64), ...H264_VECTORS.map((v) => fromHex(v.sps))];
// emulation prevention, long runs of zero bits (huge exp-Golomb codes), the SPS header byte
const DICT = [fromHex('000003'), fromHex('00000000'), fromHex('67'), fromHex('ffffffff')];

describe('parseH264Sps fuzz', () => {
  test('100,000 inputs: only ParseError, and accepted sizes are positive and bounded', () => {
    const r = fuzz('h264 sps', { seed: 0x5b5264, corpus: CORPUS, dictionary: DICT }, ({ input, rnd }) => {
      const sps = parseH264Sps(rnd() < 0.1 ? addEmulationPrevention(input) : input);
      fuzzCheck(
        sps.width > 0 && sps.height > 0 && sps.displayWidth > 0 && sps.displayHeight > 0 && sps.width <= 32768 && sps.height <= 32768,
        () => `picture ${sps.width}x${sps.height} (display ${sps.displayWidth}x${sps.displayHeight})`,
      );
      fuzzCheck(sps.chromaFormatIdc <= 3 && sps.bitDepthLuma >= 8 && sps.bitDepthLuma <= 14 && sps.spsId <= 31, () => JSON.stringify(sps));
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.05);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
