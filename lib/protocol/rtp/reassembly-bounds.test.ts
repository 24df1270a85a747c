/**
 * Reassembly bounds (docs/architecture.md §1.5): fragments are counted as well as bytes, each
 * piece is charged its overhead, an access unit over budget is dropped and counted, and the
 * stream goes on with the next one.
 */
import { describe, expect, test } from 'bun:test';
import type { AvPacket } from '../../core/packet.ts';
import type { RtpPacket } from './packet.ts';
import { H264Depacketizer } from './h264.ts';
import { H265Depacketizer } from './h265.ts';
import { AacDepacketizer } from './aac.ts';
import { RtpDepacketizer } from './depacketizer.ts';
import { MAX_AU_BYTES, MAX_FRAGMENTED_NALU_SIZE, MAX_FRAGMENTS_PER_AU } from './_nal-au.ts';

const rtp = (seq: number, ts: number, marker: boolean, payload: Uint8Array): RtpPacket => ({
  header: { marker, payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc: 1 },
  payload,
});

const IDR_FU_INDICATOR = 0x60 | 28; // NRI 3, FU-A
const fuA = (start: boolean, end: boolean, data: Uint8Array) => Uint8Array.of(IDR_FU_INDICATOR, (start ? 0x80 : 0) | (end ? 0x40 : 0) | 5, ...data);
const single = (type: number, n: number) => {
  const b = new Uint8Array(n).fill(0xab);
  b[0] = 0x60 | type;
  return b;
};

/** A normal access unit (SPS, PPS, IDR as 3 FU-A fragments) at `ts`; returns the next seq. */
function healthyAu(d: { push(p: RtpPacket): AvPacket[] }, seq: number, ts: number, out: AvPacket[]): number {
  out.push(...d.push(rtp(seq++, ts, false, single(7, 10))));
  out.push(...d.push(rtp(seq++, ts, false, single(8, 4))));
  out.push(...d.push(rtp(seq++, ts, false, fuA(true, false, new Uint8Array(1000)))));
  out.push(...d.push(rtp(seq++, ts, false, fuA(false, false, new Uint8Array(1000)))));
  out.push(...d.push(rtp(seq++, ts, true, fuA(false, true, new Uint8Array(500)))));
  return seq;
}

describe('H.264 FU-A reassembly bounds', () => {
  test('500,000 one-byte middle fragments: the AU is dropped at MAX_FRAGMENTS_PER_AU, memory held stays bounded, the next AU decodes', () => {
    const d = new H264Depacketizer({ payloadType: 96 });
    const out: AvPacket[] = [];
    let seq = healthyAu(d, 1, 3000, out);
    expect(out.length).toBe(1);
    out.push(...d.push(rtp(seq++, 6000, false, fuA(true, false, Uint8Array.of(1)))));
    let maxHeld = 0;
    const one = fuA(false, false, Uint8Array.of(7));
    for (let i = 0; i < 500_000; i++) {
      out.push(...d.push(rtp(seq++, 6000, false, one)));
      if ((i & 1023) === 0) maxHeld = Math.max(maxHeld, d.heldBytes);
    }
    expect(out.length).toBe(1);
    expect(maxHeld).toBeLessThanOrEqual(MAX_FRAGMENTS_PER_AU * 70);
    expect(d.heldBytes).toBe(0); // dropped, nothing held
    // the rest of the attack AU is counted, not kept
    expect(d.drops.tooLarge).toBe(500_000 - MAX_FRAGMENTS_PER_AU + 1);
    // the end of the bad AU, then a healthy AU at the next timestamp
    out.push(...d.push(rtp(seq++, 6000, true, fuA(false, true, Uint8Array.of(1)))));
    seq = healthyAu(d, seq, 9000, out);
    expect(out.length).toBe(2);
    expect(out[1].key).toBe(true);
    expect(out[1].units.map((u) => u.length)).toEqual([10, 4, 1 + 2500]);
  });

  test('a marker bit on every middle fragment does not reset the count of the unit in reassembly', () => {
    const d = new H264Depacketizer();
    let seq = 1;
    d.push(rtp(seq++, 3000, false, fuA(true, false, Uint8Array.of(1))));
    let maxHeld = 0;
    for (let i = 0; i < 3 * MAX_FRAGMENTS_PER_AU; i++) {
      d.push(rtp(seq++, 3000, true, fuA(false, false, Uint8Array.of(2))));
      maxHeld = Math.max(maxHeld, d.heldBytes);
    }
    expect(maxHeld).toBeLessThanOrEqual(MAX_AU_BYTES);
    expect(maxHeld).toBeLessThanOrEqual((MAX_FRAGMENTS_PER_AU + 2) * 70);
    expect(d.drops.tooLarge).toBeGreaterThan(0);
  });

  test('bytes are bounded per access unit across several big NALs', () => {
    const d = new H264Depacketizer();
    const out: AvPacket[] = [];
    let seq = 1;
    const big = new Uint8Array(60_000);
    // 7 NALs of 3 MB each in one AU: 21 MB > MAX_AU_BYTES (each NAL alone is fine)
    let maxHeld = 0;
    for (let n = 0; n < 7; n++) {
      out.push(...d.push(rtp(seq++, 3000, false, fuA(true, false, big))));
      for (let i = 0; i < 48; i++) out.push(...d.push(rtp(seq++, 3000, false, fuA(false, false, big))));
      out.push(...d.push(rtp(seq++, 3000, false, fuA(false, true, big))));
      maxHeld = Math.max(maxHeld, d.heldBytes);
    }
    out.push(...d.push(rtp(seq++, 3000, true, single(1, 100))));
    expect(out.length).toBe(0);
    expect(maxHeld).toBeLessThanOrEqual(MAX_AU_BYTES);
    expect(d.drops.tooLarge).toBeGreaterThan(0);
    healthyAu(d, seq, 6000, out);
    expect(out.length).toBe(1);
  });

  test('a NAL of exactly MAX_FRAGMENTED_NALU_SIZE in ~1.4 KB fragments still passes', () => {
    const d = new H264Depacketizer();
    const out: AvPacket[] = [];
    let seq = 1;
    const size = MAX_FRAGMENTED_NALU_SIZE - 1; // + 1 header byte
    const chunk = 1400;
    const data = new Uint8Array(chunk);
    let left = size;
    let first = true;
    while (left > 0) {
      const n = Math.min(chunk, left);
      left -= n;
      out.push(...d.push(rtp(seq++, 3000, left === 0, fuA(first, left === 0, data.subarray(0, n)))));
      first = false;
    }
    expect(out.length).toBe(1);
    expect(out[0].units[0].length).toBe(MAX_FRAGMENTED_NALU_SIZE);
    expect(d.drops.tooLarge).toBe(0);
  });
});

