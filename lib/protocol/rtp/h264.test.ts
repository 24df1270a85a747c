import { describe, expect, test } from 'bun:test';
import type { AvPacket } from '../../core/packet.ts';
import { concat } from '../../core/bytes.ts';
import { h264Payloads, h264RtpStartsAccessPoint, H264Depacketizer } from './h264.ts';
import { RtpPacketizer } from './packetizer.ts';
import { rtpPacket, throughRtp } from './_testing.ts';
import { fromHex, mulberry32, randomBytes, toHex } from '../../core/testing.ts';

const SPS = fromHex('6764001eacd940a02ff97011000003000100000300320f162d96');
const PPS = fromHex('68ebe3cb22c0');
const AUD = fromHex('09f0');
const SEI = fromHex('0605ffff00');

/** A NAL of `size` bytes: header byte then seeded bytes. */
function nal(header: number, size: number, seed = size): Uint8Array {
  const b = randomBytes(mulberry32(seed), size);
  b[0] = header;
  return b;
}

const rtp = (seq: number, ts: number, marker: boolean, payload: Uint8Array, payloadType = 96) => rtpPacket(payloadType, seq, ts, marker, payload);

function video(units: Uint8Array[], dts: number, key = false): AvPacket {
  return { kind: 'video', codec: 'h264', dts, pts: dts, key, units };
}

/** Packetise with the real packetiser, decode each packet, feed the depacketiser. */
function roundTrip(aus: AvPacket[], opts: { mtu?: number; drop?: (i: number) => boolean } = {}) {
  const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, ssrc: 7, sequenceNumber: 65530, mtu: opts.mtu });
  const d = new H264Depacketizer({ payloadType: 96 });
  return { ...throughRtp(p, d, aus, opts.drop), drops: d.drops };
}

describe('H.264 packetisation (docs/media.md §5.2)', () => {
  test('big IDR → FU-A (indicator 1C|NRI, S/E bits, 1200-byte payloads) → the same NALs', () => {
    const idr = nal(0x65, 5000);
    const { out, packets, drops } = roundTrip([video([AUD, SPS, PPS, idr], 3000, true)]);
    // AUD dropped; SPS, PPS alone; IDR: 4999 bytes after its header in 1198-byte slices → 5 FUs
    expect(packets.map((p) => p.payload.length)).toEqual([SPS.length, PPS.length, 1200, 1200, 1200, 1200, 2 + 4999 - 4 * 1198]);
    expect(packets.map((p) => toHex(p.payload.subarray(0, 2))).slice(2)).toEqual(['7c85', '7c05', '7c05', '7c05', '7c45']);
    expect(packets.map((p) => p.header.marker)).toEqual([false, false, false, false, false, false, true]);
    expect(packets.map((p) => p.header.sequenceNumber)).toEqual([65530, 65531, 65532, 65533, 65534, 65535, 0]);
    expect(new Set(packets.map((p) => p.header.timestamp))).toEqual(new Set([3000]));
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ kind: 'video', codec: 'h264', dts: 3000, pts: 3000, key: true });
    expect(out[0].units.map(toHex)).toEqual([SPS, PPS, idr].map(toHex));
    expect(drops).toMatchObject({ fragmentLost: 0, malformed: 0 });
  });

  const boundaries: [number, number[]][] = [
    [1199, [1199]],
    [1200, [1200]],
    [1201, [1200, 4]], // FU-A: 2 header bytes + 1198 data bytes, then 2 + 2
    [2397, [1200, 1200]], // 2396 data bytes = 2 × 1198
    [2398, [1200, 1200, 3]],
  ];
  test.each(boundaries)('NAL of %d bytes → payloads %p', (size, sizes) => {
    const n = nal(0x41, size);
    const { out, packets } = roundTrip([video([n], 0)]);
    expect(packets.map((p) => p.payload.length)).toEqual(sizes);
    expect(out.map((a) => a.units.map(toHex))).toEqual([[toHex(n)]]);
  });

  test('a smaller mtu fragments smaller; AUD-only access units give no packets', () => {
    const n = nal(0x65, 1000);
    const { packets, out } = roundTrip([video([n], 0)], { mtu: 300 });
    expect(packets.every((p) => p.payload.length <= 300)).toBe(true);
    expect(packets.length).toBe(Math.ceil(999 / 298));
    expect(toHex(out[0].units[0])).toBe(toHex(n));
    expect(h264Payloads([AUD, new Uint8Array(0)], 1200)).toEqual([]);
  });

  test('F and NRI go into the FU indicator, type into the FU header', () => {
    const low = h264Payloads([nal(0x21, 2000)], 1200); // NRI 1, type 1
    expect(toHex(low[0][0])).toBe('3c81');
    expect(toHex(low[1][0])).toBe('3c41');
    expect(low[0][1].length).toBe(1198);
    // RFC 6184 §5.8: the F bit of a damaged unit is copied too (it was dropped: fuzz seed 0x264 #29)
    const damaged = h264Payloads([nal(0xa1, 2000)], 1200); // F 1, NRI 1, type 1
    expect(toHex(damaged[0][0])).toBe('bc81');
    expect(throughRtp(new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000 }), new H264Depacketizer(), [{ kind: 'video', codec: 'h264', dts: 0, pts: 0, key: false, units: [nal(0xa1, 2000)] }]).out[0].units[0][0]).toBe(0xa1);
  });
});

