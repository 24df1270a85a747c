import { describe, expect, test } from 'bun:test';
import { crc32Mpeg2 } from './crc32.ts';
import { fromHex, utf8Encode } from '../../core/testing.ts';

describe('crc32Mpeg2', () => {
  test('CRC-32/MPEG-2 check value of "123456789" is 0x0376E6E7', () => {
    expect(crc32Mpeg2(utf8Encode('123456789'))).toBe(0x0376e6e7);
  });

  test('empty input gives the initial value', () => {
    expect(crc32Mpeg2(new Uint8Array(0))).toBe(0xffffffff);
  });

  test.each([
    ['PAT', '00 B0 0D 00 01 C1 00 00 00 01 F0 01', 0x2e701905],
    ['PMT AVC+AAC', '02 B0 17 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 0F E1 01 F0 00', 0x2f44b99b],
    ['PMT AAC only', '02 B0 12 00 01 C1 00 00 E1 00 F0 00 0F E1 01 F0 00', 0xb7436c5e],
  ])('%s section of docs/media.md §4.1', (_name, section, crc) => {
    expect(crc32Mpeg2(fromHex(section))).toBe(crc);
  });

  test('a section followed by its CRC checks to 0; start/end select a range', () => {
    const s = fromHex('ff ff 00 B0 0D 00 01 C1 00 00 00 01 F0 01 2E 70 19 05 ee');
    expect(crc32Mpeg2(s, 2, s.length - 1)).toBe(0);
    expect(crc32Mpeg2(s, 2, s.length - 5)).toBe(0x2e701905);
  });
});

describe('crc32Mpeg2 table', () => {
  /** The bit-at-a-time CRC the written-out table must agree with: MSB first, polynomial 0x04C11DB7. */
  function bitwise(buf: Uint8Array): number {
    let crc = 0xffffffff;
    for (const b of buf) {
      crc ^= b << 24;
      for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
    return crc >>> 0;
  }

  test('every table entry (every single byte after an all-ones register) matches the bitwise CRC', () => {
    for (let b = 0; b < 256; b++) expect(crc32Mpeg2(Uint8Array.of(b))).toBe(bitwise(Uint8Array.of(b)));
  });

  test('pairs of bytes exercise every entry from a non-trivial register', () => {
    for (let b = 0; b < 256; b++) {
      const two = Uint8Array.of(b, 255 - b);
      expect(crc32Mpeg2(two)).toBe(bitwise(two));
    }
  });
});
