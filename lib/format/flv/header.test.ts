import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { decodeFlvHeader, encodeFlvHeader, FLV_HEADER } from './header.ts';
import { toHex } from '../../core/testing.ts';

describe('FLV header', () => {
  test('FLV_HEADER is the 13 bytes of docs/protocols.md §4', () => {
    expect(toHex(FLV_HEADER)).toBe('464c5601050000000900000000');
  });

  test.each([
    [{ audio: true, video: true }, '464c5601050000000900000000'],
    [{ audio: true, video: false }, '464c5601040000000900000000'],
    [{ audio: false, video: true }, '464c5601010000000900000000'],
    [{ audio: false, video: false }, '464c5601000000000900000000'],
  ])('encode %o then decode', (flags, want) => {
    const b = encodeFlvHeader(flags);
    expect(toHex(b)).toBe(want);
    expect(decodeFlvHeader(b)).toEqual({ version: 1, ...flags, dataOffset: 9 });
  });

  test('encodeFlvHeader does not alias the shared constant', () => {
    encodeFlvHeader({ audio: false, video: false })[0] = 0;
    expect(FLV_HEADER[0]).toBe(0x46);
  });

  test.each([
    ['bad signature', '464c5801050000000900000000'],
    ['data offset below 9', '464c5601050000000800000000'],
    ['data offset beyond limit', '464c56010500ffffff00000000'],
    ['truncated', '464c560105000000'],
  ])('%s throws ParseError', (_name, h) => {
    expect(() => decodeFlvHeader(Buffer.from(h, 'hex'))).toThrow(ParseError);
  });

  test('bad signature message names the bytes', () => {
    expect(() => decodeFlvHeader(Buffer.from('000000010500000009', 'hex'))).toThrow('flv: bad signature 00 00 00');
  });
});
