import { describe, expect, test } from 'bun:test';
import { LalError } from '../../core/errors.ts';
import { FlvReader } from './reader.ts';
import { encodeFlvTag, encodeFlvTagInto, flvTagSize, FlvTagType, MAX_FLV_TAG_SIZE } from './tag.ts';
import { toHex } from '../../core/testing.ts';

describe('FLV tag codec', () => {
  test('byte layout: 24-bit timestamp + extension byte, stream id 0, previous tag size', () => {
    const tag = encodeFlvTag(FlvTagType.Video, 0x12345678, Uint8Array.of(0x17, 0x01, 0x00, 0x00, 0x00));
    expect(toHex(tag)).toBe('09' + '000005' + '345678' + '12' + '000000' + '1701000000' + '00000010');
    expect(tag.length).toBe(flvTagSize(5));
  });

  const cases: [string, number, number, number][] = [
    ['empty script', FlvTagType.Script, 0, 0],
    ['audio ts 24-bit max', FlvTagType.Audio, 0xffffff, 1],
    ['video ts needs extension', FlvTagType.Video, 0x1000000, 300],
    ['video ts 32-bit max', FlvTagType.Video, 0xffffffff, 70000],
  ];
  test.each(cases)('%s round-trips through FlvReader', (_n, type, ts, len) => {
    const body = new Uint8Array(len).map((_, i) => (i * 7 + 3) & 0xff);
    const tag = encodeFlvTag(type, ts, body);
    const [got, ...rest] = new FlvReader({ expectHeader: false }).feed(tag);
    expect(rest).toEqual([]);
    expect(got.type).toBe(type);
    expect(got.timestamp).toBe(ts);
    expect(toHex(got.body)).toBe(toHex(body));
    // re-encoding the decoded tag gives the same bytes
    expect(toHex(encodeFlvTag(got.type, got.timestamp, got.body))).toBe(toHex(tag));
  });

  test('encodeFlvTagInto writes at an offset and returns its size', () => {
    const body = Uint8Array.of(1, 2, 3);
    const out = new Uint8Array(5 + flvTagSize(3)).fill(0xee);
    const n = encodeFlvTagInto(FlvTagType.Audio, 40, body, out, 5);
    expect(n).toBe(flvTagSize(3));
    expect(toHex(out.subarray(0, 5))).toBe('eeeeeeeeee');
    expect(toHex(out.subarray(5))).toBe(toHex(encodeFlvTag(FlvTagType.Audio, 40, body)));
  });

  test('a body that does not fit 24 bits is refused', () => {
    expect(() => encodeFlvTag(FlvTagType.Video, 0, new Uint8Array(MAX_FLV_TAG_SIZE))).toThrow(LalError);
  });
});
