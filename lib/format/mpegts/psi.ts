/**
 * Program-specific information (ISO/IEC 13818-1 §2.4.4): PAT and PMT sections, encoded exactly
 * as LAL writes them (docs/media.md §4.1) and decoded for the demuxer.
 *
 *   section: table_id u(8) | section_syntax_indicator 1 | '0' | reserved 2 | section_length u(12)
 *            table_id_extension u(16) | reserved 2 | version_number u(5) | current_next 1 |
 *            section_number u(8) | last_section_number u(8) | … | CRC_32 (crc32.ts)
 *   PAT body: { program_number u(16) | reserved 3 | PID u(13) }*          (program 0 → NIT PID)
 *   PMT body: reserved 3 | PCR_PID u(13) | reserved 4 | program_info_length u(12) | descriptors
 *             { stream_type u(8) | reserved 3 | elementary_PID u(13) | reserved 4 |
 *               ES_info_length u(12) | descriptors }*
 * In a TS packet a section follows pointer_field (u(8), bytes to skip) when PUSI is set.
 */
import { ParseError } from '../../core/errors.ts';
import { crc32Mpeg2 } from './crc32.ts';
import { encodeTsPacketHeaderInto, TsAdaptationFieldControl } from './packet.ts';
import { TS_PACKET_SIZE } from './types.ts';

/** PIDs of LAL's single-program layout (docs/media.md §4.1). */
export const TsPid = {
  Pat: 0x0000,
  Pmt: 0x1001,
  Video: 0x0100,
  Audio: 0x0101,
  Null: 0x1fff,
} as const;

/** stream_type values lal writes or recognises (Table 2-34; ITU-T H.222.0 amendments). */
export const TsStreamType = {
  Mpeg1Audio: 0x03,
  Mpeg2Audio: 0x04,
  PrivateData: 0x06,
  AacAdts: 0x0f,
  H264: 0x1b,
  H265: 0x24,
} as const;

/** table_id values (Table 2-31). */
export const TableId = { Pat: 0x00, Pmt: 0x02 } as const;

/** Descriptor tags used for Opus in TS (ETSI TS 102 366 annex; docs/media.md §4.1). */
export const DescriptorTag = { Registration: 0x05, Extension: 0x7f } as const;

/** section_length is 12 bits but must not exceed 1021 for PAT/PMT (§2.4.4.3, §2.4.4.8). */
export const MAX_SECTION_LENGTH = 1021;
/** table_id + flags/section_length (3 bytes precede the counted part). */
export const SECTION_HEADER_SIZE = 3;
const CRC_SIZE = 4;

/** Codec names the TS layer reports; `other` = a stream type lal does not convert. */
export type TsCodec = 'h264' | 'h265' | 'aac' | 'opus' | 'other';

export interface PmtStreams {
  video?: 'h264' | 'h265';
  audio?: 'aac' | 'opus';
}

/** `05 04 'O' 'p' 'u' 's'` then `7F 02 80 02` (extension descriptor: Opus, channel config 2). */
const OPUS_DESCRIPTORS = Uint8Array.of(0x05, 0x04, 0x4f, 0x70, 0x75, 0x73, 0x7f, 0x02, 0x80, 0x02);

function finishSection(section: Uint8Array): Uint8Array {
  const end = section.length - CRC_SIZE;
  const crc = crc32Mpeg2(section, 0, end);
  section[end] = crc >>> 24;
  section[end + 1] = (crc >>> 16) & 0xff;
  section[end + 2] = (crc >>> 8) & 0xff;
  section[end + 3] = crc & 0xff;
  return section;
}

/** A section in its own packet: PUSI, CC 0, pointer_field 0, `FF` stuffing (docs/media.md §4.1). */
function psiPacket(pid: number, section: Uint8Array): Uint8Array {
  const out = new Uint8Array(TS_PACKET_SIZE);
  let w = encodeTsPacketHeaderInto({ pid, payloadUnitStart: true, adaptationFieldControl: TsAdaptationFieldControl.Payload, continuityCounter: 0 }, out, 0);
  out[w++] = 0; // pointer_field
  out.set(section, w);
  out.fill(0xff, w + section.length);
  return out;
}

/** The PAT section: transport_stream_id 1, version 0, program 1 → PID 0x1001. */
export function encodePatSection(): Uint8Array {
  const s = new Uint8Array(16);
  s[0] = TableId.Pat;
  s[1] = 0xb0; // syntax 1, '0', reserved 11, section_length high bits 0
  s[2] = 13; // section_length
  s[3] = 0x00; // transport_stream_id 1
  s[4] = 0x01;
  s[5] = 0xc1; // reserved 11, version 0, current_next 1
  s[6] = 0; // section_number
  s[7] = 0; // last_section_number
  s[8] = 0x00; // program_number 1
  s[9] = 0x01;
  s[10] = 0xe0 | (TsPid.Pmt >> 8);
  s[11] = TsPid.Pmt & 0xff;
  return finishSection(s);
}