describe('H.264 depacketisation (docs/media.md §6.1)', () => {
  test('STAP-A built by hand: every NAL joins the access unit', () => {
    const d = new H264Depacketizer();
    const stap = concat([fromHex('78'), fromHex('001a'), SPS, fromHex('0006'), PPS, fromHex('0005'), SEI]);
    const idr = nal(0x65, 300);
    expect(d.push(rtp(1, 9000, false, stap))).toEqual([]);
    const [au] = d.push(rtp(2, 9000, true, idr));
    expect(au.key).toBe(true);
    expect(au.units.map(toHex)).toEqual([SPS, PPS, SEI, idr].map(toHex));
    expect(au.units[0].buffer).toBe(stap.buffer); // views, not copies
  });

  test('a STAP-A whose sizes run past the end is dropped whole', () => {
    const d = new H264Depacketizer();
    d.push(rtp(1, 0, false, concat([fromHex('78'), fromHex('001a'), SPS, fromHex('0010'), PPS])));
    d.push(rtp(2, 0, false, fromHex('78 00')));
    expect(d.drops.malformed).toBe(2);
    expect(d.flush()).toEqual([]);
  });

  test('a lost packet in the middle of an FU drops that NAL, not the stream', () => {
    const idr = nal(0x65, 5000);
    const p1 = nal(0x41, 800, 1);
    const p2 = nal(0x41, 2500, 2);
    // packets: SPS, PPS, IDR×5, P1, P2×3; drop the 2nd IDR fragment (index 3)
    const { out, drops } = roundTrip([video([SPS, PPS, idr], 0, true), video([p1], 3600), video([p2], 7200)], { drop: (i) => i === 3 });
    expect(out.map((a) => [a.dts, a.key, a.units.map(toHex)])).toEqual([
      [0, false, [toHex(SPS), toHex(PPS)]],
      [3600, false, [toHex(p1)]],
      [7200, false, [toHex(p2)]],
    ]);
    expect(drops.fragmentLost).toBe(1);
    expect(drops.fragmentWithoutStart).toBe(3); // the 3 fragments after the gap
  });

  test('joining mid-FU ("non-starting fragment without previous") is benign', () => {
    const idr = nal(0x65, 3000);
    const p1 = nal(0x41, 100);
    const { out, drops } = roundTrip([video([idr], 0, true), video([p1], 3600)], { drop: (i) => i === 0 });
    expect(out.map((a) => a.units.map(toHex))).toEqual([[toHex(p1)]]);
    expect(drops).toMatchObject({ fragmentWithoutStart: 2, fragmentLost: 0 });
  });

  test('an FU interrupted by a new start or a single NAL is dropped', () => {
    const d = new H264Depacketizer();
    d.push(rtp(1, 0, false, fromHex('7c85 0102')));
    d.push(rtp(2, 0, false, fromHex('7c85 0304'))); // new start: the first FU is lost
    const [au] = d.push(rtp(3, 0, true, fromHex('7c45 0506')));
    expect(au.units.map(toHex)).toEqual(['6503040506']);
    d.push(rtp(4, 3600, false, fromHex('7c81 0102')));
    const [au2] = d.push(rtp(5, 3600, true, fromHex('4101')));
    expect(au2.units.map(toHex)).toEqual(['4101']);
    expect(d.drops.fragmentLost).toBe(2);
  });

  test('FU with S and E set is accepted as a whole NAL; reserved and interleaved types are counted', () => {
    const d = new H264Depacketizer();
    const [au] = d.push(rtp(1, 0, true, fromHex('7cc5 aabb')));
    expect(au.units.map(toHex)).toEqual(['65aabb']);
    for (const t of [0x00, 0x19, 0x1a, 0x1b, 0x1d, 0x1e, 0x1f]) d.push(rtp(2, 0, false, Uint8Array.of(t, 1, 2, 3)));
    expect(d.drops.unsupported).toBe(7);
    d.push(rtp(3, 0, false, fromHex('7c')));
    d.push(rtp(4, 0, false, new Uint8Array(0)));
    expect(d.drops.malformed).toBe(1);
    expect(d.drops.empty).toBe(1);
  });

  test('access units: grouped by timestamp, emitted on the marker or on a timestamp change', () => {
    const d = new H264Depacketizer();
    const a = nal(0x41, 10, 1);
    const b = nal(0x41, 10, 2);
    const c = nal(0x41, 10, 3);
    expect(d.push(rtp(1, 1000, false, a))).toEqual([]);
    expect(d.push(rtp(2, 1000, false, b))).toEqual([]);
    const [first] = d.push(rtp(3, 4600, false, c)); // no marker anywhere (some cameras)
    expect(first.units.map(toHex)).toEqual([a, b].map(toHex));
    expect(first.dts).toBe(1000);
    const [last] = d.flush();
    expect([last.dts, last.units.length]).toEqual([4600, 1]);
    expect(d.flush()).toEqual([]);
  });

  test('timestamps: 90 kHz DTS = PTS from the unwrapped RTP timestamp', () => {
    const d = new H264Depacketizer();
    const got = [0xffffec78, 0x0000f618, 0x00020178].map((ts, i) => d.push(rtp(i, ts, true, fromHex('4101')))[0].dts);
    expect(got).toEqual([0xffffec78, 2 ** 32 + 0xf618, 2 ** 32 + 0x20178]);
  });

  test('packets of another payload type are dropped', () => {
    const d = new H264Depacketizer({ payloadType: 96 });
    expect(d.push(rtp(1, 0, true, fromHex('4101'), 97))).toEqual([]);
    expect(d.drops.payloadType).toBe(1);
  });

  test('random payloads never throw', () => {
    const rnd = mulberry32(99);
    const d = new H264Depacketizer();
    let emitted = 0;
    for (let i = 0; i < 2000; i++) {
      const payload = randomBytes(rnd, Math.floor(rnd() * 40));
      if (payload.length > 0 && rnd() < 0.5) payload[0] = (payload[0] & 0xe0) | [24, 28][i % 2];
      emitted += d.push(rtp(i, Math.floor(i / 3) * 3000, rnd() < 0.3, payload)).length;
    }
    emitted += d.flush().length;
    expect(emitted).toBeGreaterThan(0);
  });
});

describe('h264RtpStartsAccessPoint (docs/behaviour.md §5.5)', () => {
  const cases: [string, string, boolean][] = [
    ['SPS', '6764', true],
    ['PPS', '68eb', true],
    ['IDR', '6588', true],
    ['P slice', '419a', false],
    ['SEI', '0605', false],
    ['STAP-A starting with SPS', '78001a67', true],
    ['STAP-A starting with SEI', '78000506', false],
    ['FU-A start of IDR', '7c85', true],
    ['FU-A middle of IDR', '7c05', false],
    ['FU-A start of P', '5c81', false],
    ['empty', '', false],
  ];
  test.each(cases)('%s', (_n, payload, want) => {
    expect(h264RtpStartsAccessPoint(fromHex(payload))).toBe(want);
  });
});
