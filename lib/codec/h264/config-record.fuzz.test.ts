/**
 * Seeded fuzz test of the avcC parser (issue #9): 100,000 random and mutated records, only
 * ParseError may escape, and accepted parameter sets survive encode → decode.
 */
import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { FFMPEG_AVCC_BASELINE, FFMPEG_AVCC_HIGH, H264_VECTORS } from '../_testing.ts';
import { decodeAvcConfigRecord, encodeAvcConfigRecord } from './config-record.ts';

const CORPUS = [
  fromHex(FFMPEG_AVCC_HIGH),
  fromHex(FFMPEG_AVCC_BASELINE),
  ...H264_VECTORS.map((v) => encodeAvcConfigRecord({ sps: [fromHex(v.sps)], pps: [fromHex(v.pps)] })),
  encodeAvcConfigRecord({ sps: [fromHex(H264_VECTORS[0].sps), fromHex(H264_VECTORS[1].sps)], pps: [fromHex('68ee3c80'), fromHex('68cb83cb20')] }),
];

describe('decodeAvcConfigRecord fuzz', () => {
  test('100,000 inputs: only ParseError, and accepted records round-trip', () => {
    const r = fuzz('h264 avcC', { seed: 0xa7cc, corpus: CORPUS }, ({ input }) => {
      const c = decodeAvcConfigRecord(input);
      fuzzCheck([1, 2, 3, 4].includes(c.lengthSize), 'length size');
      let again: Uint8Array;
      try {
        again = encodeAvcConfigRecord({ sps: c.sps, pps: c.pps, compat: c.compat });
      } catch (e) {
        if (e instanceof ParseError) return; // no SPS, or one too short to carry profile and level
        throw e;
      }
      const back = decodeAvcConfigRecord(again);
      fuzzCheck(Bun.deepEquals(back.sps, c.sps) && Bun.deepEquals(back.pps, c.pps) && back.compat === c.compat, 'parameter sets round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
