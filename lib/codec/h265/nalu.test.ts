import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { H265_VECTORS } from '../_testing.ts';
import { fromHex } from '../../core/testing.ts';
import { NaluTypeH265, h265NaluType, isH265Irap, isH265KeyFrame } from './nalu.ts';

const v = H265_VECTORS[0];
const IDR_W_RADL = fromHex('2601af');
const CRA = fromHex('2a01af');
const TRAIL_R = fromHex('0201d0');
const AUD = fromHex('460110');

describe('h265NaluType', () => {
  test.each([
    [fromHex(v.vps), NaluTypeH265.Vps],
    [fromHex(v.sps), NaluTypeH265.Sps],
    [fromHex(v.pps), NaluTypeH265.Pps],
    [AUD, NaluTypeH265.Aud],
    [IDR_W_RADL, NaluTypeH265.IdrWRadl],
    [CRA, NaluTypeH265.Cra],
    [TRAIL_R, NaluTypeH265.TrailR],
    [fromHex('4e01'), NaluTypeH265.SeiPrefix],
    [fromHex('5001'), NaluTypeH265.SeiSuffix],
    [fromHex('4801'), NaluTypeH265.Eos],
  ])('%#', (nalu, type) => {
    expect(h265NaluType(nalu)).toBe(type);
  });
  test('the forbidden bit does not leak into the type', () => {
    expect(h265NaluType(fromHex('c201'))).toBe(33);
  });
  test('empty unit is a ParseError', () => {
    expect(() => h265NaluType(new Uint8Array(0))).toThrow(ParseError);
  });
});

describe('IRAP / key frames', () => {
  test('isH265Irap is exactly 16..23', () => {
    const irap = Array.from({ length: 64 }, (_, t) => t).filter(isH265Irap);
    expect(irap).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
  });
  test.each([
    [[AUD, fromHex(v.vps), fromHex(v.sps), fromHex(v.pps), IDR_W_RADL], true],
    [[CRA], true],
    [[AUD, TRAIL_R], false],
    [[fromHex(v.vps), fromHex(v.sps)], false],
    [[new Uint8Array(0)], false],
    [[], false],
  ])('isH265KeyFrame %#', (units, key) => {
    expect(isH265KeyFrame(units as Uint8Array[])).toBe(key as boolean);
  });
});
