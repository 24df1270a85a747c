/**
 * PES packet header (ISO/IEC 13818-1 §2.4.3.6, Table 2-21): one parser shared by the MPEG-TS
 * demuxer and the GB28181 program-stream demuxer, and the encoder the TS muxer writes with
 * (docs/media.md §4.6).
 *
 *   packet_start_code_prefix u(24) = 00 00 01 | stream_id u(8) | PES_packet_length u(16)
 *   — for streams other than program_stream_map, padding, private_stream_2, ECM, EMM,
 *     directory, DSMCC and H.222.1 type E:
 *   '10' | PES_scrambling_control u(2) | PES_priority | data_alignment_indicator | copyright |
 *   original_or_copy | PTS_DTS_flags u(2) | ESCR_flag | ES_rate_flag | DSM_trick_mode_flag |
 *   additional_copy_info_flag | PES_CRC_flag | PES_extension_flag | PES_header_data_length u(8)
 *   [PTS: '0010' or '0011' | PTS[32..30] | 1 | PTS[29..15] | 1 | PTS[14..0] | 1]   (5 bytes)
 *   [DTS: '0001' | DTS[32..30] | 1 | DTS[29..15] | 1 | DTS[14..0] | 1]             (5 bytes)
 *   … other optional fields and stuffing, up to 9 + PES_header_data_length
 *
 * Marker bits are not checked (muxers in the wild get them wrong; ffmpeg ignores them too).
 */
import { ParseError } from '../../core/errors.ts';

/** stream_id values lal writes (Table 2-22; docs/media.md §4.2, §4.3). */
export const PesStreamId = {
  /** First MPEG audio stream number: the TS muxer's audio (AAC, Opus). */
  Audio: 0xc0,
  /** First MPEG video stream number: the TS muxer's video (H.264, H.265). */
  Video: 0xe0,
  ProgramStreamMap: 0xbc,
  PrivateStream1: 0xbd,
  Padding: 0xbe,
  PrivateStream2: 0xbf,
  Ecm: 0xf0,
  Emm: 0xf1,
  Dsmcc: 0xf2,
  H2221TypeE: 0xf8,
  ProgramStreamDirectory: 0xff,
} as const;

/** PTS_DTS_flags (§2.4.3.7): '10' PTS only, '11' PTS and DTS. */
export const PtsDtsFlags = { None: 0, PtsOnly: 2, PtsDts: 3 } as const;

/** Timestamps are 33-bit counters of a 90 kHz clock. */
export const TIMESTAMP_MODULO = 2 ** 33;

/** The fixed part: start code (3), stream_id (1), PES_packet_length (2). */
export const PES_START_SIZE = 6;
/** With the '10' flags bytes and PES_header_data_length. */
export const PES_FIXED_HEADER_SIZE = 9;

export interface PesHeader {
  streamId: number;
  /** PES_packet_length: bytes after this field; 0 = unbounded (video in TS only). */
  pesPacketLength: number;
  /** 90 kHz, 33 bits, as coded. */
  pts?: number;
  /** Only when coded (PTS_DTS_flags '11'); otherwise DTS equals PTS. */
  dts?: number;
  /** PES_header_data_length (0 for streams without the optional header). */
  headerLength: number;
  /** Offset of the first payload byte from the start code. */
  payloadOffset: number;
}

/** Streams whose PES packets have no optional header: the payload follows PES_packet_length. */
function hasNoOptionalHeader(streamId: number): boolean {
  return (
    streamId === PesStreamId.ProgramStreamMap || streamId === PesStreamId.Padding ||
    streamId === PesStreamId.PrivateStream2 || streamId === PesStreamId.Ecm ||
    streamId === PesStreamId.Emm || streamId === PesStreamId.ProgramStreamDirectory ||
    streamId === PesStreamId.Dsmcc || streamId === PesStreamId.H2221TypeE
  );
}

