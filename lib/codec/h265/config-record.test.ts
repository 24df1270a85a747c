import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { H265_VECTORS } from '../_testing.ts';
import { fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';
import { decodeHevcConfigRecord, encodeHevcConfigRecord } from './config-record.ts';

/** ffmpeg writes array_completeness 0; with 1 the array bytes 20/21/22 become A0/A1/A2. */
function withCompleteness(record: string): string {
  const b = fromHex(record);
  let off = 23;
  for (let a = 0; a < b[22]; a++) {
    b[off] |= 0x80;
    const n = (b[off + 1] << 8) | b[off + 2];
    off += 3;
    for (let i = 0; i < n; i++) off += 2 + ((b[off] << 8) | b[off + 1]);
  }
  return toHex(b);
}

describe('hvcC against ffmpeg', () => {
  test.each(H265_VECTORS.map((v) => [v.name, v] as const))('%s', (_n, v) => {
    const units = { vps: [fromHex(v.vps)], sps: [fromHex(v.sps)], pps: [fromHex(v.pps)] };
    // Every header field (profile, compat, constraints, level, chroma, depths, temporal layers)
    // matches what ffmpeg derived from the same parameter sets.
    expect(toHex(encodeHevcConfigRecord({ ...units, arrayCompleteness: false }))).toBe(v.ffmpegHvcc);
    expect(toHex(encodeHevcConfigRecord(units))).toBe(withCompleteness(v.ffmpegHvcc));

    const buf = fromHex(v.ffmpegHvcc);
    const c = decodeHevcConfigRecord(buf);
    expect(c).toMatchObject({ profileIdc: v.expect.profileIdc, levelIdc: v.expect.levelIdc, lengthSize: 4 });
    expect([c.vps.map(toHex), c.sps.map(toHex), c.pps.map(toHex)]).toEqual([[v.vps], [v.sps], [v.pps]]);
    expect(c.sps[0].buffer).toBe(buf.buffer); // views
  });
});

describe('encode/decode round trip', () => {
  test.each(H265_VECTORS.map((v) => [v.name, v] as const))('byte-exact: %s', (_n, v) => {
    const rec = encodeHevcConfigRecord({ vps: [fromHex(v.vps)], sps: [fromHex(v.sps)], pps: [fromHex(v.pps)] });
    expect(toHex(encodeHevcConfigRecord(decodeHevcConfigRecord(rec)))).toBe(toHex(rec));
  });

  test('several PPS, no VPS', () => {
    const v = H265_VECTORS[0];
    const pps = [fromHex(v.pps), fromHex('4401c172b46241'), fromHex('4401c172b46242')];
    const rec = encodeHevcConfigRecord({ vps: [], sps: [fromHex(v.sps)], pps });
    expect(rec[22]).toBe(2);
    const c = decodeHevcConfigRecord(rec);
    expect(c.vps).toEqual([]);
    expect(c.pps.map(toHex)).toEqual(pps.map(toHex));
    expect(toHex(encodeHevcConfigRecord(c))).toBe(toHex(rec));
  });
});

describe('decodeHevcConfigRecord', () => {
  test('SEI arrays are skipped; lengthSizeMinusOne honoured', () => {
    const v = H265_VECTORS[0];
    const b = fromHex(v.ffmpegHvcc);
    const sei = fromHex('a7 0001 000a 4e01 05 05 0102030405 80'); // one prefix SEI of 10 bytes
    const rec = Uint8Array.from([...b, ...sei]);
    rec[22] += 1;
    rec[21] = (rec[21] & 0xfc) | 1;
    const c = decodeHevcConfigRecord(rec);
    expect(c.lengthSize).toBe(2);
    expect([c.vps.length, c.sps.length, c.pps.length]).toEqual([1, 1, 1]);
  });

  test.each([
    ['too short', '0101', /shorter than 23/],
    ['version 2', `02${'00'.repeat(22)}`, /configurationVersion 2/],
    ['array header cut', `01${'00'.repeat(21)}0120`, /array 0 header/],
    ['too many NALs in an array', `01${'00'.repeat(21)}01a00041`, /65 NAL units exceeds 64/],
    ['NAL length cut', `01${'00'.repeat(21)}01a1000100`, /NAL length at offset 26/],
    ['NAL past the end', `01${'00'.repeat(21)}01a10001000542`, /NAL length 5 .* runs past the end/],
    ['empty SPS', `01${'00'.repeat(21)}01a100010000`, /empty parameter set of type 33/],
  ])('%s is a ParseError', (_n, record, msg) => {
    expect(() => decodeHevcConfigRecord(fromHex(record))).toThrow(ParseError);
    expect(() => decodeHevcConfigRecord(fromHex(record))).toThrow(msg);
  });

  test('hostile input only ever throws ParseError', () => {
    const valid = H265_VECTORS.map((v) => fromHex(v.ffmpegHvcc));
    let rejected = 0;
    for (const b of hostileInputs(valid, 51)) {
      expect(() => {
        if (outcome(() => decodeHevcConfigRecord(b)) === 'rejected') rejected++;
      }).not.toThrow();
    }
    expect(rejected).toBeGreaterThan(200);
  });
});

describe('encodeHevcConfigRecord rejects', () => {
  const v = H265_VECTORS[0];
  test.each([
    ['no SPS', { vps: [fromHex(v.vps)], sps: [], pps: [] }, /at least one SPS/],
    ['a VPS in place of the SPS', { vps: [], sps: [fromHex(v.vps)], pps: [] }, /not an SPS/],
    ['65 PPS', { vps: [], sps: [fromHex(v.sps)], pps: Array(65).fill(fromHex(v.pps)) }, /65 NAL units exceed 64/],
    ['empty PPS', { vps: [], sps: [fromHex(v.sps)], pps: [new Uint8Array(0)] }, /16-bit length/],
  ])('%s', (_n, c, msg) => {
    expect(() => encodeHevcConfigRecord(c)).toThrow(ParseError);
    expect(() => encodeHevcConfigRecord(c)).toThrow(msg);
  });
});
