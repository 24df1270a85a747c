/**
 * ADTS framing of raw AAC (ISO/IEC 14496-3 §1.A.2.2; header fields as in docs/media.md §4.2):
 * used for MPEG-TS/HLS output (stream type 0F) and GB28181 PS input.
 *
 *   syncword u(12) = 0xFFF | ID u(1) (0 MPEG-4, 1 MPEG-2) | layer u(2) = 0 | protection_absent u(1)
 *   profile_ObjectType u(2) | sampling_frequency_index u(4) | private_bit u(1)
 *   channel_configuration u(3) | original_copy u(1) | home u(1)
 *   copyright_identification_bit u(1) | copyright_identification_start u(1)
 *   aac_frame_length u(13) (header included) | adts_buffer_fullness u(11)
 *   number_of_raw_data_blocks_in_frame u(2)
 *   [protection_absent 0: crc_check u(16)]
 */
import { ParseError } from '../../core/errors.ts';
import { SAMPLE_RATES, aacSamplingIndex } from './asc.ts';
import type { AscInfo } from './asc.ts';

export const ADTS_HEADER_SIZE = 7;
/** With crc_check. */
export const ADTS_HEADER_SIZE_CRC = 9;
/** aac_frame_length is a 13-bit field. */
export const MAX_ADTS_FRAME_LENGTH = 0x1fff;

/** Write a 7-byte header (no CRC, 1 raw data block, buffer fullness 0x7FF) at `off`; returns 7. */
export function encodeAdtsHeaderInto(info: AscInfo, rawLength: number, out: Uint8Array, off: number): number {
  const profile = info.objectType - 1;
  if (profile < 0 || profile > 3) {
    throw new ParseError(`adts: audio object type ${info.objectType} cannot be carried in ADTS (profile is 2 bits)`);
  }
  // Index 15 (explicit rate) does not exist in ADTS: fall back to the table entry of the rate.
  const index = Number.isInteger(info.samplingIndex) && info.samplingIndex >= 0 && info.samplingIndex < SAMPLE_RATES.length ? info.samplingIndex : aacSamplingIndex(info.sampleRate);
  if (index === 15) throw new ParseError(`adts: sample rate ${info.sampleRate} has no sampling_frequency_index`);
  const channelConfig = info.channelConfig ?? channelConfigOf(info.channels);
  if (channelConfig > 7) throw new ParseError(`adts: channel configuration ${channelConfig} does not fit 3 bits`);
  const frameLength = rawLength + ADTS_HEADER_SIZE;
  if (!Number.isInteger(rawLength) || rawLength < 0 || frameLength > MAX_ADTS_FRAME_LENGTH) {
    throw new ParseError(`adts: raw frame of ${rawLength} bytes exceeds the 13-bit frame length`);
  }
  if (off < 0 || off + ADTS_HEADER_SIZE > out.length) {
    throw new ParseError(`adts: no room for a header at offset ${off} of ${out.length}`, 'truncated');
  }
  out[off] = 0xff;
  out[off + 1] = 0xf1; // syncword low bits | ID 0 | layer 00 | protection_absent 1
  out[off + 2] = (profile << 6) | (index << 2) | (channelConfig >> 2);
  out[off + 3] = ((channelConfig & 3) << 6) | (frameLength >> 11);
  out[off + 4] = (frameLength >> 3) & 0xff;
  out[off + 5] = ((frameLength & 7) << 5) | 0x1f; // buffer fullness 0x7FF, high 5 bits
  out[off + 6] = 0xfc; // buffer fullness low 6 bits | number_of_raw_data_blocks_in_frame 0
  return ADTS_HEADER_SIZE;
}

/** A new 7-byte ADTS header for a raw frame of `rawLength` bytes. */
export function encodeAdtsHeader(info: AscInfo, rawLength: number): Uint8Array {
  const out = new Uint8Array(ADTS_HEADER_SIZE);
  encodeAdtsHeaderInto(info, rawLength, out, 0);
  return out;
}

/** Hand-built infos carry only `channels`; ADTS channel_configuration 0 means "see the PCE". */
function channelConfigOf(channels: number): number {
  if (channels >= 1 && channels <= 6) return channels;
  return channels === 8 ? 7 : 0;
}

export interface AdtsHeader {
  info: AscInfo;
  /** 7, or 9 with CRC. */
  headerLength: number;
  /** aac_frame_length: header plus payload. */
  frameLength: number;
  /** number_of_raw_data_blocks_in_frame + 1. */
  rawBlocks: number;
}

/** Parse the ADTS header at `off` (only the header needs to be present). */
export function decodeAdtsHeader(buf: Uint8Array, off = 0): AdtsHeader {
  if (off < 0 || off + ADTS_HEADER_SIZE > buf.length) {
    throw new ParseError(`adts: header at offset ${off} needs ${ADTS_HEADER_SIZE} bytes, have ${Math.max(0, buf.length - off)}`, 'truncated');
  }
  const b1 = buf[off + 1];
  if (buf[off] !== 0xff || (b1 & 0xf0) !== 0xf0) throw new ParseError(`adts: no syncword at offset ${off}`);
  if ((b1 & 0x06) !== 0) throw new ParseError(`adts: layer ${(b1 >> 1) & 3} at offset ${off} is not 0`);
  const headerLength = b1 & 1 ? ADTS_HEADER_SIZE : ADTS_HEADER_SIZE_CRC;
  if (off + headerLength > buf.length) {
    throw new ParseError(`adts: CRC header at offset ${off} needs ${headerLength} bytes`, 'truncated');
  }
  const b2 = buf[off + 2];
  const b3 = buf[off + 3];
  const objectType = (b2 >> 6) + 1;
  const samplingIndex = (b2 >> 2) & 0xf;
  if (samplingIndex >= SAMPLE_RATES.length) {
    throw new ParseError(`adts: sampling_frequency_index ${samplingIndex} at offset ${off} is reserved`);
  }
  const channelConfig = ((b2 & 1) << 2) | (b3 >> 6);
  const frameLength = ((b3 & 3) << 11) | (buf[off + 4] << 3) | (buf[off + 5] >> 5);
  if (frameLength < headerLength) {
    throw new ParseError(`adts: aac_frame_length ${frameLength} at offset ${off} is shorter than its ${headerLength}-byte header`);
  }
  const rawBlocks = (buf[off + 6] & 3) + 1;
  const channels = channelConfig === 7 ? 8 : channelConfig;
  return {
    info: { objectType, samplingIndex, sampleRate: SAMPLE_RATES[samplingIndex], channels, channelConfig },
    headerLength,
    frameLength,
    rawBlocks,
  };
}

/**
 * Split back-to-back ADTS frames into their payloads (views, headers and CRC removed). A frame
 * with several raw data blocks is returned whole. Throws ParseError on a lost syncword or a
 * frame that runs past the end.
 */
export function splitAdts(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    const h = decodeAdtsHeader(buf, off);
    if (off + h.frameLength > buf.length) {
      throw new ParseError(`adts: frame of ${h.frameLength} bytes at offset ${off} runs past the end (${buf.length - off} bytes left)`, 'truncated');
    }
    out.push(buf.subarray(off + h.headerLength, off + h.frameLength));
    off += h.frameLength;
  }
  return out;
}
