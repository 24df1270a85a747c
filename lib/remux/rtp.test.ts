import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual } from '../core/bytes.ts';
import { ParseError } from '../core/errors.ts';
import { mulberry32 } from '../core/testing.ts';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { FlvReader } from '../format/flv/reader.ts';
import { encodeAmf0 } from '../format/amf0/index.ts';
import { decodeRtpPacket, type RtpPacket } from '../protocol/rtp/packet.ts';
import { RtmpToAv } from './rtmp.ts';
import { AvToRtp, RtpToAv, RTP_OUT_ANALYSIS_PACKETS, metadataCodecs, rtpOutReady, rtpOutTracks, type RtpIngestItem } from './rtp.ts';

const FIXTURES = join(import.meta.dir, '../../fixtures');


/** A fixture FLV → its final TrackInfo and its AvPackets (in file order). */
function loadFlv(name: string): { tracks: TrackInfo; packets: AvPacket[] } {
  const ingest = new RtmpToAv();
  const packets: AvPacket[] = [];
  let tracks: TrackInfo = {};
  for (const tag of new FlvReader().feed(readFileSync(join(FIXTURES, name)))) {
    const r = ingest.push({ type: tag.type, timestamp: tag.timestamp, body: tag.body });
    if (r.kind === 'tracks') tracks = r.tracks;
    else if (r.kind === 'packet') {
      if (r.tracksChanged) tracks = r.tracksChanged;
      if (r.packet.units.length > 0 && r.packet.codec !== 'other') packets.push(r.packet);
    }
  }
  return { tracks, packets };
}

/** AvPackets → RTP (one stream) → RtpToAv built from the generated SDP. */
function roundTrip(tracks: TrackInfo, packets: AvPacket[], opts: { shuffle?: boolean } = {}) {
  const out = new AvToRtp(tracks);
  const perTrack: RtpPacket[][] = out.sdp.tracks.map(() => []);
  for (const p of packets) {
    const r = out.packetize(p, 0);
    if (!r) continue;
    for (const raw of r.batch.packets) perTrack[r.track].push(decodeRtpPacket(raw));
  }
  const inn = new RtpToAv(out.sdp.text);
  const items: RtpIngestItem[] = [];
  const rnd = mulberry32(7);
  for (let t = 0; t < perTrack.length; t++) {
    let list = perTrack[t];
    if (opts.shuffle) {
      inn.setReorder(t, true);
      list = list.slice();
      // swap neighbours at random: what UDP reordering looks like
      // (the first packet sets the re-order start: anything older would count as late)
      for (let i = 1; i + 1 < list.length; i++) {
        if (rnd() < 0.3) [list[i], list[i + 1]] = [list[i + 1], list[i]];
      }
    }
    for (const p of list) items.push(...inn.push(t, p));
  }
  items.push(...inn.flush());
  return { out, inn, items, got: items.filter((i) => i.kind === 'packet').map((i) => (i as { packet: AvPacket }).packet) };
}

function sameUnits(a: AvPacket[], b: AvPacket[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    // AUDs are not packetised (docs/media.md §5.2)
    const want = a[i].units.filter((u) => !(a[i].codec === 'h264' ? (u[0] & 0x1f) === 9 : a[i].codec === 'h265' ? ((u[0] >> 1) & 0x3f) === 35 : false));
    expect(b[i].units.length).toBe(want.length);
    for (let j = 0; j < want.length; j++) expect(bytesEqual(b[i].units[j], want[j])).toBe(true);
    expect(b[i].key).toBe(a[i].key);
  }
}