/** Read a 5-byte PTS/DTS field (the 4-bit prefix is not checked). */
export function decodeTimestamp(buf: Uint8Array, off: number): number {
  const high = (buf[off] >> 1) & 0x07; // bits 32..30
  const mid = (buf[off + 1] << 7) | (buf[off + 2] >> 1); // bits 29..15
  const low = (buf[off + 3] << 7) | (buf[off + 4] >> 1); // bits 14..0
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/**
 * Write a 5-byte PTS/DTS field with prefix nibble `prefix` (2 PTS alone, 3 PTS before a DTS,
 * 1 DTS). `ts` is taken modulo 2^33 (negative values wrap). Returns 5.
 */
export function encodeTimestampInto(prefix: number, ts: number, out: Uint8Array, off: number): number {
  let v = ts % TIMESTAMP_MODULO;
  if (v < 0) v += TIMESTAMP_MODULO;
  v = Math.floor(v);
  const high = Math.floor(v / 2 ** 30); // 3 bits
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const low = v & 0x7fff;
  out[off] = (prefix << 4) | (high << 1) | 1;
  out[off + 1] = mid >> 7;
  out[off + 2] = ((mid & 0x7f) << 1) | 1;
  out[off + 3] = low >> 7;
  out[off + 4] = ((low & 0x7f) << 1) | 1;
  return 5;
}

/**
 * Parse the PES header at the start of `buf` (only the header needs to be present). Throws
 * ParseError when the start code is missing, the header is truncated, or PTS_DTS_flags claims
 * more timestamp bytes than PES_header_data_length holds.
 */
export function decodePesHeader(buf: Uint8Array): PesHeader {
  if (buf.length < PES_START_SIZE) {
    throw new ParseError(`pes: header needs ${PES_START_SIZE} bytes, have ${buf.length}`, 'truncated');
  }
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 1) {
    throw new ParseError(`pes: no start code (got ${buf[0]} ${buf[1]} ${buf[2]})`);
  }
  const streamId = buf[3];
  const pesPacketLength = (buf[4] << 8) | buf[5];
  if (hasNoOptionalHeader(streamId)) {
    return { streamId, pesPacketLength, headerLength: 0, payloadOffset: PES_START_SIZE };
  }
  if (buf.length < PES_FIXED_HEADER_SIZE) {
    throw new ParseError(`pes: header of stream 0x${streamId.toString(16)} needs ${PES_FIXED_HEADER_SIZE} bytes, have ${buf.length}`, 'truncated');
  }
  if ((buf[6] & 0xc0) !== 0x80) {
    throw new ParseError(`pes: stream 0x${streamId.toString(16)} header does not start with '10' (MPEG-1 PES is not supported)`);
  }
  const flags = buf[7] >> 6;
  const headerLength = buf[8];
  const payloadOffset = PES_FIXED_HEADER_SIZE + headerLength;
  if (buf.length < payloadOffset) {
    throw new ParseError(`pes: header data of ${headerLength} bytes runs past the end (${buf.length - PES_FIXED_HEADER_SIZE} left)`, 'truncated');
  }
  if (pesPacketLength !== 0 && pesPacketLength < payloadOffset - PES_START_SIZE) {
    throw new ParseError(`pes: PES_packet_length ${pesPacketLength} is shorter than its ${payloadOffset - PES_START_SIZE}-byte header`);
  }
  const h: PesHeader = { streamId, pesPacketLength, headerLength, payloadOffset };
  if (flags === PtsDtsFlags.PtsOnly || flags === PtsDtsFlags.PtsDts) {
    const need = flags === PtsDtsFlags.PtsDts ? 10 : 5;
    if (headerLength < need) {
      throw new ParseError(`pes: PTS_DTS_flags ${flags} need ${need} header bytes, PES_header_data_length is ${headerLength}`);
    }
    h.pts = decodeTimestamp(buf, PES_FIXED_HEADER_SIZE);
    if (flags === PtsDtsFlags.PtsDts) h.dts = decodeTimestamp(buf, PES_FIXED_HEADER_SIZE + 5);
  }
  // flags '01' is forbidden; treated as "no timestamps" as ffmpeg does.
  return h;
}

export interface PesHeaderInput {
  streamId: number;
  /** Bytes of payload that follow the header (for PES_packet_length). */
  payloadLength: number;
  /** 90 kHz, written modulo 2^33. */
  pts: number;
  /** Written only when present and different from `pts` (docs/media.md §4.3). */
  dts?: number;
}

/** Size of the header `encodePesHeaderInto` writes: 14 (PTS) or 19 (PTS and DTS). */
export function pesHeaderSize(h: PesHeaderInput): number {
  return PES_FIXED_HEADER_SIZE + (h.dts !== undefined && h.dts !== h.pts ? 10 : 5);
}

/**
 * Write `00 00 01 | stream_id | PES_packet_length | 80 | 80 or C0 | 05 or 0A | PTS [| DTS]`
 * (docs/media.md §4.6). PES_packet_length = payload + 3 + header data length, or 0 when that
 * exceeds 65535. Returns the bytes written.
 */
export function encodePesHeaderInto(h: PesHeaderInput, out: Uint8Array, off: number): number {
  const withDts = h.dts !== undefined && h.dts !== h.pts;
  const dataLength = withDts ? 10 : 5;
  const size = PES_FIXED_HEADER_SIZE + dataLength;
  if (off < 0 || off + size > out.length) {
    throw new ParseError(`pes: no room for a ${size}-byte header at offset ${off} of ${out.length}`, 'truncated');
  }
  const len = h.payloadLength + 3 + dataLength;
  const pesPacketLength = len > 0xffff ? 0 : len;
  out[off] = 0;
  out[off + 1] = 0;
  out[off + 2] = 1;
  out[off + 3] = h.streamId;
  out[off + 4] = pesPacketLength >> 8;
  out[off + 5] = pesPacketLength & 0xff;
  out[off + 6] = 0x80; // '10', not scrambled, no priority/alignment/copyright/original
  out[off + 7] = withDts ? 0xc0 : 0x80;
  out[off + 8] = dataLength;
  encodeTimestampInto(withDts ? PtsDtsFlags.PtsDts : PtsDtsFlags.PtsOnly, h.pts, out, off + 9);
  if (withDts) encodeTimestampInto(1, h.dts as number, out, off + 14);
  return size;
}
