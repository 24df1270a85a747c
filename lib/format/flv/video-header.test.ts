import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { parseFlvVideoTag, type FlvVideoTagInfo } from './video-header.ts';

type Want = Omit<FlvVideoTagInfo, 'fourcc'> & { fourcc?: string };
const C = (frameType: number, codecId: number, packetType: Want['packetType'], cts: number, codec: Want['codec'], dataOffset = 5): Want =>
  ({ enhanced: false, frameType, codecId, packetType, cts, dataOffset, codec });
const E = (frameType: number, fourcc: string | undefined, packetType: Want['packetType'], cts: number, dataOffset: number, codec: Want['codec'], codecId: number): Want => {
  const w: Want = { enhanced: true, frameType, codecId, packetType, cts, dataOffset, codec };
  if (fourcc !== undefined) w.fourcc = fourcc;
  return w;
};
const fc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

const cases: [string, string, Want][] = [
  ['AVC sequence header', '1700000000' + '0164', C(1, 7, 'seq', 0, 'h264')],
  ['AVC key frame cts 80', '1701000050' + '00000001', C(1, 7, 'nalu', 80, 'h264')],
  ['AVC inter frame negative cts', '2701ffffd8' + '00', C(2, 7, 'nalu', -40, 'h264')],
  ['ffmpeg end of sequence (lal#115)', '1702000000', C(1, 7, 'eos', 0, 'h264')],
  ['AVC unknown packet type', '1703000000', C(1, 7, 'other', 0, 'h264')],
  ['HEVC legacy id 12 sequence header', '1c00000000' + '01', C(1, 12, 'seq', 0, 'h265')],
  ['HEVC legacy id 12 inter frame', '2c01000028', C(2, 12, 'nalu', 40, 'h265')],
  ['Sorenson H.263 is opaque', '22' + 'abcd', C(2, 2, 'other', 0, 'other', 1)],
  ['AVC command frame is opaque', '5701', C(5, 7, 'other', 0, 'h264', 1)],
  ['enhanced hvc1 SequenceStart', '90' + fc('hvc1') + '01', E(1, 'hvc1', 'seq', 0, 5, 'h265', 12)],
  ['enhanced hvc1 CodedFrames with cts', '91' + fc('hvc1') + '0000c8' + '00', E(1, 'hvc1', 'nalu', 200, 8, 'h265', 12)],
  ['enhanced hvc1 CodedFramesX', 'a3' + fc('hvc1'), E(2, 'hvc1', 'nalu', 0, 5, 'h265', 12)],
  ['enhanced hvc1 SequenceEnd', '92' + fc('hvc1'), E(1, 'hvc1', 'eos', 0, 5, 'h265', 12)],
  ['enhanced avc1 CodedFrames negative cts', 'a1' + fc('avc1') + 'fffffe', E(2, 'avc1', 'nalu', -2, 8, 'h264', 7)],
  ['enhanced hvc1 Metadata', '94' + fc('hvc1') + '02', E(1, 'hvc1', 'other', 0, 5, 'h265', 12)],
  ['enhanced av01 SequenceStart (unknown FourCC)', '90' + fc('av01') + '81', E(1, 'av01', 'seq', 0, 5, 'other', 0)],
  ['enhanced av01 CodedFrames has no cts', '91' + fc('av01') + '12', E(1, 'av01', 'nalu', 0, 5, 'other', 0)],
  ['enhanced av01 MPEG2TSSequenceStart', '95' + fc('av01'), E(1, 'av01', 'other', 0, 5, 'other', 0)],
  ['enhanced vp09 SequenceEnd', '92' + fc('vp09'), E(1, 'vp09', 'eos', 0, 5, 'other', 0)],
  ['enhanced Multitrack is opaque', '96' + '00' + fc('hvc1'), E(1, undefined, 'other', 0, 1, 'other', 0)],
  ['enhanced ModEx is opaque', '97' + '00', E(1, undefined, 'other', 0, 1, 'other', 0)],
  ['enhanced command frame is opaque', 'd0' + '01', E(5, undefined, 'other', 0, 1, 'other', 0)],
];

describe('parseFlvVideoTag', () => {
  test.each(cases)('%s', (_n, h, want) => {
    expect(parseFlvVideoTag(Buffer.from(h, 'hex'))).toEqual(want);
  });

  test.each([
    ['empty', ''],
    ['AVC header cut', '170100'],
    ['HEVC legacy header cut', '2c01'],
    ['enhanced FourCC cut', '90687663'],
    ['enhanced CodedFrames cts cut', '91' + fc('hvc1') + '00'],
  ])('%s throws ParseError (truncated)', (_n, h) => {
    try {
      parseFlvVideoTag(Buffer.from(h, 'hex'));
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).code).toBe('truncated');
    }
  });

  test('every one-byte-prefixed buffer parses or throws ParseError only', () => {
    for (let b = 0; b < 256; b++) {
      for (let len = 0; len < 9; len++) {
        const buf = new Uint8Array(len).fill(0x41);
        if (len > 0) buf[0] = b;
        try {
          const info = parseFlvVideoTag(buf);
          expect(info.dataOffset).toBeLessThanOrEqual(len);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }
    }
  });
});
