import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { H264_VECTORS } from '../_testing.ts';
import { fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';
import { MAX_NALUS_PER_AU, NaluTypeH264, h264NaluType, isH264KeyFrame, splitAnnexB, splitAvcc } from './nalu.ts';

const hi = H264_VECTORS[0];
const SPS = fromHex(hi.sps);
const PPS = fromHex(hi.pps);
const IDR = fromHex('65888400ff');
const SLICE = fromHex('419a2201');
const AUD = fromHex('09f0');

function avcc(units: Uint8Array[], lengthSize = 4): Uint8Array {
  const parts: number[] = [];
  for (const u of units) {
    for (let i = lengthSize - 1; i >= 0; i--) parts.push(Math.floor(u.length / 256 ** i) & 0xff);
    parts.push(...u);
  }
  return Uint8Array.from(parts);
}

describe('h264NaluType', () => {
  test.each([
    [SPS, NaluTypeH264.Sps],
    [PPS, NaluTypeH264.Pps],
    [IDR, NaluTypeH264.Idr],
    [SLICE, NaluTypeH264.Slice],
    [AUD, NaluTypeH264.Aud],
    [fromHex('06050b'), NaluTypeH264.Sei],
  ])('%#', (nalu, type) => {
    expect(h264NaluType(nalu)).toBe(type);
  });
  test('empty unit is a ParseError', () => {
    expect(() => h264NaluType(new Uint8Array(0))).toThrow(ParseError);
  });
});

describe('splitAvcc', () => {
  test.each([1, 2, 3, 4])('length size %d round-trips and returns views', (ls) => {
    const units = [AUD, SPS, PPS, IDR];
    const buf = avcc(units, ls);
    const got = splitAvcc(buf, ls);
    expect(got.map(toHex)).toEqual(units.map(toHex));
    for (const u of got) expect(u.buffer).toBe(buf.buffer);
  });

  test('empty buffer gives no units; zero-length entries are skipped', () => {
    expect(splitAvcc(new Uint8Array(0))).toEqual([]);
    expect(splitAvcc(fromHex('00000000 00000002 09f0 00000000')).map(toHex)).toEqual(['09f0']);
  });

  test('a length running past the end is a ParseError', () => {
    expect(() => splitAvcc(fromHex('00000005 0102'))).toThrow(/avcc: NAL length 5 at offset 0 runs past the end/);
    expect(() => splitAvcc(fromHex('00000002 0102 0000'))).toThrow(ParseError);
  });

  test('`start` splits from an offset, as of a view from there (offsets in errors count from it)', () => {
    const units = [AUD, SPS, PPS, IDR];
    const body = fromHex(`17 01 000000 ${toHex(avcc(units, 4))}`); // an FLV AVC NALU tag body
    const got = splitAvcc(body, 4, undefined, 5);
    expect(got.map(toHex)).toEqual(units.map(toHex));
    for (const u of got) expect(u.buffer).toBe(body.buffer);
    expect(splitAvcc(body, 4, undefined, body.length)).toEqual([]);
    expect(() => splitAvcc(fromHex('aabbcc 00000005 0102'), 4, undefined, 3)).toThrow(/avcc: NAL length 5 at offset 0 runs past the end/);
  });

  test('invalid length size is a ParseError', () => {
    expect(() => splitAvcc(fromHex('00'), 0)).toThrow(ParseError);
    expect(() => splitAvcc(fromHex('00'), 5)).toThrow(ParseError);
  });

  test(`more than MAX_NALUS_PER_AU (${MAX_NALUS_PER_AU}) units is a ParseError`, () => {
    const ok = avcc(Array.from({ length: MAX_NALUS_PER_AU }, () => AUD));
    expect(splitAvcc(ok).length).toBe(MAX_NALUS_PER_AU);
    const tooMany = avcc(Array.from({ length: MAX_NALUS_PER_AU + 1 }, () => AUD));
    expect(() => splitAvcc(tooMany)).toThrow(/more than 256 NAL units/);
  });

  test('hostile input only ever throws ParseError', () => {
    const valid = [avcc([AUD, SPS, PPS, IDR]), avcc([SLICE], 2)];
    for (const b of hostileInputs(valid, 11)) {
      for (const ls of [1, 2, 4]) expect(() => outcome(() => splitAvcc(b, ls))).not.toThrow();
    }
  });
});

describe('splitAnnexB', () => {
  test('3- and 4-byte start codes, leading garbage and trailing zeros', () => {
    const buf = fromHex(`ffee 00000001 ${hi.sps} 000001 ${hi.pps} 00000001 65888400ff 0000 000001 419a2201 0000`);
    const got = splitAnnexB(buf);
    expect(got.map(toHex)).toEqual([hi.sps, hi.pps, '65888400ff', '419a2201']);
    for (const u of got) expect(u.buffer).toBe(buf.buffer);
  });

  test('no start code gives no units; empty units are skipped', () => {
    expect(splitAnnexB(fromHex('6764001e'))).toEqual([]);
    expect(splitAnnexB(new Uint8Array(0))).toEqual([]);
    expect(splitAnnexB(fromHex('000001 000001 09f0 000001')).map(toHex)).toEqual(['09f0']);
  });

  test('a 00 00 02 or 00 00 03 inside a unit is not a start code', () => {
    expect(splitAnnexB(fromHex('000001 0100000200000301')).map(toHex)).toEqual(['0100000200000301']);
  });

  test('agrees with splitAvcc on the same units', () => {
    const units = [AUD, SPS, PPS, IDR, SLICE];
    const annexB = Uint8Array.from(units.flatMap((u) => [0, 0, 0, 1, ...u]));
    expect(splitAnnexB(annexB).map(toHex)).toEqual(splitAvcc(avcc(units)).map(toHex));
  });

  test('NAL count is bounded', () => {
    const many = Uint8Array.from(Array.from({ length: MAX_NALUS_PER_AU + 1 }, () => [0, 0, 1, 9, 0xf0]).flat());
    expect(() => splitAnnexB(many)).toThrow(ParseError);
    expect(splitAnnexB(many, 1000).length).toBe(MAX_NALUS_PER_AU + 1);
  });

  test('hostile input only ever throws ParseError', () => {
    const valid = [fromHex(`00000001 ${hi.sps} 000001 ${hi.pps} 000001 65888400ff`)];
    for (const b of hostileInputs(valid, 12)) expect(() => outcome(() => splitAnnexB(b))).not.toThrow();
  });
});

describe('isH264KeyFrame', () => {
  test.each([
    [[AUD, SPS, PPS, IDR], true],
    [[IDR], true],
    [[AUD, SLICE], false],
    [[SPS, PPS], false],
    [[new Uint8Array(0), SLICE], false],
    [[], false],
  ])('%#', (units, key) => {
    expect(isH264KeyFrame(units as Uint8Array[])).toBe(key as boolean);
  });
});
