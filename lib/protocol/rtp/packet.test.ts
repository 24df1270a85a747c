import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import {
  decodeRtpPacket,
  encodeRtpPacket,
  encodeRtpPacketInto,
  rtpPacketSize,
  rtpTimestampFromTicks,
  ticksFromRtpTimestamp,
  RtpTimestampUnwrapper,
  seqAfter,
} from './packet.ts';
import type { RtpHeader } from './packet.ts';
import { fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';

const vectors: [string, string, RtpHeader, string][] = [
  [
    'minimal, marker, PT 96',
    '80e0 0001 00000064 12345678 65aabb',
    { marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 100, ssrc: 0x12345678 },
    '65aabb',
  ],
  [
    'PCMA, no marker, max seq and timestamp',
    '8008 ffff ffffffff 00000001 d5d5d5d5',
    { marker: false, payloadType: 8, sequenceNumber: 0xffff, timestamp: 0xffffffff, ssrc: 1 },
    'd5d5d5d5',
  ],
  [
    'two CSRCs, RFC 8285 one-byte extension, 3 bytes of padding',
    'b2e0 1234 deadbeef 01020304 11111111 22222222 bede0001 10aa0000 010203 000003',
    {
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      csrcs: [0x11111111, 0x22222222],
      extension: { profile: 0xbede, data: fromHex('10aa0000') },
      paddingSize: 3,
    },
    '010203',
  ],
  [
    'empty extension and padding only (payload empty)',
    'b000 0000 00000000 00000000 abcd0000 00000004',
    { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, extension: { profile: 0xabcd, data: fromHex('') }, paddingSize: 4 },
    '',
  ],
];

describe('RTP packet (RFC 3550 §5.1)', () => {
  test.each(vectors)('%s: decode and encode byte for byte', (_n, bytes, header, payload) => {
    const buf = fromHex(bytes);
    const p = decodeRtpPacket(buf);
    expect(p.header).toEqual(header);
    expect(toHex(p.payload)).toBe(payload);
    expect(p.payload.buffer).toBe(buf.buffer); // a view, not a copy
    expect(toHex(encodeRtpPacket(header, fromHex(payload)))).toBe(toHex(buf));
    expect(rtpPacketSize(header, p.payload.length)).toBe(buf.length);
  });

  test('encodeRtpPacketInto writes at an offset and returns its size', () => {
    const [, bytes, header, payload] = vectors[2];
    const out = new Uint8Array(3 + fromHex(bytes).length).fill(0xee);
    expect(encodeRtpPacketInto(header, fromHex(payload), out, 3)).toBe(fromHex(bytes).length);
    expect(toHex(out.subarray(0, 3))).toBe('eeeeee');
    expect(toHex(out.subarray(3))).toBe(toHex(fromHex(bytes)));
  });

  const bad: [string, string][] = [
    ['shorter than 12 bytes', '80e0000100000064123456'],
    ['version 1', '40e0 0001 00000064 12345678'],
    ['CSRC count past the end', '83e0 0001 00000064 12345678 11111111'],
    ['extension header past the end', '90e0 0001 00000064 12345678 bede'],
    ['extension length past the end', '90e0 0001 00000064 12345678 bede0002 00000000'],
    ['padding count 0', 'a0e0 0001 00000064 12345678 6500'],
    ['padding count larger than the payload', 'a0e0 0001 00000064 12345678 6505'],
  ];
  test.each(bad)('%s → ParseError', (_n, bytes) => {
    expect(() => decodeRtpPacket(fromHex(bytes))).toThrow(ParseError);
  });

  test('encoder refuses fields out of range', () => {
    const h: RtpHeader = { marker: false, payloadType: 96, sequenceNumber: 0, timestamp: 0, ssrc: 0 };
    expect(() => encodeRtpPacket({ ...h, payloadType: 128 }, fromHex(''))).toThrow(ParseError);
    expect(() => encodeRtpPacket({ ...h, csrcs: new Array(16).fill(1) }, fromHex(''))).toThrow(ParseError);
    expect(() => encodeRtpPacket({ ...h, extension: { profile: 1, data: fromHex('010203') } }, fromHex(''))).toThrow(ParseError);
    expect(() => encodeRtpPacket({ ...h, paddingSize: 256 }, fromHex(''))).toThrow(ParseError);
  });

  test('every truncation, random buffer and mutation: ParseError or a packet that re-encodes exactly', () => {
    const inputs = hostileInputs(vectors.map(([, b]) => fromHex(b)), 7);
    let ok = 0;
    let rejected = 0;
    for (const buf of inputs) {
      const r = outcome(() => {
        const p = decodeRtpPacket(buf);
        // padding bytes other than the count are written as zeros, so compare what carries meaning
        const again = decodeRtpPacket(encodeRtpPacket(p.header, p.payload));
        expect(again.header).toEqual(p.header);
        expect(toHex(again.payload)).toBe(toHex(p.payload));
      });
      if (r === 'ok') ok++;
      else rejected++;
    }
    expect(ok).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('timestamps', () => {
  const toRtp: [string, number, number, number][] = [
    ['video 90 kHz is the DTS itself', 123456, 90000, 123456],
    ['1000 ms at 44.1 kHz', 1000 * 90, 44100, 44100],
    ['1001 ms at 44.1 kHz (floor of ms × clock / 1000)', 1001 * 90, 44100, 44144],
    ['23 ms at 48 kHz', 23 * 90, 48000, 1104],
    ['8 kHz G.711', 40 * 90, 8000, 320],
    ['wraps modulo 2^32 at 90 kHz', 2 ** 32 + 5, 90000, 5],
    ['RTMP ms 2^32 - 1 at 48 kHz stays exact', (2 ** 32 - 1) * 90, 48000, 2 ** 32 - 48],
    ['negative ticks wrap too', -90, 90000, 2 ** 32 - 90],
    ['negative ticks at 8 kHz', -90, 8000, 2 ** 32 - 8],
  ];
  test.each(toRtp)('rtpTimestampFromTicks: %s', (_n, ticks, clock, want) => {
    expect(rtpTimestampFromTicks(ticks, clock)).toBe(want);
  });

  const toTicks: [number, number, number][] = [
    [44100, 44100, 90000],
    [1, 44100, 2],
    [1024, 48000, 1920],
    [2 ** 32 + 160, 8000, (2 ** 32 + 160) * 11.25],
    [-3000, 90000, -3000],
    [-1, 8000, -12],
  ];
  test.each(toTicks)('ticksFromRtpTimestamp(%d, %d) = %d', (ts, clock, want) => {
    expect(ticksFromRtpTimestamp(ts, clock)).toBe(want);
  });

  test('audio converted from absolute timestamps does not drift', () => {
    // 1024-sample AAC frames at 44.1 kHz for about 27 hours
    const n = 100000;
    const ts = n * 1024;
    expect(ticksFromRtpTimestamp(ts, 44100)).toBe(Math.floor((ts * 90000) / 44100));
  });

  test('RtpTimestampUnwrapper follows the 2^32 wrap and B-frame steps back', () => {
    const u = new RtpTimestampUnwrapper();
    expect([0xfffffff0, 0x10, 0x5, 0x20].map((t) => u.unwrap(t))).toEqual([0xfffffff0, 2 ** 32 + 0x10, 2 ** 32 + 5, 2 ** 32 + 0x20]);
    const b = new RtpTimestampUnwrapper();
    expect([1000, 4000, 2000, 3000, 7000].map((t) => b.unwrap(t))).toEqual([1000, 4000, 2000, 3000, 7000]);
    const back = new RtpTimestampUnwrapper();
    expect([10, 0xffffff00].map((t) => back.unwrap(t))).toEqual([10, -256]);
  });

  test('seqAfter compares modulo 2^16', () => {
    expect(seqAfter(1, 0)).toBe(true);
    expect(seqAfter(0, 65535)).toBe(true);
    expect(seqAfter(65535, 0)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
    expect(seqAfter(0x8000, 0)).toBe(false);
    expect(seqAfter(0x7fff, 0)).toBe(true);
  });
});