/** The PAT packet (188 bytes): `47 40 00 10 00 | 00 B0 0D 00 01 C1 00 00 00 01 F0 01 | 2E 70 19 05 | FF…`. */
export function encodePat(): Uint8Array {
  return psiPacket(TsPid.Pat, encodePatSection());
}

/**
 * The PMT section for program 1: PCR PID 0x100 always (docs/quirks.md Q-TS-1), program_info_length 0,
 * video on 0x100 (1B/24), audio on 0x101 (0F, or 06 with the Opus descriptors).
 */
export function encodePmtSection(streams: PmtStreams): Uint8Array {
  const audioInfo = streams.audio === 'opus' ? OPUS_DESCRIPTORS.length : 0;
  const esBytes = (streams.video ? 5 : 0) + (streams.audio ? 5 + audioInfo : 0);
  const sectionLength = 9 + esBytes + CRC_SIZE;
  const s = new Uint8Array(SECTION_HEADER_SIZE + sectionLength);
  s[0] = TableId.Pmt;
  s[1] = 0xb0 | (sectionLength >> 8);
  s[2] = sectionLength & 0xff;
  s[3] = 0x00; // program_number 1
  s[4] = 0x01;
  s[5] = 0xc1;
  s[6] = 0;
  s[7] = 0;
  s[8] = 0xe0 | (TsPid.Video >> 8); // PCR_PID
  s[9] = TsPid.Video & 0xff;
  s[10] = 0xf0; // program_info_length 0
  s[11] = 0x00;
  let w = 12;
  const entry = (type: number, pid: number, info: Uint8Array | undefined): void => {
    s[w] = type;
    s[w + 1] = 0xe0 | (pid >> 8);
    s[w + 2] = pid & 0xff;
    const n = info?.length ?? 0;
    s[w + 3] = 0xf0 | (n >> 8);
    s[w + 4] = n & 0xff;
    w += 5;
    if (info) {
      s.set(info, w);
      w += n;
    }
  };
  if (streams.video) entry(streams.video === 'h264' ? TsStreamType.H264 : TsStreamType.H265, TsPid.Video, undefined);
  if (streams.audio) {
    if (streams.audio === 'aac') entry(TsStreamType.AacAdts, TsPid.Audio, undefined);
    else entry(TsStreamType.PrivateData, TsPid.Audio, OPUS_DESCRIPTORS);
  }
  return finishSection(s);
}

/** The PMT packet (188 bytes) on PID 0x1001. */
export function encodePmt(streams: PmtStreams): Uint8Array {
  return psiPacket(TsPid.Pmt, encodePmtSection(streams));
}

/** PAT then PMT: the 376 bytes every TS output starts with (docs/media.md §4.1). */
export function encodePatPmt(streams: PmtStreams): Uint8Array {
  const out = new Uint8Array(2 * TS_PACKET_SIZE);
  out.set(encodePat(), 0);
  out.set(encodePmt(streams), TS_PACKET_SIZE);
  return out;
}

// ---- decoding ------------------------------------------------------------------------------

interface SectionHead {
  tableId: number;
  tableIdExtension: number;
  version: number;
  currentNext: boolean;
  /** Offset of the body (after last_section_number). */
  bodyStart: number;
  /** Offset of CRC_32. */
  bodyEnd: number;
}

/** Total bytes of the section starting at `buf[0]` (table_id … CRC), from section_length. */
export function psiSectionSize(buf: Uint8Array): number {
  if (buf.length < SECTION_HEADER_SIZE) throw new ParseError(`psi: section header needs 3 bytes, have ${buf.length}`, 'truncated');
  return SECTION_HEADER_SIZE + (((buf[1] & 0x0f) << 8) | buf[2]);
}

function decodeSectionHead(buf: Uint8Array, tableId: number, what: string): SectionHead {
  if (buf.length < SECTION_HEADER_SIZE) throw new ParseError(`psi: ${what} section header needs 3 bytes, have ${buf.length}`, 'truncated');
  if (buf[0] !== tableId) throw new ParseError(`psi: table_id ${buf[0]} is not a ${what} (${tableId})`);
  if ((buf[1] & 0x80) === 0) throw new ParseError(`psi: ${what} section_syntax_indicator is 0`);
  const sectionLength = ((buf[1] & 0x0f) << 8) | buf[2];
  if (sectionLength > MAX_SECTION_LENGTH) throw new ParseError(`psi: ${what} section_length ${sectionLength} exceeds ${MAX_SECTION_LENGTH}`);
  if (sectionLength < 5 + CRC_SIZE) throw new ParseError(`psi: ${what} section_length ${sectionLength} is too short`);
  const total = SECTION_HEADER_SIZE + sectionLength;
  if (buf.length < total) throw new ParseError(`psi: ${what} section of ${total} bytes is cut at ${buf.length}`, 'truncated');
  const crc = crc32Mpeg2(buf, 0, total);
  if (crc !== 0) throw new ParseError(`psi: ${what} CRC_32 mismatch`, 'crc');
  return {
    tableId,
    tableIdExtension: (buf[3] << 8) | buf[4],
    version: (buf[5] >> 1) & 0x1f,
    currentNext: (buf[5] & 1) === 1,
    bodyStart: 8,
    bodyEnd: total - CRC_SIZE,
  };
}

