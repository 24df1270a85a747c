/**
 * Seeded fuzz test of the RTP packet parser (issue #9): 100,000 random and mutated packets, only
 * ParseError may escape, and what decodes re-encodes to a packet that decodes the same.
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { FFMPEG_H264_AAC_CAPTURE } from './_testing.ts';
import { decodeRtpPacket, encodeRtpPacket } from './packet.ts';

const CORPUS = [
  encodeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 0x12345678 }, fromHex('6588840021')),
  encodeRtpPacket({ marker: false, payloadType: 97, sequenceNumber: 1, timestamp: 3000, ssrc: 1, csrcs: [7, 8], extension: { profile: 0xbede, data: fromHex('10ff0000') }, paddingSize: 4 }, fromHex('001000a0')),
  fromHex(FFMPEG_H264_AAC_CAPTURE.frames[0]).subarray(4, 4 + 60),
];

describe('decodeRtpPacket fuzz', () => {
  test('100,000 inputs: only ParseError, decode → encode → decode is stable', () => {
    const r = fuzz('rtp packet', { seed: 0x4790, corpus: CORPUS, dictionary: [fromHex('80'), fromHex('b0'), fromHex('a0'), fromHex('bede')] }, ({ input }) => {
      const p = decodeRtpPacket(input);
      fuzzCheck(p.payload.byteOffset >= input.byteOffset + 12 && p.payload.byteOffset + p.payload.length <= input.byteOffset + input.length, 'payload inside the packet');
      const again = decodeRtpPacket(encodeRtpPacket(p.header, p.payload));
      fuzzCheck(Bun.deepEquals(again, p), 'round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.2);
  }, FUZZ_TIMEOUT);
});
