/**
 * Seeded fuzz test of the H.265 (RFC 7798) depacketiser (issue #9): 100,000 random and mutated
 * packet sequences (single NAL, AP, FU). `push`/`flush` never throw; access units hold 1..256
 * non-empty units and the key flag their content says; access units of plain NAL types survive
 * re-packetising.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import type { AvPacket } from '../../core/packet.ts';
import { isH265KeyFrame } from '../../codec/h265/nalu.ts';
import { H265_VECTORS } from '../../codec/_testing.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { depacketizeAll, interleavedPackets } from './_testing.ts';
import { H265Depacketizer } from './h265.ts';
import { encodeRtpPacket } from './packet.ts';
import { RtpPacketizer } from './packetizer.ts';

const nal = (type: number, n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? type << 1 : i === 1 ? 1 : (i * 13 + seed) & 0xff));
const au = (dts: number, units: Uint8Array[]): AvPacket => ({ kind: 'video', codec: 'h265', dts, pts: dts, key: isH265KeyFrame(units), units });
const frame = (p: Uint8Array) => concat([Uint8Array.of(0x24, 0, p.length >> 8, p.length & 0xff), p]);

const v = H265_VECTORS[0];
const p = new RtpPacketizer({ codec: 'h265', payloadType: 98, clockRate: 90000, ssrc: 1, sequenceNumber: 65530, mtu: 64 });
const packetized = concat([
  au(0, [fromHex(v.vps), fromHex(v.sps), fromHex(v.pps), nal(19, 200, 1)]),
  au(3600, [nal(1, 40, 2)]),
  au(7200, [nal(1, 30, 3), nal(1, 150, 4)]),
].map((a) => p.packetizeBatch(a).interleaved));
// an AP (two NALs) and a CRA, both at one timestamp, marker on the second
const ap = encodeRtpPacket({ marker: false, payloadType: 98, sequenceNumber: 1, timestamp: 90000, ssrc: 1 }, concat([
  Uint8Array.of(48 << 1, 1), Uint8Array.of(0, 4), nal(32, 4, 5), Uint8Array.of(0, 3), nal(34, 3, 6),
]));
const cra = encodeRtpPacket({ marker: true, payloadType: 98, sequenceNumber: 2, timestamp: 90000, ssrc: 1 }, nal(21, 20, 7));
const CORPUS = [packetized, concat([frame(ap), frame(cra)])];

/** Units a re-packetising keeps as they are: at least the 2-byte header, types below AP (48) except AUD (35). */
const plainUnits = (a: AvPacket) => a.units.every((u) => u.length >= 2 && ((u[0] >> 1) & 0x3f) < 48 && ((u[0] >> 1) & 0x3f) !== 35);

describe('H265Depacketizer fuzz', () => {
  test('100,000 packet sequences: never throws, well-formed access units, round trip of plain ones', () => {
    expect(depacketizeAll(new H265Depacketizer(), interleavedPackets(CORPUS[0])).map((a) => a.units.map((u) => u.length))).toEqual([[v.vps.length / 2, v.sps.length / 2, v.pps.length / 2, 200], [40], [30, 150]]);
    const r = fuzz('rtp h265 depacketizer', { seed: 0x265, corpus: CORPUS, allowed: [] }, ({ input, rnd }) => {
      const out = depacketizeAll(new H265Depacketizer({ payloadType: rnd() < 0.5 ? 98 : undefined }), interleavedPackets(input));
      for (const a of out) {
        fuzzCheck(a.codec === 'h265' && a.units.length >= 1 && a.units.length <= 256 && a.units.every((u) => u.length > 0), 'access unit shape');
        fuzzCheck(a.key === isH265KeyFrame(a.units) && Number.isFinite(a.dts), 'key flag and time');
      }
      const plain = out.filter(plainUnits);
      if (plain.length === 0) return;
      const again = new RtpPacketizer({ codec: 'h265', payloadType: 98, clockRate: 90000, ssrc: 1, sequenceNumber: 0, mtu: 16 + Math.floor(rnd() * 100) });
      const back = depacketizeAll(new H265Depacketizer(), plain.flatMap((a) => again.packetize(a)));
      fuzzCheck(Bun.deepEquals(back.map((a) => a.units), plain.map((a) => a.units)), 'access units re-packetised read back the same');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
