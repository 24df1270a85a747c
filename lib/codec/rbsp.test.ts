import { describe, expect, test } from 'bun:test';
import { removeEmulationPrevention } from './rbsp.ts';
import { addEmulationPrevention } from './_testing.ts';
import { fromHex, mulberry32, outcome, randomBytes, toHex } from '../core/testing.ts';

describe('removeEmulationPrevention', () => {
  test.each([
    ['no 03 at all', '6764001e', '6764001e'],
    ['single 00 00 03', '000003', '0000'],
    ['03 followed by 00', '0000030001', '00000001'],
    ['two in a row', '00000300000301', '0000000001'],
    ['03 03: only the first is prevention', '0000030301', '00000301'],
    ['03 after one zero stays', '0003', '0003'],
    ['03 at the very end', '1100000003', '11000000'],
    ['real SPS (two removals)', '6764001eacd940a02ff97011000003000100000300320f162d96', '6764001eacd940a02ff9701100000001000000320f162d96'],
  ])('%s', (_name, input, want) => {
    expect(toHex(removeEmulationPrevention(fromHex(input)))).toBe(want);
  });

  test('returns the input itself when there is nothing to remove', () => {
    const b = fromHex('67640016acb2');
    expect(removeEmulationPrevention(b)).toBe(b);
    const empty = new Uint8Array(0);
    expect(removeEmulationPrevention(empty)).toBe(empty);
  });

  test('inverts emulation-prevention insertion on 300 seeded random RBSPs rich in zeros', () => {
    const rnd = mulberry32(7);
    for (let i = 0; i < 300; i++) {
      const rbsp = randomBytes(rnd, Math.floor(rnd() * 80)).map((b) => (b < 128 ? 0 : b & 3));
      // An RBSP never ends in 00 (rbsp_trailing_bits); keep the invariant.
      if (rbsp.length > 0 && rbsp[rbsp.length - 1] === 0) rbsp[rbsp.length - 1] = 0x80;
      const nal = addEmulationPrevention(rbsp);
      expect(toHex(removeEmulationPrevention(nal))).toBe(toHex(rbsp));
    }
  });

  test('never throws on random input', () => {
    const rnd = mulberry32(8);
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(rnd, Math.floor(rnd() * 64)).map((x) => (x < 160 ? x & 3 : x));
      expect(outcome(() => removeEmulationPrevention(b))).toBe('ok');
    }
  });
});
