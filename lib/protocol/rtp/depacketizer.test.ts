import { describe, expect, test } from 'bun:test';
import { LalError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { parseH264Sps } from '../../codec/h264/sps.ts';
import { parseH265Sps } from '../../codec/h265/sps.ts';
import { parseSdp, sdpTracks } from '../../format/sdp/parse.ts';
import { RtpDepacketizer, depacketizerForTrack, totalDrops } from './depacketizer.ts';
import { decodeRtpPacket } from './packet.ts';
import type { RtpPacket } from './packet.ts';
import { RtpReorderBuffer } from './reorder.ts';
import { FFMPEG_H264_AAC_CAPTURE, FFMPEG_H265_PCMA_CAPTURE } from './_testing.ts';
import { fromHex, hostileInputs, mulberry32, outcome } from '../../core/testing.ts';
import type { RtspCapture } from './_testing.ts';

/** RTP packets of a capture per interleaved channel (even channels only; odd ones are RTCP). */
function rtpByChannel(cap: RtspCapture): Map<number, RtpPacket[]> {
  const out = new Map<number, RtpPacket[]>();
  for (const f of cap.frames) {
    const b = fromHex(f);
    expect(b[0]).toBe(0x24);
    expect(((b[2] << 8) | b[3]) + 4).toBe(b.length);
    if (b[1] % 2 === 1) continue;
    const list = out.get(b[1]) ?? [];
    list.push(decodeRtpPacket(b.subarray(4)));
    out.set(b[1], list);
  }
  return out;
}

function depacketizeAll(d: RtpDepacketizer, packets: RtpPacket[]): AvPacket[] {
  const out: AvPacket[] = [];
  for (const p of packets) out.push(...d.push(p));
  out.push(...d.flush());
  return out;
}

const summary = (ps: AvPacket[], typeOf: (u: Uint8Array) => number) =>
  ps.map((p) => [p.dts - ps[0].dts, p.key, p.units.map((u) => `${typeOf(u)}:${u.length}`).join(' ')]);
const h264Type = (u: Uint8Array) => u[0] & 0x1f;
const h265Type = (u: Uint8Array) => (u[0] >> 1) & 0x3f;

describe('ffmpeg RTSP captures (interop)', () => {
  test('H.264 + AAC: SDP tracks, FU-A and single NALs, six AUs in one AAC packet', () => {
    const [vt, at] = sdpTracks(parseSdp(FFMPEG_H264_AAC_CAPTURE.sdp));
    expect(parseH264Sps(vt.sps![0])).toMatchObject({ width: 160, height: 120 });
    expect(at).toMatchObject({ codec: 'aac', clockRate: 16000, channels: 1 });
    const byCh = rtpByChannel(FFMPEG_H264_AAC_CAPTURE);
    const video = depacketizeAll(depacketizerForTrack(vt)!, byCh.get(0)!);
    // 10 fps, B-frames: RTP timestamps are PTS, so they arrive in decode order
    expect(summary(video, h264Type)).toEqual([
      [0, true, '6:684 5:2523'],
      [18000, false, '1:1314'],
      [9000, false, '1:686'],
      [36000, false, '1:1256'],
      [27000, false, '1:618'],
    ]);
    const ad = depacketizerForTrack(at)!;
    const audio = depacketizeAll(ad, byCh.get(2)!);
    expect(audio.map((p) => p.units[0].length)).toEqual([184, 235, 180, 199, 181, 188]);
    expect(audio.map((p) => p.dts - audio[0].dts)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * 5760)); // 1024 samples at 16 kHz
    expect(totalDrops(ad.drops)).toBe(0);
  });

  test('H.265 + PCMA: FU with `62 01`, single NALs, static PT 8', () => {
    const [vt, at] = sdpTracks(parseSdp(FFMPEG_H265_PCMA_CAPTURE.sdp));
    expect(parseH265Sps(vt.sps![0])).toMatchObject({ width: 160, height: 120 });
    expect(at).toMatchObject({ codec: 'g711a', payloadType: 8, clockRate: 8000 });
    const byCh = rtpByChannel(FFMPEG_H265_PCMA_CAPTURE);
    expect(byCh.get(0)![0].payload.subarray(0, 3)).toEqual(fromHex('620194'));
    const video = depacketizeAll(depacketizerForTrack(vt)!, byCh.get(0)!);
    expect(summary(video, h265Type)).toEqual([
      [0, true, '20:1809'],
      [18000, false, '1:971'],
      [9000, false, '0:462'],
    ]);
    const audio = depacketizeAll(depacketizerForTrack(at)!, byCh.get(2)!);
    expect(audio.map((p) => [p.dts - audio[0].dts, p.units[0].length])).toEqual([
      [0, 1024],
      [11520, 1024],
      [23040, 352],
    ]);
  });

  test('over "UDP": shuffled and duplicated packets through the reorder buffer give the same access units', () => {
    for (const cap of [FFMPEG_H264_AAC_CAPTURE, FFMPEG_H265_PCMA_CAPTURE]) {
      const tracks = sdpTracks(parseSdp(cap.sdp));
      for (const [ch, packets] of rtpByChannel(cap)) {
        const track = tracks[ch / 2];
        const inOrder = depacketizeAll(depacketizerForTrack(track)!, packets);
        const rnd = mulberry32(ch + 1);
        const shuffled = packets.flatMap((p) => (rnd() < 0.3 ? [p, p] : [p]));
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.max(0, i - Math.floor(rnd() * 3));
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const reorder = new RtpReorderBuffer();
        const d = depacketizerForTrack(track)!;
        const got: AvPacket[] = [];
        // the first packet must come first: the buffer starts at whatever it sees first
        for (const p of [packets[0], ...shuffled]) for (const q of reorder.push(p)) got.push(...d.push(q));
        for (const q of reorder.flush()) got.push(...d.push(q));
        got.push(...d.flush());
        expect(got).toEqual(inOrder);
      }
    }
  });
});

