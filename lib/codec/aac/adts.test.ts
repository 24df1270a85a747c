import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { ADTS_44100_STEREO_FRAMES, ADTS_48000_MONO_FRAME_SIZES, ADTS_48000_MONO_STREAM, FIXTURE_ASC } from '../_testing.ts';
import { fromHex, hostileInputs, mulberry32, outcome, randomBytes, toHex } from '../../core/testing.ts';
import { ADTS_HEADER_SIZE, MAX_ADTS_FRAME_LENGTH, decodeAdtsHeader, encodeAdtsHeader, encodeAdtsHeaderInto, splitAdts } from './adts.ts';
import { decodeAsc, encodeAsc } from './asc.ts';

const LC_44100_STEREO = decodeAsc(fromHex(FIXTURE_ASC));

describe('ADTS headers against ffmpeg', () => {
  test.each(ADTS_44100_STEREO_FRAMES.map((f) => [f.length / 2, f] as const))('%d-byte frame: decode, and encode from the ASC byte-exact', (_n, frameHex) => {
    const frame = fromHex(frameHex);
    const h = decodeAdtsHeader(frame);
    expect(h).toMatchObject({ headerLength: 7, frameLength: frame.length, rawBlocks: 1 });
    expect(h.info).toMatchObject({ objectType: 2, samplingIndex: 4, sampleRate: 44100, channels: 2 });
    expect(toHex(encodeAdtsHeader(LC_44100_STEREO, frame.length - 7))).toBe(toHex(frame.subarray(0, 7)));
  });

  test('48 kHz mono stream: split, then rebuild byte-exact from a hand-built info', () => {
    const stream = fromHex(ADTS_48000_MONO_STREAM);
    const frames = splitAdts(stream);
    expect(frames.map((f) => f.length + ADTS_HEADER_SIZE)).toEqual(ADTS_48000_MONO_FRAME_SIZES);
    for (const f of frames) expect(f.buffer).toBe(stream.buffer); // views
    const info = decodeAsc(encodeAsc({ objectType: 2, sampleRate: 48000, channels: 1 }));
    const rebuilt = concat(frames.flatMap((f) => [encodeAdtsHeader(info, f.length), f]));
    expect(toHex(rebuilt)).toBe(ADTS_48000_MONO_STREAM);
  });
});

describe('encodeAdtsHeader / encodeAdtsHeaderInto', () => {
  test('writes at an offset and returns 7', () => {
    const out = new Uint8Array(20).fill(0xaa);
    expect(encodeAdtsHeaderInto(LC_44100_STEREO, 100, out, 5)).toBe(7);
    expect(toHex(out)).toBe(`aaaaaaaaaa${'fff150800d7ffc'}aaaaaaaaaaaaaaaa`);
  });

  test('field layout: profile = objectType-1, 8 channels → config 7, frame length = raw + 7', () => {
    const h = encodeAdtsHeader({ objectType: 1, samplingIndex: 11, sampleRate: 8000, channels: 8 }, MAX_ADTS_FRAME_LENGTH - 7);
    const d = decodeAdtsHeader(h);
    expect(d.info).toMatchObject({ objectType: 1, samplingIndex: 11, channels: 8, channelConfig: 7 });
    expect(d.frameLength).toBe(MAX_ADTS_FRAME_LENGTH);
    expect(h[6] & 3).toBe(0); // one raw data block
    expect(((h[5] & 0x1f) << 6) | (h[6] >> 2)).toBe(0x7ff); // buffer fullness
  });

  test('HE-AAC ASC: ADTS carries the core (LC at the core rate)', () => {
    const info = decodeAsc(fromHex('2b920800'));
    expect(decodeAdtsHeader(encodeAdtsHeader(info, 10)).info).toMatchObject({ objectType: 2, sampleRate: 22050, channels: 2 });
  });

  test('explicit rate that the table knows is mapped to its index', () => {
    const h = encodeAdtsHeader({ objectType: 2, samplingIndex: 15, sampleRate: 32000, channels: 2 }, 0);
    expect(decodeAdtsHeader(h).info.samplingIndex).toBe(5);
  });

  test.each([
    ['object type 5', { objectType: 5, samplingIndex: 4, sampleRate: 44100, channels: 2 }, 10, /object type 5/],
    ['rate without index', { objectType: 2, samplingIndex: 15, sampleRate: 44056, channels: 2 }, 10, /44056 has no/],
    ['frame too long', LC_44100_STEREO, MAX_ADTS_FRAME_LENGTH - 6, /exceeds the 13-bit/],
    ['negative length', LC_44100_STEREO, -1, /exceeds the 13-bit/],
    ['config 13', { objectType: 2, samplingIndex: 4, sampleRate: 44100, channels: 24, channelConfig: 13 }, 10, /does not fit 3 bits/],
  ])('rejects %s', (_n, info, len, msg) => {
    expect(() => encodeAdtsHeader(info, len)).toThrow(ParseError);
    expect(() => encodeAdtsHeader(info, len)).toThrow(msg);
  });

  test('no room in the output buffer is a ParseError', () => {
    expect(() => encodeAdtsHeaderInto(LC_44100_STEREO, 1, new Uint8Array(10), 4)).toThrow(ParseError);
  });
});

