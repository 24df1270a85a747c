/**
 * FLV file header (Adobe FLV and F4V File Format Specification v10.1, annex E.2) and the
 * PreviousTagSize0 that follows it; HTTP-FLV bodies start with these 13 bytes (docs/protocols.md §4).
 *
 *   0      1      2      3        4                    5..8                9..12
 *  +------+------+------+--------+--------------------+-------------------+------------------+
 *  | 'F'  | 'L'  | 'V'  | ver 1  | 00000 A 0 V flags  | DataOffset (u32)  | PreviousTagSize0 |
 *  +------+------+------+--------+--------------------+-------------------+------------------+
 */
import { ParseError } from '../../core/errors.ts';
import { need, u32be } from '../../core/bytes.ts';

/** The header LAL writes for every FLV output: version 1, audio+video flags, offset 9, PTS0 0. */
export const FLV_HEADER: Uint8Array = Uint8Array.of(
  0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
);
/** Bytes of the header proper (DataOffset of version 1). */
export const FLV_HEADER_SIZE = 9;
/** Header plus the 4-byte PreviousTagSize0. */
export const FLV_HEADER_WITH_PTS0_SIZE = 13;
/**
 * Largest DataOffset accepted. Version 1 defines 9; bigger values are reserved for header
 * extensions nobody writes, so anything beyond 1 KiB is garbage rather than a header.
 */
export const MAX_FLV_DATA_OFFSET = 1024;

/** TypeFlags bits (E.2). */
export const FlvHeaderFlag = { Audio: 0x04, Video: 0x01 } as const;

export interface FlvHeader {
  version: number;
  audio: boolean;
  video: boolean;
  /** DataOffset: where the body (PreviousTagSize0) starts; 9 for version 1. */
  dataOffset: number;
}

/** The 13 header bytes (header + PreviousTagSize0) with the given stream flags. */
export function encodeFlvHeader(opts: { audio: boolean; video: boolean }): Uint8Array {
  const out = FLV_HEADER.slice(); // a fresh copy: FLV_HEADER is shared
  out[4] = (opts.audio ? FlvHeaderFlag.Audio : 0) | (opts.video ? FlvHeaderFlag.Video : 0);
  return out;
}

/** Decode the 9-byte header proper (not PreviousTagSize0). Throws ParseError on a bad signature. */
export function decodeFlvHeader(buf: Uint8Array): FlvHeader {
  need(buf, 0, FLV_HEADER_SIZE, 'flv: header');
  if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) {
    const sig = Array.from(buf.subarray(0, 3), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ParseError(`flv: bad signature ${sig}, expected 46 4c 56 ('FLV')`, 'bad-signature');
  }
  const dataOffset = u32be(buf, 5);
  if (dataOffset < FLV_HEADER_SIZE || dataOffset > MAX_FLV_DATA_OFFSET) {
    throw new ParseError(`flv: header data offset ${dataOffset} outside ${FLV_HEADER_SIZE}..${MAX_FLV_DATA_OFFSET}`);
  }
  return {
    version: buf[3],
    audio: (buf[4] & FlvHeaderFlag.Audio) !== 0,
    video: (buf[4] & FlvHeaderFlag.Video) !== 0,
    dataOffset,
  };
}