describe('RtpDepacketizer', () => {
  test('picks the payload format from the codec; drops are counted, not thrown', () => {
    const d = new RtpDepacketizer({ codec: 'opus', clockRate: 48000, payloadType: 111 });
    expect(d.codec).toBe('opus');
    const header = { marker: true, payloadType: 111, sequenceNumber: 1, timestamp: 960, ssrc: 1 };
    expect(d.push({ header, payload: fromHex('fc') })).toMatchObject([{ codec: 'opus', dts: 1800 }]);
    d.push({ header: { ...header, payloadType: 0 }, payload: fromHex('fc') });
    expect(totalDrops(d.drops)).toBe(1);
    expect(d.flush()).toEqual([]);
  });

  test('depacketizerForTrack: nothing for mpa/other; AAC AU-header widths from the fmtp', () => {
    const tracks = sdpTracks(
      parseSdp(
        'm=audio 0 RTP/AVP 14\r\nm=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n' +
          'm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/16000/1\r\na=fmtp:97 mode=AAC-lbr;SizeLength=6;IndexLength=2;IndexDeltaLength=2\r\n',
      ),
    );
    expect(depacketizerForTrack(tracks[0])).toBeUndefined();
    expect(depacketizerForTrack(tracks[1])).toBeUndefined();
    const d = depacketizerForTrack(tracks[2])!;
    const out = d.push({ header: { marker: true, payloadType: 97, sequenceNumber: 0, timestamp: 0, ssrc: 1 }, payload: fromHex('0008 08 0102') });
    expect(out.map((p) => p.units[0])).toEqual([fromHex('0102')]);
  });

  test('options it cannot honour are refused', () => {
    expect(() => new RtpDepacketizer({ codec: 'h264', clockRate: 0 })).toThrow(LalError);
    expect(() => new RtpDepacketizer({ codec: 'mp3' as never, clockRate: 44100 })).toThrow(LalError);
    expect(() => new RtpDepacketizer({ codec: 'aac', clockRate: 44100, fmtp: { ctsdeltalength: '16' } })).toThrow(LalError);
  });

  test('hostile RTP bytes: decode throws ParseError only, depacketisers never throw', () => {
    const vectors = [FFMPEG_H264_AAC_CAPTURE, FFMPEG_H265_PCMA_CAPTURE].flatMap((c) => c.frames.map((f) => fromHex(f).subarray(4))).filter((b) => b.length < 800);
    const ds = (['h264', 'h265', 'aac', 'g711a', 'opus'] as const).map((codec) => new RtpDepacketizer({ codec, clockRate: 90000 }));
    let ok = 0;
    for (const buf of hostileInputs(vectors, 13)) {
      if (outcome(() => decodeRtpPacket(buf)) === 'rejected') continue;
      const pkt = decodeRtpPacket(buf);
      for (const d of ds) d.push(pkt);
      ok++;
    }
    for (const d of ds) d.flush();
    expect(ok).toBeGreaterThan(100);
  });
});
