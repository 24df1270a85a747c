/**
 * Seeded fuzz test of the hvcC parser (issue #9): 100,000 random and mutated records, only
 * ParseError may escape, and accepted VPS/SPS/PPS lists survive encode → decode.
 */
import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { H265_VECTORS } from '../_testing.ts';
import { decodeHevcConfigRecord, encodeHevcConfigRecord } from './config-record.ts';

const CORPUS = [
  ...H265_VECTORS.map((v) => fromHex(v.ffmpegHvcc)),
  ...H265_VECTORS.map((v) => encodeHevcConfigRecord({ vps: [fromHex(v.vps)], sps: [fromHex(v.sps)], pps: [fromHex(v.pps)] })),
];

describe('decodeHevcConfigRecord fuzz', () => {
  test('100,000 inputs: only ParseError, and accepted records round-trip', () => {
    const r = fuzz('h265 hvcC', { seed: 0x4ecc, corpus: CORPUS }, ({ input }) => {
      const c = decodeHevcConfigRecord(input);
      fuzzCheck([1, 2, 3, 4].includes(c.lengthSize), 'length size');
      let again: Uint8Array;
      try {
        again = encodeHevcConfigRecord({ vps: c.vps, sps: c.sps, pps: c.pps });
      } catch (e) {
        if (e instanceof ParseError) return; // no SPS, or an SPS the encoder cannot read profile fields from
        throw e;
      }
      const back = decodeHevcConfigRecord(again);
      fuzzCheck(Bun.deepEquals(back.vps, c.vps) && Bun.deepEquals(back.sps, c.sps) && Bun.deepEquals(back.pps, c.pps), 'parameter sets round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
