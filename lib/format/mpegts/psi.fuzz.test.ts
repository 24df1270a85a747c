/**
 * Seeded fuzz test of the PAT/PMT section parsers (issue #9): 100,000 random and mutated
 * sections each. Half the mutated sections get their CRC_32 fixed up so the body parsers are
 * reached, not only the CRC check. Only ParseError may escape.
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, type FuzzCase, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { crc32Mpeg2 } from './crc32.ts';
import { decodePat, decodePmt, encodePatSection, encodePmtSection, psiSectionSize } from './psi.ts';

/** Rewrite the CRC_32 at the end of the section that section_length declares, when it fits. */
function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length < 3) return b;
  const total = 3 + (((b[1] & 0x0f) << 8) | b[2]);
  if (total < 7 || total > b.length) return b;
  const crc = crc32Mpeg2(b, 0, total - 4);
  b[total - 4] = crc >>> 24;
  b[total - 3] = (crc >>> 16) & 0xff;
  b[total - 2] = (crc >>> 8) & 0xff;
  b[total - 1] = crc & 0xff;
  return b;
}

const input = (c: FuzzCase) => (c.rnd() < 0.5 ? fixCrc(c.input) : c.input);

describe('PSI fuzz', () => {
  test('decodePat: 100,000 inputs, only ParseError, programs fit the section', () => {
    const pat = encodePatSection();
    const two = fixCrc(Uint8Array.from([0x00, 0xb0, 17, 0, 1, 0xc1, 0, 0, 0, 0, 0xe0, 0x10, 0, 1, 0xf0, 0x01, 0, 0, 0, 0]));
    const r = fuzz('mpegts PAT', { seed: 0x9a7, corpus: [pat, two] }, (c) => {
      const b = input(c);
      const p = decodePat(b);
      fuzzCheck(p.programs.length * 4 + 12 === psiSectionSize(b), 'program loop fills the section');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);

  test('decodePmt: 100,000 inputs, only ParseError, descriptors are views inside the section', () => {
    const corpus = [encodePmtSection({ video: 'h264', audio: 'aac' }), encodePmtSection({ video: 'h265', audio: 'opus' }), encodePmtSection({})];
    const r = fuzz('mpegts PMT', { seed: 0x9a8, corpus }, (c) => {
      const b = input(c);
      const p = decodePmt(b);
      for (const s of p.streams) {
        fuzzCheck(s.descriptors.buffer === b.buffer && s.descriptors.byteOffset + s.descriptors.length <= b.byteOffset + psiSectionSize(b) - 4, 'descriptors inside');
      }
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
