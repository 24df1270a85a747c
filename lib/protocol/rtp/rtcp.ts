/**
 * RTCP (RFC 3550 §6): sender and receiver reports, compound packets, and the receiver-side
 * statistics a receiver report needs (RFC 3550 §A.1, §A.3, §A.8). Other packet types (SDES,
 * BYE, APP, feedback) are kept as raw bodies so compound packets round-trip byte for byte.
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |  length = 32-bit words - 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |  (SR only)
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |  RC blocks of 24 bytes
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        | fraction lost |       cumulative number of packets lost       |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |           extended highest sequence number received           |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      interarrival jitter                      |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         last SR (LSR)                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                   delay since last SR (DLSR)                  |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *
 * A receiver report (PT 201) is the same without the sender info.
 */
import { ParseError } from '../../core/errors.ts';
import { putU16be, putU24be, putU32be, u16be, u24be, u32be } from '../../core/bytes.ts';
import { ntpMiddle32, ntpShortFromMs } from './ntp.ts';
import type { NtpTimestamp } from './ntp.ts';
import type { RtpHeader } from './packet.ts';
import { seqAfter } from './packet.ts';

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1). */
export const RtcpPacketType = {
  SenderReport: 200,
  ReceiverReport: 201,
  SourceDescription: 202,
  Goodbye: 203,
  App: 204,
  TransportFeedback: 205,
  PayloadFeedback: 206,
} as const;

const RTCP_HEADER_SIZE = 4;
const REPORT_BLOCK_SIZE = 24;
const SENDER_INFO_SIZE = 20;
/** RC is a 5-bit field. */
const MAX_REPORT_BLOCKS = 31;

export interface RtcpReportBlock {
  /** SSRC of the source this block is about. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, in 1/256 (0..255). */
  fractionLost: number;
  /** Cumulative packets lost; signed 24 bits (duplicates can make it negative). */
  packetsLost: number;
  /** Extended highest sequence number received: cycles << 16 | highest. */
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp (0 when none). */
  lastSenderReport: number;
  /** Delay since that SR in 1/65536 s (0 when none). */
  delaySinceLastSenderReport: number;
}

interface RtcpCommon {
  /** Padding bytes at the end of this packet, count byte included (0 = P bit clear). */
  paddingSize?: number;
}

export interface RtcpSenderReport extends RtcpCommon {
  kind: 'sr';
  ssrc: number;
  ntp: NtpTimestamp;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension bytes after the report blocks (multiple of 4). */
  extension?: Uint8Array;
}

export interface RtcpReceiverReport extends RtcpCommon {
  kind: 'rr';
  ssrc: number;
  reports: RtcpReportBlock[];
  extension?: Uint8Array;
}

/** Any other packet type, kept raw: `count` is the 5-bit RC/SC/FMT field, `body` what follows the 4-byte header. */
export interface RtcpOtherPacket extends RtcpCommon {
  kind: 'other';
  packetType: number;
  count: number;
  body: Uint8Array;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpOtherPacket;

/**
 * Decode a compound RTCP packet (one UDP datagram or interleaved frame) into its packets.
 * Throws ParseError when a header is not version 2 or a length does not fit.
 */
export function decodeRtcpPackets(buf: Uint8Array): RtcpPacket[] {
  if (buf.length === 0) throw new ParseError('rtcp: empty packet', 'truncated');
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < RTCP_HEADER_SIZE) {
      throw new ParseError(`rtcp: ${buf.length - off} trailing bytes at offset ${off} are shorter than a header`, 'truncated');
    }
    const size = (u16be(buf, off + 2) + 1) * 4;
    if (off + size > buf.length) {
      throw new ParseError(`rtcp: packet of ${size} bytes at offset ${off} runs past the ${buf.length}-byte buffer`, 'truncated');
    }
    out.push(decodeOne(buf.subarray(off, off + size), off));
    off += size;
  }
  return out;
}

