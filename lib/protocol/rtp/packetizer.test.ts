import { describe, expect, test } from 'bun:test';
import { LalError, ParseError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { RtpPacketizer, setInterleavedChannel, INTERLEAVED_HEADER_SIZE } from './packetizer.ts';
import { decodeRtpPacket } from './packet.ts';
import { fromHex, mulberry32, randomBytes, toHex } from '../../core/testing.ts';

const idr = (size: number) => {
  const b = randomBytes(mulberry32(size), size);
  b[0] = 0x65;
  return b;
};
const v = (units: Uint8Array[], dts: number, pts = dts): AvPacket => ({ kind: 'video', codec: 'h264', dts, pts, key: true, units });

describe('RtpPacketizer (docs/media.md §5.2)', () => {
  test('one shared allocation: interleaved frames back to back, packets are views into it', () => {
    const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, ssrc: 0x01020304, sequenceNumber: 10 });
    const { interleaved, packets } = p.packetizeBatch(v([fromHex('6764001e'), fromHex('68ee3c80'), idr(3000)], 180000), 2);
    expect(packets.length).toBe(5);
    let off = 0;
    for (const pkt of packets) {
      expect(pkt.buffer).toBe(interleaved.buffer);
      expect(interleaved[off]).toBe(0x24);
      expect(interleaved[off + 1]).toBe(2);
      expect((interleaved[off + 2] << 8) | interleaved[off + 3]).toBe(pkt.length);
      expect(pkt.byteOffset - interleaved.byteOffset).toBe(off + INTERLEAVED_HEADER_SIZE);
      off += INTERLEAVED_HEADER_SIZE + pkt.length;
    }
    expect(off).toBe(interleaved.length);
    expect(toHex(packets[0].subarray(0, 12))).toBe('8060000a0002bf2001020304'); // V=2, PT 96, seq 10, ts 180000
    expect(toHex(packets[4].subarray(0, 2))).toBe('80e0'); // marker on the last packet only
    expect(p.packetize(v([fromHex('4101')], 183600)).length).toBe(1);
    expect(p.sequenceNumber).toBe(16);
  });

  test('docs/quirks.md Q-RTP-1: the RTP timestamp comes from the DTS; composition time is ignored', () => {
    const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000 });
    const [pkt] = p.packetize(v([fromHex('4101')], 3600, 10800));
    expect(decodeRtpPacket(pkt).header.timestamp).toBe(3600);
  });

  test('RTMP ms → floor(ms × clock / 1000) for audio clocks', () => {
    const p = new RtpPacketizer({ codec: 'aac', payloadType: 97, clockRate: 44100 });
    const ts = [0, 23, 46, 1001].map((ms) => decodeRtpPacket(p.packetize({ kind: 'audio', codec: 'aac', dts: ms * 90, pts: ms * 90, key: true, units: [fromHex('21')] })[0]).header.timestamp);
    expect(ts).toEqual([0, 1014, 2028, 44144]);
  });

  test('sequence numbers wrap at 2^16; SSRC and first sequence number are random by default', () => {
    const p = new RtpPacketizer({ codec: 'g711a', payloadType: 8, clockRate: 8000, sequenceNumber: 65534, ssrc: 9 });
    const seqs = [0, 1, 2].map((i) => decodeRtpPacket(p.packetize({ kind: 'audio', codec: 'g711a', dts: i * 1800, pts: i * 1800, key: true, units: [fromHex('d5d5')] })[0]).header.sequenceNumber);
    expect(seqs).toEqual([65534, 65535, 0]);
    const a = new RtpPacketizer({ codec: 'opus', payloadType: 101, clockRate: 48000 });
    const b = new RtpPacketizer({ codec: 'opus', payloadType: 101, clockRate: 48000 });
    expect([a.ssrc, a.sequenceNumber]).not.toEqual([b.ssrc, b.sequenceNumber]);
    expect(a.sequenceNumber).toBeLessThan(65536);
  });

  test('audio: every packet has the marker bit; empty units are skipped', () => {
    const p = new RtpPacketizer({ codec: 'aac', payloadType: 97, clockRate: 48000 });
    expect(p.packetize({ kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, units: [new Uint8Array(0)] })).toEqual([]);
    const [pkt] = p.packetize({ kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, units: [fromHex('2110')] });
    expect(toHex(pkt)).toMatch(/^80e1/);
    expect(toHex(pkt.subarray(12))).toBe('001000102110');
  });

  test('setInterleavedChannel copies with another channel; the original is untouched', () => {
    const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000 });
    const { interleaved } = p.packetizeBatch(v([idr(2500)], 0));
    const copy = setInterleavedChannel(interleaved, 4);
    expect(copy).not.toBe(interleaved);
    expect(copy.length).toBe(interleaved.length);
    let off = 0;
    while (off < copy.length) {
      expect(copy[off + 1]).toBe(4);
      expect(interleaved[off + 1]).toBe(0);
      off += 4 + ((copy[off + 2] << 8) | copy[off + 3]);
    }
    expect(() => setInterleavedChannel(fromHex('2400'), 1)).toThrow(ParseError);
    expect(() => setInterleavedChannel(fromHex('2400000501'), 1)).toThrow(ParseError);
    expect(() => setInterleavedChannel(fromHex('2500000101'), 1)).toThrow(ParseError);
  });

  test('options and codec mismatches are refused', () => {
    expect(() => new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, mtu: 8 })).toThrow(LalError);
    expect(() => new RtpPacketizer({ codec: 'h264', payloadType: 200, clockRate: 90000 })).toThrow(LalError);
    expect(() => new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 0 })).toThrow(LalError);
    const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000 });
    expect(() => p.packetize({ kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, units: [fromHex('21')] })).toThrow(LalError);
    const g = new RtpPacketizer({ codec: 'g711a', payloadType: 8, clockRate: 8000 });
    expect(() => g.packetize({ kind: 'audio', codec: 'g711a', dts: 0, pts: 0, key: true, units: [new Uint8Array(70000)] })).toThrow(ParseError);
  });
});
