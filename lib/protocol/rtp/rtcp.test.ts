import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { decodeRtcpPackets, encodeRtcpPackets, encodeRtcpPacketInto, rtcpPacketSize, RtcpPacketType, RtpReceptionStats } from './rtcp.ts';
import type { RtcpPacket } from './rtcp.ts';
import { ntpFromUnixMs, ntpMiddle32, ntpShortFromMs, unixMsFromNtp, NTP_UNIX_OFFSET_SECONDS } from './ntp.ts';
import { FFMPEG_H264_AAC_CAPTURE, FFMPEG_H265_PCMA_CAPTURE } from './_testing.ts';
import { fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';

const SR =
  '81c8000c 11223344 e8c8a7a8 80000000 00015f90 00000064 00002710' + // header, SSRC, NTP, RTP ts, packets, octets
  '55667788 40 000005 00010234 00000010 a7a88000 00020000'; // one report block
const SR_DECODED: RtcpPacket = {
  kind: 'sr',
  ssrc: 0x11223344,
  ntp: { seconds: 0xe8c8a7a8, fraction: 0x80000000 },
  rtpTimestamp: 90000,
  packetCount: 100,
  octetCount: 10000,
  reports: [
    { ssrc: 0x55667788, fractionLost: 64, packetsLost: 5, highestSequence: 0x10234, jitter: 16, lastSenderReport: 0xa7a88000, delaySinceLastSenderReport: 0x20000 },
  ],
};
const SDES = '81ca0003 11223344 01056c616c3031 00'; // CNAME "lal01", end of items
const BYE = '81cb0001 11223344';

const vectors: [string, string, RtcpPacket[]][] = [
  ['SR with one report block', SR, [SR_DECODED]],
  // docs/protocols.md §7.2: the empty RR a UDP pull sends to open NAT bindings
  ['empty RR', '80c90001 00000000', [{ kind: 'rr', ssrc: 0, reports: [] }]],
  [
    'RR with negative cumulative loss (duplicates)',
    '81c90007 0badcafe 11223344 00 ffffff 0000ffff 00000000 00000000 00000000',
    [{ kind: 'rr', ssrc: 0x0badcafe, reports: [{ ssrc: 0x11223344, fractionLost: 0, packetsLost: -1, highestSequence: 0xffff, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 }] }],
  ],
  ['RR with padding', 'a0c90002 00000001 00000004', [{ kind: 'rr', ssrc: 1, reports: [], paddingSize: 4 }]],
  ['SR with a profile-specific extension', '80c80007 00000001 00000000 00000000 00000000 00000000 00000000 cafebabe', [
    { kind: 'sr', ssrc: 1, ntp: { seconds: 0, fraction: 0 }, rtpTimestamp: 0, packetCount: 0, octetCount: 0, reports: [], extension: fromHex('cafebabe') },
  ]],
  [
    'compound SR + SDES + BYE (other types kept raw)',
    SR + SDES + BYE,
    [
      SR_DECODED,
      { kind: 'other', packetType: RtcpPacketType.SourceDescription, count: 1, body: fromHex('11223344 01056c616c3031 00') },
      { kind: 'other', packetType: RtcpPacketType.Goodbye, count: 1, body: fromHex('11223344') },
    ],
  ],
];

describe('RTCP (RFC 3550 §6.4)', () => {
  test.each(vectors)('%s: decode and encode byte for byte', (_n, bytes, packets) => {
    const buf = fromHex(bytes);
    expect(decodeRtcpPackets(buf)).toEqual(packets);
    expect(toHex(encodeRtcpPackets(packets))).toBe(toHex(buf));
    expect(packets.reduce((n, p) => n + rtcpPacketSize(p), 0)).toBe(buf.length);
  });

  test("ffmpeg's sender reports from the captures round-trip", () => {
    let n = 0;
    for (const cap of [FFMPEG_H264_AAC_CAPTURE, FFMPEG_H265_PCMA_CAPTURE]) {
      for (const f of cap.frames) {
        const b = fromHex(f);
        if (b[1] % 2 === 0) continue; // RTP channel
        const body = b.subarray(4);
        const [sr, ...rest] = decodeRtcpPackets(body);
        expect(rest).toEqual([]);
        expect(sr.kind).toBe('sr');
        if (sr.kind !== 'sr') continue;
        expect(sr.reports).toEqual([]);
        expect(unixMsFromNtp(sr.ntp)).toBeGreaterThan(Date.UTC(2020, 0, 1));
        expect(toHex(encodeRtcpPackets([sr]))).toBe(toHex(body));
        n++;
      }
    }
    expect(n).toBe(4);
  });

  test('encodeRtcpPacketInto writes at an offset', () => {
    const out = new Uint8Array(2 + 8).fill(0xee);
    expect(encodeRtcpPacketInto({ kind: 'rr', ssrc: 0, reports: [] }, out, 2)).toBe(8);
    expect(toHex(out)).toBe('eeee80c9000100000000');
  });

  test('encoder clamps loss fields and refuses what does not fit', () => {
    const block = { ssrc: 1, fractionLost: 300, packetsLost: -0x900000, highestSequence: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 };
    const [rr] = decodeRtcpPackets(encodeRtcpPackets([{ kind: 'rr', ssrc: 2, reports: [block] }]));
    expect(rr.kind === 'rr' && rr.reports[0]).toMatchObject({ fractionLost: 255, packetsLost: -0x800000 });
    expect(() => encodeRtcpPackets([{ kind: 'rr', ssrc: 2, reports: new Array(32).fill(block) }])).toThrow(ParseError);
    expect(() => encodeRtcpPackets([{ kind: 'other', packetType: 204, count: 0, body: fromHex('010203') }])).toThrow(ParseError);
  });

  const bad: [string, string][] = [
    ['empty', ''],
    ['version 1', '40c90001 00000000'],
    ['length past the end', '80c90002 00000000'],
    ['trailing bytes shorter than a header', '80c90001 00000000 80c9'],
    ['more report blocks than the length holds', '81c90001 00000000'],
    ['padding count 0', 'a0c90001 00000000'],
    ['padding larger than the packet', 'a0c90001 000000ff'],
  ];
  test.each(bad)('%s → ParseError', (_n, bytes) => {
    expect(() => decodeRtcpPackets(fromHex(bytes))).toThrow(ParseError);
  });

  test('hostile input: ParseError only; whatever decodes re-encodes to the same bytes', () => {
    let ok = 0;
    let rejected = 0;
    for (const buf of hostileInputs(vectors.map(([, b]) => fromHex(b)), 11)) {
      const r = outcome(() => {
        const ps = decodeRtcpPackets(buf);
        const again = decodeRtcpPackets(encodeRtcpPackets(ps));
        expect(again).toEqual(ps);
      });
      if (r === 'ok') ok++;
      else rejected++;
    }
    expect(ok).toBeGreaterThan(20);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('NTP timestamps', () => {
  test('Unix ms ↔ NTP', () => {
    expect(ntpFromUnixMs(0)).toEqual({ seconds: NTP_UNIX_OFFSET_SECONDS, fraction: 0 });
    expect(ntpFromUnixMs(1500)).toEqual({ seconds: NTP_UNIX_OFFSET_SECONDS + 1, fraction: 0x80000000 });
    expect(ntpFromUnixMs(1596612102250)).toEqual({ seconds: 3805600902, fraction: 0x40000000 });
    // 2020-08-05T07:21:42.508Z (a value from LAL's ntp test)
    expect(Math.round(unixMsFromNtp({ seconds: 3805600902, fraction: 2181843386 }))).toBe(1596612102508);
    const now = 1700000000123;
    expect(Math.abs(unixMsFromNtp(ntpFromUnixMs(now)) - now)).toBeLessThan(0.001);
  });

  test('era 1: after 2036-02-07 the seconds wrap', () => {
    const ms = Date.UTC(2040, 0, 1);
    const ntp = ntpFromUnixMs(ms);
    expect(ntp.seconds).toBeLessThan(0x80000000);
    expect(unixMsFromNtp(ntp)).toBe(ms);
  });

  test('middle 32 bits (LSR) and DLSR units', () => {
    expect(ntpMiddle32({ seconds: 0xe8c8a7a8, fraction: 0x80000000 })).toBe(0xa7a88000);
    expect(ntpShortFromMs(1000)).toBe(65536);
    expect(ntpShortFromMs(1.5)).toBe(98);
    expect(ntpShortFromMs(-5)).toBe(0);
  });
});

describe('RtpReceptionStats (RFC 3550 §A.1, §A.3, §A.8)', () => {
  const hdr = (seq: number, ts: number) => ({ marker: false, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 0x55667788 });

  test('loss, fraction lost per interval and the extended highest sequence across a wrap', () => {
    const s = new RtpReceptionStats(90000);
    expect(s.hasData).toBe(false);
    const seqs = [65530, 65531, 65532, 65534, 65535, 0, 1, 2, 4, 5, 6, 7, 8, 9];
    seqs.forEach((q, i) => s.update(hdr(q, i * 3000), i * 33.3333333));
    expect(s.hasData).toBe(true);
    const b = s.reportBlock(1000);
    expect(b).toMatchObject({ ssrc: 0x55667788, packetsLost: 2, fractionLost: 32, highestSequence: 0x10009, lastSenderReport: 0, delaySinceLastSenderReport: 0 });
    expect(b.jitter).toBeLessThanOrEqual(1);
    // nothing new: the interval has no loss
    expect(s.reportBlock(2000)).toMatchObject({ packetsLost: 2, fractionLost: 0 });
    // a late duplicate makes the cumulative loss go down, not the highest sequence
    s.update(hdr(3, 0), 3000);
    expect(s.reportBlock(3000)).toMatchObject({ packetsLost: 1, highestSequence: 0x10009 });
  });

  test('jitter grows with irregular arrival; LSR/DLSR from the last SR', () => {
    const s = new RtpReceptionStats(90000);
    for (let i = 0; i < 50; i++) s.update(hdr(i, i * 3600), i * 40 + (i % 2 ? 10 : 0));
    const sr = ntpFromUnixMs(Date.UTC(2024, 0, 1));
    const b = s.reportBlock(5000, { ntp: sr, arrivalMs: 4500 });
    expect(b.jitter).toBeGreaterThan(500); // ±10 ms at 90 kHz is 900 units of transit difference
    expect(b.jitter).toBeLessThan(900);
    expect(b.lastSenderReport).toBe(ntpMiddle32(sr));
    expect(b.delaySinceLastSenderReport).toBe(32768);
    // the block encodes into an RR
    const rr = encodeRtcpPackets([{ kind: 'rr', ssrc: 1, reports: [b] }]);
    expect(rr.length).toBe(32);
    expect(decodeRtcpPackets(rr)).toEqual([{ kind: 'rr', ssrc: 1, reports: [b] }]);
  });
});
