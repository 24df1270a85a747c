/**
 * Seeded fuzz tests of the FLV file header and the audio/video tag header parsers, and of the
 * `@setDataFrame` metadata forms (issue #9): 100,000 random and mutated inputs each; only
 * ParseError may escape and payload offsets stay inside the body.
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { parseFlvAudioTag } from './audio-header.ts';
import { decodeFlvHeader, encodeFlvHeader, FLV_HEADER } from './header.ts';
import { SET_DATA_FRAME, stripSetDataFrame, withSetDataFrame } from './metadata.ts';
import { parseFlvVideoTag } from './video-header.ts';

const fourcc = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16)).join('');

describe('FLV header and tag header fuzz', () => {
  test('decodeFlvHeader: 100,000 inputs, only ParseError, flags round-trip', () => {
    const corpus = [FLV_HEADER, encodeFlvHeader({ audio: true, video: false }), fromHex('464c5601010000000d00000000aabbccdd')];
    const r = fuzz('flv header', { seed: 0xf1f1, corpus, maxRandomLength: 16 }, ({ input }) => {
      const h = decodeFlvHeader(input);
      fuzzCheck(h.dataOffset >= 9 && h.dataOffset <= 1024, () => `data offset ${h.dataOffset}`);
      const again = decodeFlvHeader(encodeFlvHeader(h));
      fuzzCheck(again.audio === h.audio && again.video === h.video, 'flags round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);

  test('parseFlvVideoTag: 100,000 inputs, only ParseError, the payload offset stays inside the body', () => {
    const corpus = [
      fromHex('1700000000 0164001effe1'.replace(/ /g, '')), // AVC sequence header
      fromHex('27010000280000000141'), // AVC NALU, cts 40
      fromHex('1c00000000 01016000'.replace(/ /g, '')), // legacy HEVC
      fromHex('1702000000'), // end of sequence
      fromHex(`90${fourcc('hvc1')}0101`), // enhanced SequenceStart
      fromHex(`91${fourcc('hvc1')}00002800000001`), // enhanced CodedFrames with cts
      fromHex(`93${fourcc('avc1')}00000001`), // CodedFramesX
      fromHex(`91${fourcc('av01')}0a0b`), // unknown FourCC
      fromHex('96000102'), // multitrack
      fromHex('5200'), // command frame
    ];
    const r = fuzz('flv video tag header', { seed: 0xf1f2, corpus, maxRandomLength: 12 }, ({ input }) => {
      const h = parseFlvVideoTag(input);
      fuzzCheck(h.dataOffset >= 1 && h.dataOffset <= input.length, () => `data offset ${h.dataOffset} of ${input.length}`);
      fuzzCheck(h.cts >= -0x800000 && h.cts < 0x800000, () => `cts ${h.cts}`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.01);
  }, FUZZ_TIMEOUT);

  test('parseFlvAudioTag: 100,000 inputs, only ParseError, the payload offset stays inside the body', () => {
    const corpus = [fromHex('af001210'), fromHex('af0121'), fromHex('72d5d5'), fromHex('df01'), fromHex(`90${fourcc('Opus')}00`), fromHex('2fff')];
    const r = fuzz('flv audio tag header', { seed: 0xf1f3, corpus, maxRandomLength: 8 }, ({ input }) => {
      const h = parseFlvAudioTag(input);
      fuzzCheck(h.dataOffset >= 1 && h.dataOffset <= input.length, () => `data offset ${h.dataOffset} of ${input.length}`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.01);
  }, FUZZ_TIMEOUT);

  test('@setDataFrame forms: 100,000 inputs, never throw, strip and add are inverse', () => {
    const corpus = [withSetDataFrame(fromHex('02000a6f6e4d65746144617461 0500'.replace(/ /g, ''))), fromHex('02000a6f6e4d657461446174610500'), SET_DATA_FRAME];
    const starts = (b: Uint8Array) => b.length >= SET_DATA_FRAME.length && SET_DATA_FRAME.every((x, i) => b[i] === x);
    const r = fuzz('flv metadata forms', { seed: 0xf1f4, corpus, dictionary: [SET_DATA_FRAME], allowed: [] }, ({ input }) => {
      const stripped = stripSetDataFrame(input);
      fuzzCheck(stripped.length === (starts(input) ? input.length - SET_DATA_FRAME.length : input.length), 'strip removes exactly the prefix');
      const added = withSetDataFrame(stripped);
      fuzzCheck(starts(added), 'add gives the form with the prefix');
      // one prefix is managed: a body that still starts with one (sent twice) is kept as it is
      if (starts(stripped)) fuzzCheck(added === stripped, 'a prefixed body is returned itself');
      else fuzzCheck(Bun.deepEquals(stripSetDataFrame(added), stripped), 'add then strip gives the stripped form');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
