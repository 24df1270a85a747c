import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { parseFlvAudioTag, type FlvAudioTagInfo } from './audio-header.ts';

const cases: [string, string, FlvAudioTagInfo][] = [
  ['AAC sequence header', 'af00' + '1208', { soundFormat: 10, codec: 'aac', aacPacketType: 0, dataOffset: 2, soundRate: 3, soundSize: 1, soundType: 1 }],
  ['AAC raw frame', 'af01' + '21', { soundFormat: 10, codec: 'aac', aacPacketType: 1, dataOffset: 2, soundRate: 3, soundSize: 1, soundType: 1 }],
  ['AAC mono flags', 'ae01', { soundFormat: 10, codec: 'aac', aacPacketType: 1, dataOffset: 2, soundRate: 3, soundSize: 1, soundType: 0 }],
  ['G.711 A-law', '72' + 'd5d5', { soundFormat: 7, codec: 'g711a', dataOffset: 1, soundRate: 0, soundSize: 1, soundType: 0 }],
  ['G.711 µ-law', '82' + 'ffff', { soundFormat: 8, codec: 'g711u', dataOffset: 1, soundRate: 0, soundSize: 1, soundType: 0 }],
  ['Opus (LAL id 13)', 'df' + 'fc', { soundFormat: 13, codec: 'opus', dataOffset: 1, soundRate: 3, soundSize: 1, soundType: 1 }],
  ['MP3', '2f' + 'fffb', { soundFormat: 2, codec: 'mp3', dataOffset: 1, soundRate: 3, soundSize: 1, soundType: 1 }],
  ['Nellymoser is other', '6a' + '00', { soundFormat: 6, codec: 'other', dataOffset: 1, soundRate: 2, soundSize: 1, soundType: 0 }],
  ['enhanced audio (format 9) is other with FourCC', '90' + '4f707573' + '00', { soundFormat: 9, codec: 'other', fourcc: 'Opus', dataOffset: 5, soundRate: 0, soundSize: 0, soundType: 0 }],
];

describe('parseFlvAudioTag', () => {
  test.each(cases)('%s', (_n, h, want) => {
    expect(parseFlvAudioTag(Buffer.from(h, 'hex'))).toEqual(want);
  });

  test.each([['empty', ''], ['AAC without packet type', 'af']])('%s throws ParseError', (_n, h) => {
    expect(() => parseFlvAudioTag(Buffer.from(h, 'hex'))).toThrow(ParseError);
  });

  test('every first byte at every short length parses or throws ParseError only', () => {
    for (let b = 0; b < 256; b++) {
      for (let len = 0; len < 6; len++) {
        const buf = new Uint8Array(len);
        if (len > 0) buf[0] = b;
        try {
          expect(parseFlvAudioTag(buf).dataOffset).toBeLessThanOrEqual(len);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }
    }
  });
});
