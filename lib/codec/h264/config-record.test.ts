import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { FFMPEG_AVCC_BASELINE, FFMPEG_AVCC_HIGH, FIXTURE_PPS_B64, FIXTURE_SPS_B64, H264_VECTORS } from '../_testing.ts';
import { fromBase64, fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';
import { decodeAvcConfigRecord, encodeAvcConfigRecord } from './config-record.ts';

describe('avcC from ffmpeg', () => {
  test.each([
    ['High', FFMPEG_AVCC_HIGH, H264_VECTORS[0]],
    ['Baseline', FFMPEG_AVCC_BASELINE, H264_VECTORS[1]],
  ])('%s: decode gives the stream parameter sets; encode reproduces the bytes', (_n, record, v) => {
    const buf = fromHex(record);
    const c = decodeAvcConfigRecord(buf);
    const sps = fromHex(v.sps);
    expect(c).toMatchObject({ profileIdc: sps[1], compat: sps[2], levelIdc: sps[3], lengthSize: 4 });
    expect(c.sps.map(toHex)).toEqual([v.sps]);
    expect(c.pps.map(toHex)).toEqual([v.pps]);
    expect(c.sps[0].buffer).toBe(buf.buffer); // views, not copies
    expect(toHex(encodeAvcConfigRecord(c))).toBe(record);
  });
});

describe('encodeAvcConfigRecord', () => {
  test('docs/tests.md fixture: 01 64 00 16 FF E1 … (profile/compat/level from the SPS)', () => {
    const sps = fromBase64(FIXTURE_SPS_B64);
    const pps = fromBase64(FIXTURE_PPS_B64);
    const rec = encodeAvcConfigRecord({ sps: [sps], pps: [pps] });
    expect(toHex(rec)).toBe(`01640016ffe1001a${toHex(sps)}010006${toHex(pps)}`);
  });

  test('compat override (LAL writes profile_compatibility 0 for RTSP/PS input)', () => {
    const rec = encodeAvcConfigRecord({ sps: [fromHex(H264_VECTORS[1].sps)], pps: [fromHex(H264_VECTORS[1].pps)], compat: 0 });
    expect(toHex(rec.subarray(0, 6))).toBe('0142000dffe1');
  });

  test.each([
    ['no PPS', 1, 0],
    ['two SPS, three PPS', 2, 3],
    ['31 SPS, 255 PPS (field maxima)', 31, 255],
  ])('round trip byte-exact: %s', (_n, nSps, nPps) => {
    const sps = Array.from({ length: nSps }, (_, i) => Uint8Array.from([...fromHex(H264_VECTORS[0].sps), i]));
    const pps = Array.from({ length: nPps }, (_, i) => Uint8Array.from([0x68, i, 0x80]));
    const rec = encodeAvcConfigRecord({ sps, pps });
    const c = decodeAvcConfigRecord(rec);
    expect(c.sps.map(toHex)).toEqual(sps.map(toHex));
    expect(c.pps.map(toHex)).toEqual(pps.map(toHex));
    expect(toHex(encodeAvcConfigRecord(c))).toBe(toHex(rec));
  });

  test.each([
    ['no SPS', { sps: [], pps: [] }, /at least one SPS/],
    ['SPS too short', { sps: [fromHex('6764')], pps: [] }, /too short/],
    ['32 SPS', { sps: Array(32).fill(fromHex('6764001e')), pps: [] }, /exceed 31/],
    ['256 PPS', { sps: [fromHex('6764001e')], pps: Array(256).fill(fromHex('68ee')) }, /exceed 255/],
    ['empty PPS', { sps: [fromHex('6764001e')], pps: [new Uint8Array(0)] }, /16-bit length/],
    ['65536-byte SPS', { sps: [new Uint8Array(65536).fill(0x67)], pps: [] }, /16-bit length/],
  ])('rejects %s', (_n, c, msg) => {
    expect(() => encodeAvcConfigRecord(c)).toThrow(ParseError);
    expect(() => encodeAvcConfigRecord(c)).toThrow(msg);
  });
});

describe('decodeAvcConfigRecord', () => {
  test('lengthSizeMinusOne is honoured (1, 2, 4)', () => {
    for (const [b, ls] of [[0xfc, 1], [0xfd, 2], [0xff, 4]]) {
      const rec = fromHex(FFMPEG_AVCC_HIGH);
      rec[4] = b;
      expect(decodeAvcConfigRecord(rec).lengthSize).toBe(ls);
    }
  });

  test('a trailing high-profile extension is ignored', () => {
    const rec = fromHex(`${FFMPEG_AVCC_HIGH}fdf8f800`);
    expect(decodeAvcConfigRecord(rec).pps.map(toHex)).toEqual([H264_VECTORS[0].pps]);
  });

  test.each([
    ['version 0', '0064001effe10000', /configurationVersion 0/],
    ['too short', '0164001eff', /shorter than 7/],
    ['SPS length past the end', '0164001effe100ff6764', /SPS length 255 .* runs past the end/],
    ['empty SPS', '0164001effe1000000', /empty SPS/],
    ['missing PPS count', '0164001effe100026764', /numOfPictureParameterSets/],
    ['PPS length cut', '0164001effe1000267640100', /inside the PPS length/],
  ])('%s is a ParseError', (_n, record, msg) => {
    expect(() => decodeAvcConfigRecord(fromHex(record))).toThrow(ParseError);
    expect(() => decodeAvcConfigRecord(fromHex(record))).toThrow(msg);
  });

  test('hostile input only ever throws ParseError', () => {
    const valid = [fromHex(FFMPEG_AVCC_HIGH), fromHex(FFMPEG_AVCC_BASELINE)];
    let rejected = 0;
    for (const b of hostileInputs(valid, 31)) {
      expect(() => {
        if (outcome(() => decodeAvcConfigRecord(b)) === 'rejected') rejected++;
      }).not.toThrow();
    }
    expect(rejected).toBeGreaterThan(200);
  });
});
