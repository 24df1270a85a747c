/**
 * Seeded fuzz test of the SDP parser and track extraction (issue #9): 100,000 random and mutated
 * session descriptions (bytes decoded as UTF-8 or Latin-1, as an RTSP body may arrive). Only
 * ParseError may escape, and what parses survives serialize → parse unchanged.
 */
import { describe, expect, test } from 'bun:test';
import { encodeAsc } from '../../codec/aac/asc.ts';
import { FIXTURE_ASC, H264_VECTORS, H265_VECTORS } from '../../codec/_testing.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { generateSdp } from './generate.ts';
import { parseSdp, sdpTracks } from './parse.ts';
import { serializeSdp } from './serialize.ts';

const h264 = H264_VECTORS[0];
const h265 = H265_VECTORS[0];
const TEXTS = [
  generateSdp({
    video: { codec: 'h264', width: 640, height: 360, profile: 'High', level: 30, sps: [fromHex(h264.sps)], pps: [fromHex(h264.pps)] },
    audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: fromHex(FIXTURE_ASC) },
  }).text,
  generateSdp({
    video: { codec: 'h265', width: 1280, height: 720, profile: 'Main', level: 93, vps: [fromHex(h265.vps)], sps: [fromHex(h265.sps)], pps: [fromHex(h265.pps)] },
    audio: { codec: 'g711a', sampleRate: 8000, channels: 1 },
  }).text,
  generateSdp({ audio: { codec: 'opus', sampleRate: 48000, channels: 2 } }).text,
  generateSdp({ audio: { codec: 'aac', sampleRate: 48000, channels: 1, asc: encodeAsc({ objectType: 2, sampleRate: 48000, channels: 1 }) } }).text,
  // a camera's description: session attributes, i=/e=/b= lines, static payload type, odd attributes
  'v=0\r\no=- 1109162014219182 0 IN IP4 0.0.0.0\r\ns=HIK Media Server V3.4.103\r\ni=standard\r\ne=NONE\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\nb=AS:1034\r\n' +
    'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42C00D;packetization-mode=0;sprop-parameter-sets=Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=\r\na=control:trackID=video\r\nb=AS:1024\r\n' +
    'm=audio 0/2 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=control:rtsp://10.0.0.1/ch1/audio\r\na=Media_header:MEDIAINFO=494D4B;\r\n',
];
const DICT = ['\r\n', '\n', 'a=', 'm=', 'v=0', 'c=IN IP4 ', 'rtpmap:', 'fmtp:', 'control:', ' ', '/', ';', '=', ',', ':', 'H264/90000', 'H265/90000',
  'MPEG4-GENERIC/44100/2', 'opus/48000/2', 'sprop-parameter-sets=', 'sprop-vps=', 'config=', 'RTP/AVP', '65536', '128', '999999999999'].map(utf8Encode);

describe('parseSdp fuzz', () => {
  test('100,000 inputs: only ParseError, tracks extracted, serialize → parse is stable (on a sample)', () => {
    const r = fuzz('sdp parse', { seed: 0x5d9, corpus: TEXTS.map(utf8Encode), dictionary: DICT, maxRandomLength: 200 }, ({ input, rnd }) => {
      const sdp = parseSdp(rnd() < 0.8 ? utf8Decode(input) : latin1(input));
      const tracks = sdpTracks(sdp);
      for (const t of tracks) fuzzCheck(t.payloadType >= 0 && t.payloadType <= 127 && t.clockRate > 0, () => `track ${JSON.stringify(t)}`);
      if (rnd() < 0.7) return; // the round trip on 30% of the accepted inputs keeps the run short
      const again = parseSdp(serializeSdp(sdp));
      fuzzCheck(Bun.deepEquals(again, sdp), 'serialize → parse gives the same description');
      fuzzCheck(Bun.deepEquals(sdpTracks(again), tracks), 'and the same tracks');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.05);
  }, FUZZ_TIMEOUT);
});