function decodeOne(p: Uint8Array, at: number): RtcpPacket {
  const b0 = p[0];
  if (b0 >> 6 !== 2) throw new ParseError(`rtcp: version ${b0 >> 6} at offset ${at} is not 2`);
  const count = b0 & 0x1f;
  const type = p[1];
  let end = p.length;
  let paddingSize = 0;
  if (b0 & 0x20) {
    paddingSize = p[end - 1];
    if (paddingSize === 0 || paddingSize > end - RTCP_HEADER_SIZE) {
      throw new ParseError(`rtcp: padding count ${paddingSize} at offset ${at} does not fit the ${end}-byte packet`);
    }
    end -= paddingSize;
  }
  const withPadding = <T extends RtcpPacket>(x: T): T => {
    if (paddingSize > 0) x.paddingSize = paddingSize;
    return x;
  };
  if (type === RtcpPacketType.SenderReport || type === RtcpPacketType.ReceiverReport) {
    const sr = type === RtcpPacketType.SenderReport;
    const fixed = RTCP_HEADER_SIZE + 4 + (sr ? SENDER_INFO_SIZE : 0);
    const need = fixed + count * REPORT_BLOCK_SIZE;
    if (need > end) {
      throw new ParseError(`rtcp: ${sr ? 'SR' : 'RR'} with ${count} report blocks needs ${need} bytes, packet at offset ${at} has ${end}`, 'truncated');
    }
    const ssrc = u32be(p, 4);
    const reports: RtcpReportBlock[] = [];
    for (let i = 0; i < count; i++) reports.push(decodeReportBlock(p, fixed + i * REPORT_BLOCK_SIZE));
    const extension = need < end ? p.subarray(need, end) : undefined;
    if (sr) {
      const r: RtcpSenderReport = {
        kind: 'sr',
        ssrc,
        ntp: { seconds: u32be(p, 8), fraction: u32be(p, 12) },
        rtpTimestamp: u32be(p, 16),
        packetCount: u32be(p, 20),
        octetCount: u32be(p, 24),
        reports,
      };
      if (extension) r.extension = extension;
      return withPadding(r);
    }
    const r: RtcpReceiverReport = { kind: 'rr', ssrc, reports };
    if (extension) r.extension = extension;
    return withPadding(r);
  }
  return withPadding({ kind: 'other', packetType: type, count, body: p.subarray(RTCP_HEADER_SIZE, end) } as RtcpOtherPacket);
}

function decodeReportBlock(p: Uint8Array, o: number): RtcpReportBlock {
  const lost = u24be(p, o + 5);
  return {
    ssrc: u32be(p, o),
    fractionLost: p[o + 4],
    packetsLost: lost & 0x800000 ? lost - 0x1000000 : lost,
    highestSequence: u32be(p, o + 8),
    jitter: u32be(p, o + 12),
    lastSenderReport: u32be(p, o + 16),
    delaySinceLastSenderReport: u32be(p, o + 20),
  };
}

/** Bytes of one encoded packet (header, body, padding). */
export function rtcpPacketSize(p: RtcpPacket): number {
  return RTCP_HEADER_SIZE + bodySize(p) + (p.paddingSize ?? 0);
}

function bodySize(p: RtcpPacket): number {
  if (p.kind === 'other') return p.body.length;
  return 4 + (p.kind === 'sr' ? SENDER_INFO_SIZE : 0) + p.reports.length * REPORT_BLOCK_SIZE + (p.extension?.length ?? 0);
}

