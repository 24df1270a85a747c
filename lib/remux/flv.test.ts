import { describe, expect, test } from 'bun:test';
import { LalError } from '../core/errors.ts';
import type { AvPacket, VideoTrack } from '../core/packet.ts';
import { encodeAvcConfigRecord } from '../codec/h264/index.ts';
import { decodeHevcConfigRecord } from '../codec/h265/index.ts';
import { Amf0EcmaArray, decodeAmf0All, encodeAmf0 } from '../format/amf0/index.ts';
import { AvToFlvFile, audioSeqHeaderBody, avPacketToFlvBody, buildMetadata, enhancedHevcFrameBody, fileMetadata, fileVideoSeqHeaderBody, flvTagTypeOf, flvTimestampOf, videoSeqHeaderBody } from './flv.ts';
import { RtmpToAv } from './rtmp.ts';
import { fromHex, toHex } from '../core/testing.ts';

// Parameter sets of real encoder output (libx264 320x240 High; libx265 320x240 Main).
const AVC_SPS = fromHex('6764000dacd94141fb011000000300100000030320f1429960');
const AVC_PPS = fromHex('68ebe3cb22c0');
const HEVC_VPS = fromHex('40010c01ffff01600000030090000003000003003c959809');
const HEVC_SPS = fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc04040000003004000000642');
const HEVC_PPS = fromHex('4401c172b46240');

const h264Track: VideoTrack = { codec: 'h264', width: 320, height: 240, profile: 'High', level: 13, sps: [AVC_SPS], pps: [AVC_PPS] };
const h265Track: VideoTrack = { codec: 'h265', width: 320, height: 240, profile: 'Main', level: 60, sps: [HEVC_SPS], pps: [HEVC_PPS], vps: [HEVC_VPS] };

describe('buildMetadata (docs/media.md §2)', () => {
  test('AAC + H.264: onMetaData + object in LAL order, byte-exact', () => {
    const body = buildMetadata({ video: h264Track, audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: fromHex('1210') } });
    const str = (s: string) => toHex(Buffer.from(s)).padStart(0);
    const num = (v: number) => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return toHex(b); };
    const key = (k: string) => k.length.toString(16).padStart(4, '0') + str(k);
    expect(toHex(body)).toBe(
      '02000a' + str('onMetaData') + '03' +
      key('audiocodecid') + '00' + num(10) +
      key('videocodecid') + '00' + num(7) +
      key('version') + '02' + '0008' + str('lal0.1.0') +
      key('lal') + '02' + '0005' + str('0.1.0') +
      '000009',
    );
  });

  test.each([
    ['H.265 only', { video: h265Track }, { videocodecid: 12, version: 'lal0.1.0', lal: '0.1.0' }],
    ['G.711 + H.264: no audiocodecid (only AAC is reported)', { video: h264Track, audio: { codec: 'g711a' as const, sampleRate: 8000, channels: 1 } }, { videocodecid: 7, version: 'lal0.1.0', lal: '0.1.0' }],
    ['AAC only', { audio: { codec: 'aac' as const, sampleRate: 48000, channels: 2 } }, { audiocodecid: 10, version: 'lal0.1.0', lal: '0.1.0' }],
  ])('%s', (_n, tracks, want) => {
    const [name, obj] = decodeAmf0All(buildMetadata(tracks));
    expect(name).toBe('onMetaData');
    expect(obj).toEqual(want);
    expect(Object.keys(obj as object)).toEqual(Object.keys(want));
  });
});