describe('H.265 FU reassembly bounds', () => {
  test('tiny fragments are bounded by count; the next AU decodes', () => {
    const d = new H265Depacketizer();
    const fu = (s: boolean, e: boolean, data: Uint8Array) => Uint8Array.of(49 << 1, 1, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 19, ...data);
    let seq = 1;
    d.push(rtp(seq++, 3000, false, fu(true, false, Uint8Array.of(1))));
    for (let i = 0; i < 2 * MAX_FRAGMENTS_PER_AU; i++) d.push(rtp(seq++, 3000, false, fu(false, false, Uint8Array.of(1))));
    expect(d.heldBytes).toBe(0);
    expect(d.drops.tooLarge).toBe(MAX_FRAGMENTS_PER_AU + 1);
    d.push(rtp(seq++, 6000, false, fu(true, false, new Uint8Array(100))));
    const out = d.push(rtp(seq++, 6000, true, fu(false, true, new Uint8Array(100))));
    expect(out.length).toBe(1);
    expect(out[0].units[0].length).toBe(202);
  });
});

describe('AAC fragment reassembly', () => {
  test('an empty fragment drops the AU instead of waiting forever; nothing per fragment is kept', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const head = Uint8Array.of(0x00, 0x10, 0xff, 0xf8); // 1 AU-header, AU-size 8191
    d.push(rtp(1, 1000, false, Uint8Array.of(...head, 1, 2, 3)));
    expect(d.heldBytes).toBe(8191);
    d.push(rtp(2, 1000, false, head)); // no data
    expect(d.heldBytes).toBe(0);
    expect(d.drops.malformed).toBe(1);
  });

  test('8191 one-byte fragments reassemble into one AU held in a single buffer', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const head = [0x00, 0x10, 0xff, 0xf8];
    let out: AvPacket[] = [];
    for (let i = 0; i < 8191; i++) {
      out = d.push(rtp(i, 1000, i === 8190, Uint8Array.of(...head, i & 0xff)));
      if (i < 8190) expect(d.heldBytes).toBe(8191);
    }
    expect(out.length).toBe(1);
    expect(out[0].units[0].length).toBe(8191);
    expect(out[0].units[0][300]).toBe(300 & 0xff);
  });
});

test('RtpDepacketizer reports heldBytes for every codec', () => {
  for (const codec of ['h264', 'h265', 'aac', 'g711a', 'opus'] as const) {
    expect(new RtpDepacketizer({ codec, clockRate: 90000 }).heldBytes).toBe(0);
  }
});