export interface PatProgram {
  programNumber: number;
  /** PMT PID (network PID when programNumber is 0). */
  pid: number;
}

export interface Pat {
  transportStreamId: number;
  version: number;
  programs: PatProgram[];
}

/** Decode a PAT section (`buf` starts at table_id). Throws ParseError, including on a bad CRC. */
export function decodePat(buf: Uint8Array): Pat {
  const h = decodeSectionHead(buf, TableId.Pat, 'PAT');
  if ((h.bodyEnd - h.bodyStart) % 4 !== 0) throw new ParseError(`psi: PAT program loop of ${h.bodyEnd - h.bodyStart} bytes is not a multiple of 4`);
  const programs: PatProgram[] = [];
  for (let p = h.bodyStart; p < h.bodyEnd; p += 4) {
    programs.push({ programNumber: (buf[p] << 8) | buf[p + 1], pid: ((buf[p + 2] & 0x1f) << 8) | buf[p + 3] });
  }
  return { transportStreamId: h.tableIdExtension, version: h.version, programs };
}

export interface PmtStream {
  streamType: number;
  pid: number;
  codec: TsCodec;
  /** ES_info descriptors (a view). */
  descriptors: Uint8Array;
}

export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: PmtStream[];
}

/** True when the descriptor loop holds a registration descriptor with format_identifier `Opus`. */
function hasOpusRegistration(d: Uint8Array): boolean {
  let p = 0;
  while (p + 2 <= d.length) {
    const tag = d[p];
    const len = d[p + 1];
    if (p + 2 + len > d.length) return false;
    if (tag === DescriptorTag.Registration && len >= 4 && d[p + 2] === 0x4f && d[p + 3] === 0x70 && d[p + 4] === 0x75 && d[p + 5] === 0x73) return true;
    p += 2 + len;
  }
  return false;
}

/** The codec of an elementary stream from its stream_type and descriptors. */
export function tsCodecOf(streamType: number, descriptors: Uint8Array): TsCodec {
  switch (streamType) {
    case TsStreamType.H264: return 'h264';
    case TsStreamType.H265: return 'h265';
    case TsStreamType.AacAdts: return 'aac';
    case TsStreamType.PrivateData: return hasOpusRegistration(descriptors) ? 'opus' : 'other';
    default: return 'other';
  }
}

/** Decode a PMT section (`buf` starts at table_id). Throws ParseError, including on a bad CRC. */
export function decodePmt(buf: Uint8Array): Pmt {
  const h = decodeSectionHead(buf, TableId.Pmt, 'PMT');
  let p = h.bodyStart;
  if (p + 4 > h.bodyEnd) throw new ParseError('psi: PMT too short for PCR_PID and program_info_length', 'truncated');
  const pcrPid = ((buf[p] & 0x1f) << 8) | buf[p + 1];
  const programInfoLength = ((buf[p + 2] & 0x0f) << 8) | buf[p + 3];
  p += 4 + programInfoLength;
  if (p > h.bodyEnd) throw new ParseError(`psi: PMT program_info_length ${programInfoLength} runs past the section`);
  const streams: PmtStream[] = [];
  while (p < h.bodyEnd) {
    if (p + 5 > h.bodyEnd) throw new ParseError('psi: PMT elementary stream entry cut short', 'truncated');
    const streamType = buf[p];
    const pid = ((buf[p + 1] & 0x1f) << 8) | buf[p + 2];
    const infoLength = ((buf[p + 3] & 0x0f) << 8) | buf[p + 4];
    p += 5;
    if (p + infoLength > h.bodyEnd) throw new ParseError(`psi: PMT ES_info_length ${infoLength} of PID 0x${pid.toString(16)} runs past the section`);
    const descriptors = buf.subarray(p, p + infoLength);
    streams.push({ streamType, pid, codec: tsCodecOf(streamType, descriptors), descriptors });
    p += infoLength;
  }
  return { programNumber: h.tableIdExtension, version: h.version, pcrPid, streams };
}