describe('sequence header bodies', () => {
  test('H.264 from parameter sets: 17 00 00 00 00 + avcC', () => {
    const body = videoSeqHeaderBody(h264Track);
    expect(toHex(body)).toBe('1700000000' + toHex(encodeAvcConfigRecord({ sps: [AVC_SPS], pps: [AVC_PPS] })));
  });

  test('H.265 from parameter sets: legacy 1C 00 00 00 00 + hvcC with VPS/SPS/PPS', () => {
    const body = videoSeqHeaderBody(h265Track);
    expect(toHex(body.subarray(0, 5))).toBe('1c00000000');
    const rec = decodeHevcConfigRecord(body.subarray(5));
    expect([rec.vps.map(toHex), rec.sps.map(toHex), rec.pps.map(toHex), rec.lengthSize]).toEqual([[toHex(HEVC_VPS)], [toHex(HEVC_SPS)], [toHex(HEVC_PPS)], 4]);
  });

  test('a config record is reused as is', () => {
    const config = fromHex('01640016ffe1000467640016010004' + '68ee3cb0');
    expect(toHex(videoSeqHeaderBody({ ...h264Track, config }))).toBe('1700000000' + toHex(config));
  });

  test('codec other needs the received header', () => {
    expect(() => videoSeqHeaderBody({ ...h264Track, codec: 'other' })).toThrow(LalError);
  });

  test('audio: AAC is AF 00 + ASC, other codecs have none', () => {
    expect(toHex(audioSeqHeaderBody({ codec: 'aac', sampleRate: 44100, channels: 2, asc: fromHex('1210') })!)).toBe('af001210');
    expect(audioSeqHeaderBody({ codec: 'aac', sampleRate: 44100, channels: 2 })).toBeUndefined();
    expect(audioSeqHeaderBody({ codec: 'g711u', sampleRate: 8000, channels: 1 })).toBeUndefined();
    expect(audioSeqHeaderBody({ codec: 'opus', sampleRate: 48000, channels: 2 })).toBeUndefined();
  });
});

describe('avPacketToFlvBody builds docs/media.md §1/§6.3 bodies that RtmpToAv reads back', () => {
  const idr = fromHex('65888400ff');
  const sei = fromHex('0605ffee');
  const slice = fromHex('419a0203');
  const hIdr = fromHex('2601af0c');
  const hTrail = fromHex('0201d0');
  const cases: [string, AvPacket, string][] = [
    ['H.264 key with cts 40 ms', { kind: 'video', codec: 'h264', dts: 9000, pts: 12600, key: true, units: [sei, idr] },
      '1701000028' + '00000004' + toHex(sei) + '00000005' + toHex(idr)],
    ['H.264 inter with negative cts', { kind: 'video', codec: 'h264', dts: 9000, pts: 5400, key: false, units: [slice] },
      '2701ffffd8' + '00000004' + toHex(slice)],
    ['H.265 key (legacy id 12)', { kind: 'video', codec: 'h265', dts: 900, pts: 900, key: true, units: [hIdr] },
      '1c01000000' + '00000004' + toHex(hIdr)],
    ['H.265 inter', { kind: 'video', codec: 'h265', dts: 900, pts: 4500, key: false, units: [hTrail] },
      '2c01000028' + '00000003' + toHex(hTrail)],
    ['AAC raw', { kind: 'audio', codec: 'aac', dts: 1800, pts: 1800, key: true, units: [fromHex('21100460')] }, 'af01' + '21100460'],
    ['G.711 A-law', { kind: 'audio', codec: 'g711a', dts: 1800, pts: 1800, key: true, units: [fromHex('d5d5')] }, '72d5d5'],
    ['G.711 µ-law', { kind: 'audio', codec: 'g711u', dts: 1800, pts: 1800, key: true, units: [fromHex('ffff')] }, '82ffff'],
    ['Opus', { kind: 'audio', codec: 'opus', dts: 1800, pts: 1800, key: true, units: [fromHex('fc0102')] }, 'dffc0102'],
  ];

  test.each(cases)('%s', (_n, pkt, want) => {
    const body = avPacketToFlvBody(pkt);
    expect(toHex(body)).toBe(want);
    const r = new RtmpToAv();
    if (pkt.codec === 'aac') r.push({ type: 8, timestamp: 0, body: fromHex('af001210') });
    const res = r.push({ type: flvTagTypeOf(pkt), timestamp: flvTimestampOf(pkt), body });
    expect(res.kind).toBe('packet');
    if (res.kind !== 'packet') return;
    const { flvBody, units, ...rest } = res.packet;
    expect(flvBody).toBe(body);
    expect(units.map(toHex)).toEqual(pkt.units.map(toHex));
    expect(rest).toEqual({ kind: pkt.kind, codec: pkt.codec, dts: pkt.dts, pts: pkt.pts, key: pkt.key });
  });

  test('flvBody wins over building', () => {
    const flvBody = fromHex('1701000000');
    const pkt: AvPacket = { kind: 'video', codec: 'h264', dts: 0, pts: 0, key: true, units: [idr], flvBody };
    expect(avPacketToFlvBody(pkt)).toBe(flvBody);
  });

  test('timestamps: FLV ms are the DTS truncated; tag types 9/8', () => {
    expect(flvTimestampOf({ kind: 'video', codec: 'h264', dts: 3000 * 90 + 89, pts: 0, key: false, units: [] })).toBe(3000);
    expect(flvTagTypeOf({ kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, units: [] })).toBe(8);
  });

  test('codecs without an FLV mapping and no flvBody are refused', () => {
    expect(() => avPacketToFlvBody({ kind: 'video', codec: 'other', dts: 0, pts: 0, key: true, units: [] })).toThrow(LalError);
    expect(() => avPacketToFlvBody({ kind: 'audio', codec: 'mp3', dts: 0, pts: 0, key: true, units: [fromHex('fffb')] })).toThrow(LalError);
  });
});

