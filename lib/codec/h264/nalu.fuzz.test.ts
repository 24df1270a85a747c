/**
 * Seeded fuzz test of the NAL unit splitters (issue #9): 100,000 random and mutated AVCC and
 * Annex-B access units each, only ParseError may escape, and units are non-empty views of the input.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { H264_VECTORS } from '../_testing.ts';
import { splitAnnexB, splitAvcc } from './nalu.ts';

const UNITS = [fromHex('09f0'), fromHex(H264_VECTORS[0].sps), fromHex(H264_VECTORS[0].pps), fromHex('65888400ff00000301'), fromHex('419a2201')];

function avcc(units: Uint8Array[], size: number): Uint8Array {
  return concat(units.flatMap((u) => {
    const len = new Uint8Array(size);
    for (let i = 0, v = u.length; i < size; i++, v = Math.floor(v / 256)) len[size - 1 - i] = v & 0xff;
    return [len, u];
  }));
}

function inside(u: Uint8Array, buf: Uint8Array): boolean {
  return u.buffer === buf.buffer && u.byteOffset >= buf.byteOffset && u.byteOffset + u.length <= buf.byteOffset + buf.length;
}

describe('NAL splitting fuzz', () => {
  test('splitAvcc: 100,000 inputs (length sizes 1..4), only ParseError, units are views', () => {
    const corpus = [1, 2, 3, 4].map((n) => avcc(UNITS, n));
    const r = fuzz('h264 splitAvcc', { seed: 0xa7c1, corpus }, ({ input, rnd }) => {
      const size = 1 + Math.floor(rnd() * 4);
      const start = rnd() < 0.2 ? Math.floor(rnd() * (input.length + 2)) : 0;
      const units = splitAvcc(input, size, 256, start);
      for (const u of units) fuzzCheck(u.length > 0 && inside(u, input), 'unit is a non-empty view');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);

  test('splitAnnexB: 100,000 inputs, only ParseError, units are views without start codes', () => {
    const corpus = [concat(UNITS.flatMap((u, i) => [fromHex(i % 2 ? '000001' : '00000001'), u])), concat([fromHex('ffee000001'), UNITS[3], fromHex('0000')])];
    const r = fuzz('h264 splitAnnexB', { seed: 0xa7c2, corpus, dictionary: [fromHex('000001'), fromHex('00000001'), fromHex('000000')] }, ({ input }) => {
      for (const u of splitAnnexB(input)) fuzzCheck(u.length > 0 && inside(u, input) && u[u.length - 1] !== 0, 'unit is a non-empty view');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.5);
  }, FUZZ_TIMEOUT);
});
