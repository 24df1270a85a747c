import { describe, expect, test } from 'bun:test';
import type { AvPacket } from '../../core/packet.ts';
import { concat } from '../../core/bytes.ts';
import { h265Payloads, h265RtpStartsAccessPoint, H265Depacketizer } from './h265.ts';
import { RtpPacketizer } from './packetizer.ts';
import { rtpPacket, throughRtp } from './_testing.ts';
import { fromHex, mulberry32, randomBytes, toHex } from '../../core/testing.ts';

// libx265 Main 1280x720 parameter sets (lib/codec vectors)
const VPS = fromHex('40010c01ffff01600000030090000003000003005d959809');
const SPS = fromHex('42010101600000030090000003000003005da00280802d165959a4932bc04040000003004000000642');
const PPS = fromHex('4401c172b46240');
const AUD = fromHex('460150');

/** A NAL of `size` bytes with the 2-byte header (type, TID) then seeded bytes. */
function nal(type: number, size: number, tid = 1, seed = size): Uint8Array {
  const b = randomBytes(mulberry32(seed), size);
  b[0] = type << 1;
  b[1] = tid;
  return b;
}

const rtp = (seq: number, ts: number, marker: boolean, payload: Uint8Array) => rtpPacket(98, seq, ts, marker, payload);

function roundTrip(aus: AvPacket[], drop?: (i: number) => boolean) {
  const p = new RtpPacketizer({ codec: 'h265', payloadType: 98, clockRate: 90000, sequenceNumber: 100 });
  const d = new H265Depacketizer({ payloadType: 98 });
  return { ...throughRtp(p, d, aus, drop), drops: d.drops };
}

const video = (units: Uint8Array[], dts: number): AvPacket => ({ kind: 'video', codec: 'h265', dts, pts: dts, key: false, units });

describe('H.265 packetisation (docs/media.md §5.2)', () => {
  test('big IDR → FU (`62 01`, S/E + type) → the same NALs; parameter sets alone, AUD dropped', () => {
    const idr = nal(19, 5000);
    const { out, packets } = roundTrip([video([AUD, VPS, SPS, PPS, idr], 90000)]);
    // 4998 bytes after the 2-byte header in 1197-byte slices → 5 FUs
    expect(packets.map((p) => p.payload.length)).toEqual([VPS.length, SPS.length, PPS.length, 1200, 1200, 1200, 1200, 3 + 4998 - 4 * 1197]);
    expect(packets.slice(3).map((p) => toHex(p.payload.subarray(0, 3)))).toEqual(['620193', '620113', '620113', '620113', '620153']);
    expect(packets.map((p) => p.header.marker).lastIndexOf(true)).toBe(packets.length - 1);
    expect(packets.filter((p) => p.header.marker).length).toBe(1);
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ codec: 'h265', dts: 90000, key: true });
    expect(out[0].units.map(toHex)).toEqual([VPS, SPS, PPS, idr].map(toHex));
  });

  test('the FU PayloadHdr keeps the NAL layer and TID (RFC 7798 §4.4.3)', () => {
    const n = nal(1, 3000, 3);
    const ps = h265Payloads([n], 1200);
    expect(toHex(ps[0][0])).toBe('620381');
    const { out } = roundTrip([video([n], 0)]);
    expect(toHex(out[0].units[0])).toBe(toHex(n));
  });

  const boundaries: [number, number[]][] = [
    [1200, [1200]],
    [1201, [1200, 5]], // 3 + 1197, then 3 + 2
    [2396, [1200, 1200]], // 2394 data bytes = 2 × 1197
    [2397, [1200, 1200, 4]],
  ];
  test.each(boundaries)('NAL of %d bytes → payloads %p', (size, sizes) => {
    const n = nal(1, size);
    const { out, packets } = roundTrip([video([n], 0)]);
    expect(packets.map((p) => p.payload.length)).toEqual(sizes);
    expect(out.map((a) => a.units.map(toHex))).toEqual([[toHex(n)]]);
  });
});

describe('H.265 depacketisation (docs/media.md §6.1)', () => {
  test('AP built by hand: VPS, SPS, PPS in one packet, then an IDR', () => {
    const d = new H265Depacketizer();
    const ap = concat([fromHex('6001'), fromHex('0018'), VPS, fromHex('0029'), SPS, fromHex('0007'), PPS]);
    expect(d.push(rtp(1, 0, false, ap))).toEqual([]);
    const idr = nal(20, 500);
    const [au] = d.push(rtp(2, 0, true, idr));
    expect(au.key).toBe(true);
    expect(au.units.map(toHex)).toEqual([VPS, SPS, PPS, idr].map(toHex));
    expect(au.units[0].buffer).toBe(ap.buffer);
  });

  test('truncated AP and FU are counted as malformed', () => {
    const d = new H265Depacketizer();
    d.push(rtp(1, 0, false, concat([fromHex('6001'), fromHex('0018'), VPS.subarray(0, 10)])));
    d.push(rtp(2, 0, false, fromHex('6001 00')));
    d.push(rtp(3, 0, false, fromHex('620193')));
    d.push(rtp(4, 0, false, fromHex('40')));
    expect(d.drops.malformed).toBe(4);
  });

  test('a lost FU fragment drops that NAL only', () => {
    const idr = nal(19, 4000);
    const p1 = nal(1, 2000, 1, 5);
    const { out, drops } = roundTrip([video([idr], 0), video([p1], 3600)], (i) => i === 2);
    expect(out.map((a) => [a.dts, a.units.map(toHex)])).toEqual([[3600, [toHex(p1)]]]);
    expect(drops.fragmentLost).toBe(1);
    expect(drops.fragmentWithoutStart).toBe(1);
  });

  test('PACI and unspecified types are unsupported; FU with S and E is one NAL', () => {
    const d = new H265Depacketizer();
    d.push(rtp(1, 0, false, fromHex('6401 0000')));
    d.push(rtp(2, 0, false, fromHex('7e01 0000')));
    expect(d.drops.unsupported).toBe(2);
    const [au] = d.push(rtp(3, 0, true, fromHex('6201d3 aabb')));
    expect(au.units.map(toHex)).toEqual(['2601aabb']);
  });

  test('random payloads never throw', () => {
    const rnd = mulberry32(5);
    const d = new H265Depacketizer();
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      const payload = randomBytes(rnd, Math.floor(rnd() * 40));
      if (payload.length > 0 && rnd() < 0.5) payload[0] = (payload[0] & 0x81) | ([48, 49][i % 2] << 1);
      n += d.push(rtp(i, Math.floor(i / 4) * 3000, rnd() < 0.3, payload)).length;
    }
    n += d.flush().length;
    expect(n).toBeGreaterThan(0);
  });
});

describe('h265RtpStartsAccessPoint (docs/behaviour.md §5.5)', () => {
  const cases: [string, string, boolean][] = [
    ['VPS', '4001', true],
    ['SPS', '4201', true],
    ['PPS', '4401', true],
    ['IDR_W_RADL', '2601', true],
    ['CRA', '2a01', true],
    ['BLA_W_LP', '2001', true],
    ['TRAIL_R', '0201', false],
    ['SEI prefix', '4e01', false],
    ['AP starting with VPS', '6001 0018 4001', true],
    ['AP starting with SEI', '6001 0005 4e01', false],
    ['FU start of IDR', '620193', true],
    ['FU end of IDR', '620153', false],
    ['FU start of TRAIL_R', '620181', false],
    ['one byte', '40', false],
  ];
  test.each(cases)('%s', (_n, payload, want) => {
    expect(h265RtpStartsAccessPoint(fromHex(payload))).toBe(want);
  });
});
