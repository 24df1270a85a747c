/**
 * Seeded fuzz test of RTMP/FLV tag body → AvPacket conversion (issue #9): the video/audio tag
 * headers, AVC/HEVC config records, SPS, ASC and NAL length prefixes as a publisher sends them.
 * 100,000 random and mutated message sequences; `push` may throw only ParseError (a sequence
 * header that cannot be used), and what it returns is well formed.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../core/bytes.ts';
import { encodeAsc } from '../codec/aac/asc.ts';
import { encodeAvcConfigRecord } from '../codec/h264/config-record.ts';
import { encodeHevcConfigRecord } from '../codec/h265/config-record.ts';
import { FIXTURE_ASC, H264_VECTORS, H265_VECTORS } from '../codec/_testing.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../core/testing.ts';
import { encodeAmf0 } from '../format/amf0/encode.ts';
import { FlvTagType } from '../format/flv/tag.ts';
import { RtmpToAv } from './rtmp.ts';

const fc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const avcc = encodeAvcConfigRecord({ sps: [fromHex(H264_VECTORS[0].sps)], pps: [fromHex(H264_VECTORS[0].pps)] });
const h = H265_VECTORS[0];
const hvcc = encodeHevcConfigRecord({ vps: [fromHex(h.vps)], sps: [fromHex(h.sps)], pps: [fromHex(h.pps)] });
const nalus = (...units: Uint8Array[]) => concat(units.flatMap((u) => [Uint8Array.of(0, 0, u.length >> 8, u.length & 0xff), u]));

/** Messages as `type u8 | length u16 | body` back to back: the fuzz input format. */
function messages(list: [number, Uint8Array][]): Uint8Array {
  return concat(list.flatMap(([type, body]) => [Uint8Array.of(type, body.length >> 8, body.length & 0xff), body]));
}
function parseMessages(b: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  for (let off = 0; off + 3 <= b.length; ) {
    const len = (b[off + 1] << 8) | b[off + 2];
    out.push([b[off], b.subarray(off + 3, Math.min(b.length, off + 3 + len))]);
    off += 3 + len;
  }
  return out;
}

const CORPUS = [
  messages([
    [FlvTagType.Script, encodeAmf0('@setDataFrame', 'onMetaData', { width: 640, videocodecid: 7, audiocodecid: 10 })],
    [FlvTagType.Video, concat([fromHex('1700000000'), avcc])],
    [FlvTagType.Audio, concat([fromHex('af00'), fromHex(FIXTURE_ASC)])],
    [FlvTagType.Video, concat([fromHex('1701000028'), nalus(fromHex('65888400ff'), fromHex('06050101'))])],
    [FlvTagType.Audio, fromHex('af0121100506')],
    [FlvTagType.Video, concat([fromHex('2701000000'), nalus(fromHex('419a2201'))])],
    [FlvTagType.Video, fromHex('1702000000')],
  ]),
  messages([
    [FlvTagType.Video, concat([fromHex('90'), fc('hvc1'), hvcc])],
    [FlvTagType.Video, concat([fromHex('91'), fc('hvc1'), fromHex('000028'), nalus(fromHex('2601af0102'))])],
    [FlvTagType.Video, concat([fromHex('a3'), fc('hvc1'), nalus(fromHex('0201d00203'))])],
    [FlvTagType.Video, concat([fromHex('1c00000000'), hvcc])],
    [FlvTagType.Audio, concat([fromHex('af00'), encodeAsc({ objectType: 2, sampleRate: 48000, channels: 1 })])],
    [FlvTagType.Audio, fromHex('72d5d5d5')],
    [FlvTagType.Audio, fromHex('df01020304')],
  ]),
];

describe('RtmpToAv fuzz', () => {
  test('100,000 message sequences: only ParseError, well-formed packets and tracks', () => {
    const r = fuzz('remux rtmp → AvPacket', { seed: 0x4a7, corpus: CORPUS }, ({ input }) => {
      const conv = new RtmpToAv();
      for (const [type, body] of parseMessages(input)) {
        const res = conv.push({ type, timestamp: 40, body });
        if (res.kind === 'packet') {
          const p = res.packet;
          fuzzCheck(p.units.every((u) => u.length > 0) && Number.isFinite(p.dts) && Number.isFinite(p.pts), 'packet units and times');
          if (p.codec === 'h264' || p.codec === 'h265') fuzzCheck(p.units.length >= 1 && p.units.length <= 256, 'NAL count');
        } else if (res.kind === 'tracks') {
          const v = res.tracks.video;
          if (v && v.codec !== 'other') fuzzCheck(v.width > 0 && v.height > 0 && v.sps.length > 0, 'a usable video track');
          const a = res.tracks.audio;
          if (a) fuzzCheck(a.sampleRate > 0, 'an audio rate');
        }
      }
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.01);
  }, FUZZ_TIMEOUT);
});