describe('AvToRtp → RtpToAv round trip over real fixtures', () => {
  test('H.264 + AAC (h264-aac.flv): same access units and frames, timestamps zero-based per track', () => {
    const { tracks, packets } = loadFlv('h264-aac.flv');
    const { out, inn, got } = roundTrip(tracks, packets);
    expect(out.sdp.tracks.map((t) => [t.kind, t.codec, t.payloadType])).toEqual([['video', 'h264', 96], ['audio', 'aac', 97]]);
    expect(out.sdp.text).toContain('a=control:streamid=1\r\n');
    const v = packets.filter((p) => p.kind === 'video');
    const a = packets.filter((p) => p.kind === 'audio');
    sameUnits(v, got.filter((p) => p.kind === 'video'));
    sameUnits(a, got.filter((p) => p.kind === 'audio'));
    // TrackInfo from the SDP: size via the SPS, ASC kept
    expect(inn.trackInfo.video?.width).toBe(320);
    expect(inn.trackInfo.video?.height).toBe(240);
    expect(inn.trackInfo.video?.profile).toBe(tracks.video!.profile);
    expect(bytesEqual(inn.trackInfo.audio!.asc!, tracks.audio!.asc!)).toBe(true);
    expect(inn.trackInfo.audio?.sampleRate).toBe(44100);
    expect(inn.trackInfo.metadata).toBeDefined();
    // A/V queue: each track starts at 0 and keeps its steps (audio within 1 ms of rounding)
    const gv = got.filter((p) => p.kind === 'video');
    const ga = got.filter((p) => p.kind === 'audio');
    gv.forEach((p, i) => expect(p.dts).toBe(v[i].dts - v[0].dts));
    ga.forEach((p, i) => expect(Math.abs(p.dts - (a[i].dts - a[0].dts))).toBeLessThanOrEqual(90));
    // merged in timestamp order
    for (let i = 1; i < got.length; i++) {
      if (got[i].kind !== got[i - 1].kind) expect(got[i].dts).toBeGreaterThanOrEqual(got[i - 1].dts - 90 * 1000);
    }
  });

  test('H.265 (h265-legacy.flv): VPS/SPS/PPS in the SDP, same access units', () => {
    const { tracks, packets } = loadFlv('h265-legacy.flv');
    const { out, inn, got } = roundTrip(tracks, packets);
    expect(out.sdp.tracks.map((t) => [t.codec, t.payloadType])).toEqual([['h265', 98]]);
    sameUnits(packets, got);
    expect(inn.trackInfo.video?.codec).toBe('h265');
    expect(inn.trackInfo.video?.width).toBe(320);
    expect(inn.trackInfo.video?.vps?.length).toBe(1);
    // video only: no A/V queue, RTP-derived absolute timestamps
    expect(got[1].dts - got[0].dts).toBe(packets[1].dts - packets[0].dts);
  });

  test('UDP re-ordering: shuffled packets give the same output', () => {
    const { tracks, packets } = loadFlv('h264-aac.flv');
    const a = roundTrip(tracks, packets).got;
    const b = roundTrip(tracks, packets, { shuffle: true }).got;
    sameUnits(a, b);
  });

  test('G.711 A-law and Opus tracks (payload = frame)', () => {
    for (const [codec, pt, rate] of [['g711a', 8, 8000], ['g711u', 0, 8000], ['opus', 101, 48000]] as const) {
      const tracks: TrackInfo = { audio: { codec, sampleRate: rate, channels: codec === 'opus' ? 2 : 1 } };
      const frames: AvPacket[] = [];
      for (let i = 0; i < 10; i++) {
        const t = i * 20 * 90; // 20 ms frames
        frames.push({ kind: 'audio', codec, dts: t, pts: t, key: true, units: [new Uint8Array(codec === 'opus' ? 60 : 160).fill(i)] });
      }
      const { out, inn, got } = roundTrip(tracks, frames);
      expect(out.sdp.tracks[0].payloadType).toBe(pt);
      expect(out.sdp.tracks[0].clockRate).toBe(rate);
      sameUnits(frames, got);
      expect(got[3].dts - got[2].dts).toBe(20 * 90);
      expect(inn.trackInfo.audio).toEqual({ codec, sampleRate: rate, channels: codec === 'opus' ? 2 : 1 });
    }
  });
});

