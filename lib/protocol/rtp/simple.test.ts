import { describe, expect, test } from 'bun:test';
import type { AvPacket } from '../../core/packet.ts';
import { SimpleDepacketizer, simplePayload } from './simple.ts';
import type { SimpleRtpCodec } from './simple.ts';
import { decodeRtpPacket } from './packet.ts';
import { RtpPacketizer } from './packetizer.ts';
import { mulberry32, randomBytes, toHex } from '../../core/testing.ts';

const cases: [SimpleRtpCodec, number, number, number][] = [
  // codec, payload type, clock, frame bytes
  ['g711a', 8, 8000, 160],
  ['g711u', 0, 8000, 320],
  ['opus', 101, 48000, 120],
];

describe('G.711 and Opus (RFC 3551, RFC 7587)', () => {
  test.each(cases)('%s: one frame per packet, payload = frame, timestamps from the clock', (codec, pt, clock, size) => {
    const p = new RtpPacketizer({ codec, payloadType: pt, clockRate: clock, sequenceNumber: 0, ssrc: 5 });
    const d = new SimpleDepacketizer({ codec, clockRate: clock, payloadType: pt });
    const rnd = mulberry32(pt);
    const frameMs = codec === 'opus' ? 20 : (size / 8);
    for (let i = 0; i < 20; i++) {
      const f = randomBytes(rnd, size);
      const ms = i * frameMs;
      const pkt: AvPacket = { kind: 'audio', codec, dts: ms * 90, pts: ms * 90, key: true, units: [f] };
      const [raw, ...rest] = p.packetize(pkt);
      expect(rest).toEqual([]);
      const r = decodeRtpPacket(raw);
      expect(r.header).toMatchObject({ payloadType: pt, marker: true, sequenceNumber: i, ssrc: 5, timestamp: (ms * clock) / 1000 });
      expect(toHex(r.payload)).toBe(toHex(f));
      const [out] = d.push(r);
      expect(out).toMatchObject({ kind: 'audio', codec, dts: ms * 90, pts: ms * 90, key: true });
      expect(toHex(out.units[0])).toBe(toHex(f));
    }
  });

  test('empty payloads and other payload types are dropped', () => {
    const d = new SimpleDepacketizer({ codec: 'g711a', clockRate: 8000, payloadType: 8 });
    const header = { marker: true, payloadType: 8, sequenceNumber: 1, timestamp: 0, ssrc: 1 };
    expect(d.push({ header, payload: new Uint8Array(0) })).toEqual([]);
    expect(d.push({ header: { ...header, payloadType: 0 }, payload: Uint8Array.of(1) })).toEqual([]);
    expect(d.drops).toMatchObject({ empty: 1, payloadType: 1 });
    expect(d.flush()).toEqual([]);
    expect(simplePayload(Uint8Array.of(1, 2))).toEqual([Uint8Array.of(1, 2)]);
  });
});