/** Write one packet at `out[off]`; returns the bytes written. Throws ParseError on fields out of range. */
export function encodeRtcpPacketInto(p: RtcpPacket, out: Uint8Array, off: number): number {
  const size = rtcpPacketSize(p);
  if (size % 4 !== 0) throw new ParseError(`rtcp: packet of ${size} bytes is not a multiple of 4`);
  if (size > 0x10000 * 4) throw new ParseError(`rtcp: packet of ${size} bytes does not fit the 16-bit length`);
  const pad = p.paddingSize ?? 0;
  if (pad < 0 || pad > 255) throw new ParseError(`rtcp: padding size ${pad} is not 0..255`);
  const count = p.kind === 'other' ? p.count : p.reports.length;
  if (count < 0 || count > MAX_REPORT_BLOCKS) throw new ParseError(`rtcp: count ${count} does not fit 5 bits`);
  const type = p.kind === 'sr' ? RtcpPacketType.SenderReport : p.kind === 'rr' ? RtcpPacketType.ReceiverReport : p.packetType;
  out[off] = 0x80 | (pad > 0 ? 0x20 : 0) | count;
  out[off + 1] = type & 0xff;
  putU16be(out, off + 2, size / 4 - 1);
  let o = off + RTCP_HEADER_SIZE;
  if (p.kind === 'other') {
    out.set(p.body, o);
    o += p.body.length;
  } else {
    putU32be(out, o, p.ssrc >>> 0);
    o += 4;
    if (p.kind === 'sr') {
      putU32be(out, o, p.ntp.seconds >>> 0);
      putU32be(out, o + 4, p.ntp.fraction >>> 0);
      putU32be(out, o + 8, p.rtpTimestamp >>> 0);
      putU32be(out, o + 12, p.packetCount >>> 0);
      putU32be(out, o + 16, p.octetCount >>> 0);
      o += SENDER_INFO_SIZE;
    }
    for (const r of p.reports) {
      putU32be(out, o, r.ssrc >>> 0);
      out[o + 4] = Math.max(0, Math.min(255, r.fractionLost));
      putU24be(out, o + 5, Math.max(-0x800000, Math.min(0x7fffff, r.packetsLost)) & 0xffffff);
      putU32be(out, o + 8, r.highestSequence >>> 0);
      putU32be(out, o + 12, r.jitter >>> 0);
      putU32be(out, o + 16, r.lastSenderReport >>> 0);
      putU32be(out, o + 20, r.delaySinceLastSenderReport >>> 0);
      o += REPORT_BLOCK_SIZE;
    }
    if (p.extension) {
      out.set(p.extension, o);
      o += p.extension.length;
    }
  }
  if (pad > 0) {
    out.fill(0, o, o + pad - 1);
    out[o + pad - 1] = pad;
    o += pad;
  }
  return o - off;
}

/** Encode packets back to back as one compound packet. */
export function encodeRtcpPackets(packets: readonly RtcpPacket[]): Uint8Array {
  let n = 0;
  for (const p of packets) n += rtcpPacketSize(p);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of packets) off += encodeRtcpPacketInto(p, out, off);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Receiver statistics

/**
 * Per-source reception statistics for receiver reports: extended highest sequence number and
 * cumulative loss (RFC 3550 §A.1, §A.3) and interarrival jitter (§A.8). Sans-I/O: the caller
 * passes arrival times in ms from any monotonic clock.
 */
export class RtpReceptionStats {
  private ssrc = 0;
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  private jitter = 0;

  constructor(readonly clockRate: number) {}

  /** Count one received packet. */
  update(header: RtpHeader, arrivalMs: number): void {
    const seq = header.sequenceNumber;
    if (!this.started) {
      this.started = true;
      this.ssrc = header.ssrc;
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else if (seqAfter(seq, this.maxSeq)) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    this.received++;
    const transit = (arrivalMs * this.clockRate) / 1000 - header.timestamp;
    if (this.transit !== undefined) {
      let d = transit - this.transit;
      // a 2^32 timestamp wrap is not jitter
      if (d > 0x80000000) d -= 0x100000000;
      else if (d < -0x80000000) d += 0x100000000;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.transit = transit;
  }

  /** Whether any packet was counted (no report block before that). */
  get hasData(): boolean {
    return this.started;
  }

  /**
   * A report block about the source, advancing the interval counters (fraction lost is per
   * interval between two calls). `lastSr`: the NTP time of the last SR from the source and when
   * it arrived, for LSR/DLSR.
   */
  reportBlock(nowMs: number, lastSr?: { ntp: NtpTimestamp; arrivalMs: number }): RtcpReportBlock {
    const extMax = this.cycles + this.maxSeq;
    const expected = extMax - this.baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      packetsLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      highestSequence: extMax >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lastSenderReport: lastSr ? ntpMiddle32(lastSr.ntp) : 0,
      delaySinceLastSenderReport: lastSr ? ntpShortFromMs(nowMs - lastSr.arrivalMs) : 0,
    };
  }
}
