/**
 * Seeded fuzz test of the compound RTCP parser (issue #9): 100,000 random and mutated packets,
 * only ParseError may escape, and what decodes re-encodes to packets that decode the same.
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { FFMPEG_H264_AAC_CAPTURE } from './_testing.ts';
import { decodeRtcpPackets, encodeRtcpPackets, RtcpPacketType } from './rtcp.ts';

const block = { ssrc: 9, fractionLost: 3, packetsLost: -2, highestSequence: 0x10005, jitter: 40, lastSenderReport: 0x12345678, delaySinceLastSenderReport: 65536 };
const CORPUS = [
  fromHex(FFMPEG_H264_AAC_CAPTURE.frames[0]).subarray(4), // a real sender report
  encodeRtcpPackets([
    { kind: 'sr', ssrc: 1, ntp: { seconds: 3900000000, fraction: 0x80000000 }, rtpTimestamp: 90000, packetCount: 10, octetCount: 12000, reports: [block] },
    { kind: 'rr', ssrc: 2, reports: [block, { ...block, ssrc: 10 }], extension: fromHex('01020304'), paddingSize: 4 },
    { kind: 'other', packetType: RtcpPacketType.SourceDescription, count: 1, body: fromHex('00000001010568656c6c6f00') },
    { kind: 'other', packetType: RtcpPacketType.Goodbye, count: 1, body: fromHex('00000001') },
  ]),
];

describe('decodeRtcpPackets fuzz', () => {
  test('100,000 inputs: only ParseError, decode → encode → decode is stable', () => {
    const r = fuzz('rtcp', { seed: 0x47c9, corpus: CORPUS, dictionary: [fromHex('80c8'), fromHex('81c9'), fromHex('a0')] }, ({ input }) => {
      const packets = decodeRtcpPackets(input);
      const again = decodeRtcpPackets(encodeRtcpPackets(packets));
      fuzzCheck(Bun.deepEquals(again, packets), 'round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.2);
  }, FUZZ_TIMEOUT);
});