describe('fileMetadata: the onMetaData of an FLV file, with duration/filesize to patch', () => {
  const aac = { codec: 'aac' as const, sampleRate: 44100, channels: 2, asc: fromHex('1210') };
  test('built from the tracks when the stream has none (H.265 as enhanced hvc1)', () => {
    const [name, obj] = decodeAmf0All(fileMetadata({ video: h265Track, audio: aac }));
    expect(name).toBe('onMetaData');
    expect(obj).toEqual({ duration: 0, width: 320, height: 240, videocodecid: 0x68766331, audiocodecid: 10, audiosamplerate: 44100, stereo: true, encoder: 'lal 0.1.0', filesize: 0 });
    expect(Object.keys(decodeAmf0All(fileMetadata({ video: h264Track }))[1] as object)).toEqual(['duration', 'width', 'height', 'videocodecid', 'encoder', 'filesize']);
  });

  test("the stream's own metadata: placeholders added when missing, unchanged when present or not AMF0", () => {
    const lalMeta = buildMetadata({ video: h264Track, audio: aac });
    const [, obj] = decodeAmf0All(fileMetadata({ metadata: lalMeta, video: h264Track }));
    expect(obj).toEqual({ audiocodecid: 10, videocodecid: 7, version: 'lal0.1.0', lal: '0.1.0', duration: 0, filesize: 0 });
    const full = encodeAmf0('onMetaData', new Amf0EcmaArray({ duration: 4, filesize: 1000, width: 1 }));
    expect(fileMetadata({ metadata: full })).toBe(full);
    const junk = fromHex('0200036162630a');
    expect(fileMetadata({ metadata: junk })).toBe(junk);
  });
});

describe('AvToFlvFile', () => {
  test('metadata first (built when the input has none), sequence headers on change, frames at floor(dts / 90)', () => {
    const tags: [number, number, string][] = [];
    const f = new AvToFlvFile({ tag: (type, ts, body) => tags.push([type, ts, toHex(body)]) });
    const tracks = { video: h265Track };
    f.tracks(tracks);
    const p: AvPacket = { kind: 'video', codec: 'h265', dts: 6006, pts: 6006, key: true, units: [fromHex('2601af0c')] };
    f.packet(p);
    f.tracks({ video: { ...h265Track, sps: [HEVC_SPS] } }); // a new track object: a new sequence header
    expect(tags.map((t) => [t[0], t[1]])).toEqual([[18, 0], [9, 0], [9, 66], [9, 66]]);
    expect(tags[0][2]).toBe(toHex(fileMetadata(tracks)));
    expect(tags[1][2]).toBe(toHex(fileVideoSeqHeaderBody(h265Track)!));
    expect(tags[1][2].slice(0, 10)).toBe('9068766331'); // enhanced SequenceStart, hvc1
    expect(tags[2][2]).toBe(toHex(enhancedHevcFrameBody(p)));
    expect(tags[2][2].slice(0, 10)).toBe('9368766331'); // key, CodedFramesX (no composition time)
    expect([f.builtMetadata, f.hasVideo, f.hasAudio]).toEqual([true, true, false]);
  });

  test("the input's metadata and FLV bodies are forwarded as they are", () => {
    const tags: [number, number, Uint8Array][] = [];
    const f = new AvToFlvFile({ tag: (type, ts, body) => tags.push([type, ts, body]) });
    const metadata = buildMetadata({ audio: { codec: 'aac', sampleRate: 44100, channels: 2 } });
    const flvBody = fromHex('af0121');
    f.tracks({ metadata, audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: fromHex('1210') } });
    f.packet({ kind: 'audio', codec: 'aac', dts: 90 * 23, pts: 90 * 23, key: true, units: [fromHex('21')], flvBody });
    expect(tags.map((t) => [t[0], t[1]])).toEqual([[18, 0], [8, 0], [8, 23]]);
    expect(tags[0][2]).toBe(metadata);
    expect(tags[2][2]).toBe(flvBody);
    expect(f.builtMetadata).toBe(false);
  });
});