describe('RtpToAv', () => {
  const H264_SDP = (fmtp: string) =>
    `v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n${fmtp}a=control:streamid=0\r\n`;

  test('an SDP without parameter sets yields video TrackInfo from in-band SPS/PPS, and a change updates it', () => {
    const { tracks, packets } = loadFlv('h264-only.flv');
    const sps = tracks.video!.sps[0];
    const pps = tracks.video!.pps[0];
    const inn = new RtpToAv(H264_SDP(''));
    expect(inn.trackInfo.video).toBeUndefined();
    const out = new AvToRtp(tracks);
    let seq = 0;
    const feed = (units: Uint8Array[], key: boolean, dts: number) => {
      const r = out.packetize({ kind: 'video', codec: 'h264', dts, pts: dts, key, units }, 0)!;
      const items: RtpIngestItem[] = [];
      for (const raw of r.batch.packets) {
        seq++;
        items.push(...inn.push(0, decodeRtpPacket(raw)));
      }
      return items;
    };
    const first = feed([sps, pps, ...packets[0].units], true, 0);
    // the access unit is emitted when the next timestamp arrives or on the marker: here the marker
    expect(first[0]).toEqual({ kind: 'tracks', tracks: inn.trackInfo });
    expect(inn.trackInfo.video?.width).toBe(320);
    const same = feed([sps, pps, ...packets[25].units], true, 3600);
    expect(same.filter((i) => i.kind === 'tracks')).toEqual([]);
    const sps2 = sps.slice();
    sps2[sps2.length - 1] ^= 0x01; // a different SPS (trailing bits differ)
    const changed = feed([sps2, pps, ...packets[40].units], true, 7200);
    expect(changed[0].kind).toBe('tracks');
    expect(bytesEqual(inn.trackInfo.video!.sps[0], sps2)).toBe(true);
    expect(seq).toBeGreaterThan(3);
  });

  test('packets of another payload type, unknown tracks and garbage never throw', () => {
    const { tracks } = loadFlv('h264-only.flv');
    const out = new AvToRtp(tracks);
    const inn = new RtpToAv(out.sdp.text);
    const rnd = mulberry32(3);
    for (let i = 0; i < 300; i++) {
      const n = 12 + Math.floor(rnd() * 200);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rnd() * 256);
      b[0] = 0x80;
      b[1] = rnd() < 0.5 ? 96 : Math.floor(rnd() * 128);
      let pkt: RtpPacket;
      try {
        pkt = decodeRtpPacket(b);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        continue;
      }
      expect(() => inn.push(0, pkt)).not.toThrow();
      expect(inn.push(5, pkt)).toEqual([]);
    }
    expect(() => inn.flush()).not.toThrow();
    expect(inn.dropCount).toBeGreaterThan(0);
  });

  test('track selection: AAC without config is not depacketised; no usable track is a ParseError', () => {
    const aacNoConfig =
      'v=0\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 mode=AAC-hbr;sizelength=13\r\na=control:t1\r\n' +
      'm=audio 0 RTP/AVP 8\r\na=control:t2\r\n';
    const r = new RtpToAv(aacNoConfig);
    expect(r.audioIndex).toBe(1); // static PT 8 = PCMA
    expect(r.isDepacketised(0)).toBe(false);
    expect(r.trackInfo.audio).toEqual({ codec: 'g711a', sampleRate: 8000, channels: 1 });
    expect(() => new RtpToAv('v=0\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 14\r\n')).toThrow(ParseError);
    expect(() => new RtpToAv('not an sdp')).toThrow(ParseError);
  });
});

describe('RTMP → RTSP analysis (docs/media.md §5.1)', () => {
  const meta = (o: Record<string, number>) => encodeAmf0('onMetaData', o);

  test('metadataCodecs reads the audio/video codec ids and rate', () => {
    expect(metadataCodecs(meta({ audiocodecid: 7, audiosamplerate: 16000, videocodecid: 7 }))).toEqual({ audioCodecId: 7, audioSampleRate: 16000, videoCodecId: 7 });
    expect(metadataCodecs(Uint8Array.of(1, 2, 3))).toEqual({});
    expect(metadataCodecs(undefined)).toEqual({});
  });

  test('rtpOutReady waits for video parameter sets and the audio codec, or 16 packets', () => {
    const { tracks } = loadFlv('h264-aac.flv');
    expect(rtpOutReady(tracks, 0)).toBe(true);
    const videoOnly: TrackInfo = { video: tracks.video };
    expect(rtpOutReady(videoOnly, RTP_OUT_ANALYSIS_PACKETS - 1)).toBe(false);
    expect(rtpOutReady(videoOnly, RTP_OUT_ANALYSIS_PACKETS)).toBe(true);
    expect(rtpOutReady({}, 100)).toBe(false);
    // the metadata announces G.711 before its first frame: described at once, at the metadata rate
    const announced: TrackInfo = { video: tracks.video, metadata: meta({ audiocodecid: 7, audiosamplerate: 16000 }) };
    expect(rtpOutReady(announced, 0)).toBe(true);
    expect(rtpOutTracks(announced).audio).toEqual({ codec: 'g711a', sampleRate: 16000, channels: 1 });
    expect(new AvToRtp(announced).sdp.text).toContain('a=rtpmap:8 PCMA/16000\r\n');
  });

  test('packets of undescribed codecs are skipped', () => {
    const { tracks, packets } = loadFlv('h264-aac.flv');
    const out = new AvToRtp({ video: tracks.video });
    const audio = packets.find((p) => p.kind === 'audio')!;
    expect(out.trackOf(audio)).toBe(-1);
    expect(out.packetize(audio, 0)).toBeUndefined();
    const r = out.packetize(packets.find((p) => p.kind === 'video')!, 2)!;
    expect(r.track).toBe(0);
    expect(r.batch.interleaved[1]).toBe(2);
  });
});