describe('decodeAdtsHeader', () => {
  test('CRC present: 9-byte header, payload after the CRC', () => {
    // protection_absent 0, aac_frame_length 13 = 9 + 4, crc 1234
    const frame = fromHex('fff0 5080 01bf fc 1234 aabbccdd');
    const h = decodeAdtsHeader(frame);
    expect([h.headerLength, h.frameLength]).toEqual([9, 13]);
    expect(splitAdts(frame).map(toHex)).toEqual(['aabbccdd']);
  });

  test('reads at an offset; MPEG-2 ID bit accepted; raw blocks counted', () => {
    // two bytes of junk, then ID 1, frame length 7 (empty payload), 3 raw data blocks
    const buf = fromHex('0000 fff9 5080 00ff fe');
    const h = decodeAdtsHeader(buf, 2);
    expect([h.frameLength, h.rawBlocks]).toEqual([7, 3]);
  });

  test.each([
    ['truncated', 'fff15080', 0, /needs 7 bytes/],
    ['no sync', 'fef150802a7ffc', 0, /no syncword at offset 0/],
    ['layer 1', 'fff350802a7ffc', 0, /layer 1/],
    ['index 13', 'fff174802a7ffc', 0, /index 13/],
    ['frame shorter than header', 'fff15080005ffc', 0, /aac_frame_length 2/],
    ['CRC header cut', 'fff05080027ffc12', 0, /needs 9 bytes/],
    ['offset past end', 'fff150802a7ffc', 3, /needs 7 bytes/],
  ])('%s is a ParseError', (_n, h, off, msg) => {
    expect(() => decodeAdtsHeader(fromHex(h), off)).toThrow(ParseError);
    expect(() => decodeAdtsHeader(fromHex(h), off)).toThrow(msg);
  });
});

describe('splitAdts', () => {
  test('empty buffer gives no frames', () => {
    expect(splitAdts(new Uint8Array(0))).toEqual([]);
  });

  test('a frame running past the end, or garbage after a frame, is a ParseError', () => {
    const stream = fromHex(ADTS_48000_MONO_STREAM);
    expect(() => splitAdts(stream.subarray(0, stream.length - 1))).toThrow(/runs past the end/);
    expect(() => splitAdts(concat([stream, fromHex('00')]))).toThrow(/needs 7 bytes/);
    expect(() => splitAdts(concat([stream, fromHex('00112233445566')]))).toThrow(/no syncword at offset 586/);
  });

  test('hostile input only ever throws ParseError (split and header decode)', () => {
    const valid = [fromHex(ADTS_48000_MONO_STREAM).subarray(0, 189 + 202), fromHex(ADTS_44100_STEREO_FRAMES[1])];
    for (const b of hostileInputs(valid, 71)) {
      expect(() => outcome(() => splitAdts(b))).not.toThrow();
      expect(() => outcome(() => decodeAdtsHeader(b))).not.toThrow();
    }
    const rnd = mulberry32(72);
    for (let i = 0; i < 200; i++) {
      const b = fromHex('fff1');
      const r = Uint8Array.from([...b, ...randomBytes(rnd, 12)]);
      expect(() => outcome(() => splitAdts(r))).not.toThrow();
    }
  });
});
