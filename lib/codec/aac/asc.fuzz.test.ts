/**
 * Seeded fuzz test of the AudioSpecificConfig parser (issue #9): 100,000 random and mutated
 * configs, only ParseError may escape, and what parses re-encodes to the same core config.
 */
import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { FIXTURE_ASC } from '../_testing.ts';
import { decodeAsc, encodeAsc } from './asc.ts';

const CORPUS = [
  fromHex(FIXTURE_ASC), // AAC-LC 44.1 kHz stereo + backward-compatible SBR signalling
  fromHex('2b920800'), // explicit HE-AAC (AOT 5)
  fromHex('1190'),
  fromHex('13b8'),
  fromHex('0a10'),
  encodeAsc({ objectType: 2, sampleRate: 12345, channels: 1 }), // explicit 24-bit rate
  encodeAsc({ objectType: 40, sampleRate: 48000, channels: 6 }), // escaped object type
  // channelConfiguration 0: the channels come from a program_config_element
  fromHex('1200 0c 44 01 00 00 20 00 00 00'.replace(/ /g, '')),
];

describe('decodeAsc fuzz', () => {
  test('100,000 inputs: only ParseError, and accepted configs round-trip through encodeAsc', () => {
    const r = fuzz('aac asc', { seed: 0xa5c, corpus: CORPUS, maxRandomLength: 16 }, ({ input }) => {
      const info = decodeAsc(input);
      fuzzCheck(info.sampleRate > 0 && info.sampleRate <= 0xffffff, () => `sample rate ${info.sampleRate}`);
      fuzzCheck(info.objectType >= 1 && info.objectType <= 95, () => `object type ${info.objectType}`);
      let again: Uint8Array;
      try {
        again = encodeAsc(info);
      } catch (e) {
        if (e instanceof ParseError) return; // a valid config the 2-byte form cannot express (PCE layouts, 0 channels)
        throw e;
      }
      const back = decodeAsc(again);
      fuzzCheck(back.objectType === info.objectType && back.sampleRate === info.sampleRate && back.channels === info.channels,
        () => `round trip ${JSON.stringify(info)} → ${JSON.stringify(back)}`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
