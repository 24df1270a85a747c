import { describe, expect, test } from 'bun:test';
import { BitWriter } from '../../core/bit-writer.ts';
import { ParseError } from '../../core/errors.ts';
import { FIXTURE_ASC } from '../_testing.ts';
import { fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';
import { SAMPLE_RATES, aacChannelConfig, aacSamplingIndex, decodeAsc, encodeAsc } from './asc.ts';

function bits(...fields: [number, number][]): Uint8Array {
  const w = new BitWriter();
  for (const [v, n] of fields) w.writeBits(v, n);
  return w.finish();
}

describe('decodeAsc', () => {
  test('docs/tests.md fixture 12 10 56 E5 00: AAC-LC 44100 Hz stereo (SBR signalled absent)', () => {
    const info = decodeAsc(fromHex(FIXTURE_ASC));
    expect(info).toMatchObject({ objectType: 2, samplingIndex: 4, sampleRate: 44100, channels: 2, channelConfig: 2 });
    expect(info.sbr).toBeUndefined();
  });

  test.each([
    ['1190', { objectType: 2, samplingIndex: 3, sampleRate: 48000, channels: 2 }],
    ['1188', { objectType: 2, samplingIndex: 3, sampleRate: 48000, channels: 1 }],
    ['1588', { objectType: 2, samplingIndex: 11, sampleRate: 8000, channels: 1 }],
    ['0a10', { objectType: 1, samplingIndex: 4, sampleRate: 44100, channels: 2 }],
    ['13b8', { objectType: 2, samplingIndex: 7, sampleRate: 22050, channels: 8, channelConfig: 7 }],
    ['1210', { objectType: 2, samplingIndex: 4, sampleRate: 44100, channels: 2 }],
  ])('%s', (asc, want) => {
    expect(decodeAsc(fromHex(asc))).toMatchObject(want);
  });

  test('explicit HE-AAC (AOT 5): core type and rate, SBR output rate', () => {
    // 2B 92 08 00: AOT 5, 22050 Hz, stereo, extension 44100 Hz, core AOT 2.
    expect(decodeAsc(fromHex('2b920800'))).toMatchObject({ objectType: 2, samplingIndex: 7, sampleRate: 22050, channels: 2, sbr: true, extensionSampleRate: 44100 });
  });

  test('explicit HE-AAC v2 (AOT 29) sets ps', () => {
    const asc = bits([29, 5], [6, 4], [1, 4], [3, 4], [2, 5], [0, 3]);
    expect(decodeAsc(asc)).toMatchObject({ objectType: 2, sampleRate: 24000, channels: 1, sbr: true, ps: true, extensionSampleRate: 48000 });
  });

  test('backward-compatible SBR + PS signalling after GASpecificConfig', () => {
    const asc = bits([2, 5], [7, 4], [1, 4], [0, 3], [0x2b7, 11], [5, 5], [1, 1], [4, 4], [0x548, 11], [1, 1]);
    expect(decodeAsc(asc)).toMatchObject({ objectType: 2, sampleRate: 22050, sbr: true, extensionSampleRate: 44100, ps: true });
  });

  test('object type escape (31 → 32 + 6 bits) and explicit sampling frequency (index 15)', () => {
    const asc = bits([31, 5], [42 - 32, 6], [15, 4], [44056, 24], [2, 4]);
    expect(decodeAsc(asc)).toMatchObject({ objectType: 42, samplingIndex: 15, sampleRate: 44056, channels: 2 });
  });

  test('channel configuration 0: channels counted from the program_config_element (5.1)', () => {
    const asc = bits(
      [2, 5], [3, 4], [0, 4], [0, 3], // LC 48000, config 0, GASpecificConfig
      [0, 4], [1, 2], [3, 4], // PCE: tag, object type, sampling index
      [2, 4], [0, 4], [1, 4], [1, 2], [0, 3], [0, 4], // 2 front, 0 side, 1 back, 1 lfe
      [0, 1], [0, 1], [0, 1], // no mixdowns
      [0, 1], [0, 4], [1, 1], [1, 4], // front: SCE, CPE
      [1, 1], [2, 4], // back: CPE
      [0, 4], // lfe tag
    );
    expect(decodeAsc(asc)).toMatchObject({ channelConfig: 0, channels: 6, sampleRate: 48000 });
  });

  test.each([
    ['empty', '', /read past end/],
    ['one byte', '12', /read past end/],
    ['object type 0', '0210', /object type 0/],
    ['reserved index 13', '16a0', /index 13 is reserved/],
    ['explicit frequency 0', toHex(bits([2, 5], [15, 4], [0, 24], [2, 4])), /explicit sampling frequency 0/],
  ])('%s is a ParseError', (_n, asc, msg) => {
    expect(() => decodeAsc(fromHex(asc))).toThrow(ParseError);
    expect(() => decodeAsc(fromHex(asc))).toThrow(msg);
  });

  test('hostile input only ever throws ParseError', () => {
    const valid = [fromHex(FIXTURE_ASC), fromHex('2b920800'), fromHex('1190')];
    let ok = 0;
    for (const b of hostileInputs(valid, 61)) {
      expect(() => {
        if (outcome(() => decodeAsc(b)) === 'ok') ok++;
      }).not.toThrow();
    }
    expect(ok).toBeGreaterThan(0);
  });
});

describe('encodeAsc', () => {
  test.each([
    [{ objectType: 2, sampleRate: 44100, channels: 2 }, '1210'],
    [{ objectType: 2, sampleRate: 48000, channels: 1 }, '1188'],
    [{ objectType: 2, sampleRate: 48000, channels: 2 }, '1190'],
    [{ objectType: 2, sampleRate: 22050, channels: 8 }, '13b8'],
    [{ objectType: 1, sampleRate: 44100, channels: 2 }, '0a10'],
  ])('common case is 2 bytes: %o → %s', (info, want) => {
    const asc = encodeAsc(info);
    expect(toHex(asc)).toBe(want);
    expect(decodeAsc(asc)).toMatchObject(info);
  });

  test.each([
    { objectType: 2, sampleRate: 44056, channels: 2 },
    { objectType: 42, sampleRate: 48000, channels: 6 },
    { objectType: 95, sampleRate: 16000000, channels: 1 },
    ...SAMPLE_RATES.map((sampleRate) => ({ objectType: 2, sampleRate, channels: 2 })),
  ])('round trip %o', (info) => {
    const asc = encodeAsc(info);
    expect(decodeAsc(asc)).toMatchObject(info);
    expect(toHex(encodeAsc(decodeAsc(asc)))).toBe(toHex(asc));
  });

  test.each([
    [{ objectType: 0, sampleRate: 44100, channels: 2 }, /object type 0/],
    [{ objectType: 31, sampleRate: 44100, channels: 2 }, /object type 31/],
    [{ objectType: 96, sampleRate: 44100, channels: 2 }, /object type 96/],
    [{ objectType: 2, sampleRate: 0, channels: 2 }, /sample rate 0/],
    [{ objectType: 2, sampleRate: 44100, channels: 7 }, /7 channels/],
    [{ objectType: 2, sampleRate: 44100, channels: 0 }, /0 channels/],
  ])('rejects %o', (info, msg) => {
    expect(() => encodeAsc(info)).toThrow(ParseError);
    expect(() => encodeAsc(info)).toThrow(msg);
  });

  test('helpers', () => {
    expect(aacSamplingIndex(7350)).toBe(12);
    expect(aacSamplingIndex(44056)).toBe(15);
    expect(aacChannelConfig(8)).toBe(7);
  });
});
