/**
 * Seeded fuzz test of the AAC (RFC 3640) depacketiser (issue #9): 100,000 random and mutated
 * packet sequences under several AU-header layouts. `push`/`flush` never throw; every AvPacket
 * carries one non-empty frame; frames of intact sequences survive re-packetising.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import type { AvPacket } from '../../core/packet.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { depacketizeAll, interleavedPackets } from './_testing.ts';
import { AAC_HBR, AacDepacketizer, type AacAuHeaderConfig } from './aac.ts';
import { encodeRtpPacket } from './packet.ts';
import { RtpPacketizer } from './packetizer.ts';

const frame = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 17 + seed) & 0xff);
const aac = (dts: number, n: number): AvPacket => ({ kind: 'audio', codec: 'aac', dts, pts: dts, key: true, units: [frame(n, dts)] });
const interleave = (pkts: Uint8Array[]) => concat(pkts.flatMap((p) => [Uint8Array.of(0x24, 2, p.length >> 8, p.length & 0xff), p]));

const p = new RtpPacketizer({ codec: 'aac', payloadType: 97, clockRate: 44100, ssrc: 1, sequenceNumber: 65533 });
const normal = concat([aac(0, 20), aac(2090, 35), aac(4180, 1), aac(6270, 60)].map((a) => p.packetizeBatch(a, 2).interleaved));
// three AUs in one packet (AU-headers-length 48 bits), then one AU of 300 bytes in two fragments
const three = encodeRtpPacket({ marker: true, payloadType: 97, sequenceNumber: 7, timestamp: 9000, ssrc: 1 }, concat([fromHex('0030 0050 0028 0060'), frame(10, 1), frame(5, 2), frame(12, 3)]));
const big = frame(300, 4);
const frag1 = encodeRtpPacket({ marker: false, payloadType: 97, sequenceNumber: 8, timestamp: 12000, ssrc: 1 }, concat([fromHex('00100960'), big.subarray(0, 150)]));
const frag2 = encodeRtpPacket({ marker: true, payloadType: 97, sequenceNumber: 9, timestamp: 12000, ssrc: 1 }, concat([fromHex('00100960'), big.subarray(150)]));
const CORPUS = [normal, interleave([three, frag1, frag2])];

const LAYOUTS: AacAuHeaderConfig[] = [AAC_HBR, { sizeLength: 6, indexLength: 2, indexDeltaLength: 2 }, { sizeLength: 16, indexLength: 0, indexDeltaLength: 0 }, { sizeLength: 1, indexLength: 8, indexDeltaLength: 8 }];

describe('AacDepacketizer fuzz', () => {
  test('100,000 packet sequences: never throws, one non-empty frame per packet, intact frames round-trip', () => {
    const sizes = (b: Uint8Array) => depacketizeAll(new AacDepacketizer({ clockRate: 44100 }), interleavedPackets(b)).map((a) => a.units[0].length);
    expect(CORPUS.map(sizes)).toEqual([[20, 35, 1, 60], [10, 5, 12, 300]]); // the corpus itself is intact
    const r = fuzz('rtp aac depacketizer', { seed: 0xaac, corpus: CORPUS, allowed: [] }, ({ input, rnd }) => {
      const auHeader = rnd() < 0.7 ? AAC_HBR : LAYOUTS[Math.floor(rnd() * LAYOUTS.length)];
      const d = new AacDepacketizer({ clockRate: 44100, payloadType: rnd() < 0.5 ? 97 : undefined, auHeader });
      const out = depacketizeAll(d, interleavedPackets(input));
      for (const a of out) fuzzCheck(a.codec === 'aac' && a.units.length === 1 && a.units[0].length > 0 && Number.isFinite(a.dts), 'one non-empty frame');
      if (auHeader !== AAC_HBR || out.length === 0 || out.some((a) => a.units[0].length > 0x1fff)) return;
      const again = new RtpPacketizer({ codec: 'aac', payloadType: 97, clockRate: 44100, ssrc: 1, sequenceNumber: 0 });
      const back = depacketizeAll(new AacDepacketizer({ clockRate: 44100 }), out.flatMap((a) => again.packetize(a)));
      fuzzCheck(Bun.deepEquals(back.map((a) => a.units), out.map((a) => a.units)), 'frames re-packetised read back the same');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
