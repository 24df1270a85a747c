/**
 * Seeded fuzz test of the H.264 (RFC 6184) depacketiser (issue #9): 100,000 random and mutated
 * packet sequences (single NAL, STAP-A, FU-A). `push`/`flush` never throw; access units hold
 * 1..256 non-empty units and the key flag their content says; access units of plain NAL types
 * survive re-packetising.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import type { AvPacket } from '../../core/packet.ts';
import { isH264KeyFrame } from '../../codec/h264/nalu.ts';
import { H264_VECTORS } from '../../codec/_testing.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { depacketizeAll, interleavedPackets } from './_testing.ts';
import { H264Depacketizer } from './h264.ts';
import { encodeRtpPacket } from './packet.ts';
import { RtpPacketizer } from './packetizer.ts';

const nal = (type: number, n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x60 | type : (i * 13 + seed) & 0xff));
const au = (dts: number, units: Uint8Array[]): AvPacket => ({ kind: 'video', codec: 'h264', dts, pts: dts, key: isH264KeyFrame(units), units });
const frame = (p: Uint8Array) => concat([Uint8Array.of(0x24, 0, p.length >> 8, p.length & 0xff), p]);

const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, ssrc: 1, sequenceNumber: 65530, mtu: 64 });
const packetized = concat([
  au(0, [fromHex(H264_VECTORS[1].sps), fromHex(H264_VECTORS[1].pps), nal(5, 200, 1)]),
  au(3600, [nal(1, 40, 2)]),
  au(7200, [nal(1, 30, 3), nal(1, 150, 4)]),
].map((a) => p.packetizeBatch(a).interleaved));
// STAP-A (SPS, PPS) and an IDR, both at one timestamp, marker on the second
const stap = encodeRtpPacket({ marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 90000, ssrc: 1 }, concat([
  Uint8Array.of(0x78), Uint8Array.of(0, 4), nal(7, 4, 5), Uint8Array.of(0, 3), nal(8, 3, 6),
]));
const idr = encodeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 2, timestamp: 90000, ssrc: 1 }, nal(5, 20, 7));
const CORPUS = [packetized, concat([frame(stap), frame(idr)])];

/** Units a re-packetising keeps as they are: non-empty, types 1..23 except AUD (9). */
const plainUnits = (a: AvPacket) => a.units.every((u) => u.length > 0 && (u[0] & 0x1f) >= 1 && (u[0] & 0x1f) <= 23 && (u[0] & 0x1f) !== 9);

describe('H264Depacketizer fuzz', () => {
  test('100,000 packet sequences: never throws, well-formed access units, round trip of plain ones', () => {
    expect(depacketizeAll(new H264Depacketizer(), interleavedPackets(CORPUS[0])).map((a) => a.units.map((u) => u.length))).toEqual([[H264_VECTORS[1].sps.length / 2, H264_VECTORS[1].pps.length / 2, 200], [40], [30, 150]]);
    const r = fuzz('rtp h264 depacketizer', { seed: 0x264, corpus: CORPUS, allowed: [] }, ({ input, rnd }) => {
      const out = depacketizeAll(new H264Depacketizer({ payloadType: rnd() < 0.5 ? 96 : undefined }), interleavedPackets(input));
      for (const a of out) {
        fuzzCheck(a.codec === 'h264' && a.units.length >= 1 && a.units.length <= 256 && a.units.every((u) => u.length > 0), 'access unit shape');
        fuzzCheck(a.key === isH264KeyFrame(a.units) && Number.isFinite(a.dts), 'key flag and time');
      }
      const plain = out.filter(plainUnits);
      if (plain.length === 0) return;
      const again = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, ssrc: 1, sequenceNumber: 0, mtu: 16 + Math.floor(rnd() * 100) });
      const back = depacketizeAll(new H264Depacketizer(), plain.flatMap((a) => again.packetize(a)));
      fuzzCheck(Bun.deepEquals(back.map((a) => a.units), plain.map((a) => a.units)), 'access units re-packetised read back the same');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
