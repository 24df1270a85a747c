/**
 * AVCDecoderConfigurationRecord ("avcC", ISO/IEC 14496-15 §5.3.3.1): the body of an FLV/RTMP AVC
 * sequence header (after `17 00 00 00 00`) and of the MP4 `avcC` box.
 *
 *   configurationVersion u(8) = 1
 *   AVCProfileIndication u(8) | profile_compatibility u(8) | AVCLevelIndication u(8)
 *   reserved '111111'b u(6) | lengthSizeMinusOne u(2)
 *   reserved '111'b u(3) | numOfSequenceParameterSets u(5)
 *     { sequenceParameterSetLength u(16) | sequenceParameterSetNALUnit }
 *   numOfPictureParameterSets u(8)
 *     { pictureParameterSetLength u(16) | pictureParameterSetNALUnit }
 *   [profile 100/110/122/144: chroma_format, bit depths, SPS-ext list — optional trailer, ignored]
 */
import { putU16be, u16be } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';

export interface AvcConfig {
  profileIdc: number;
  compat: number;
  levelIdc: number;
  /** NAL length field size in bytes of the coded frames: 1, 2 or 4 (3 is tolerated). */
  lengthSize: number;
  /** Views into the record. */
  sps: Uint8Array[];
  /** Views into the record. */
  pps: Uint8Array[];
}

/** numOfSequenceParameterSets is a 5-bit field. */
const MAX_AVCC_SPS = 31;
/** numOfPictureParameterSets is an 8-bit field (pic_parameter_set_id is 0..255). */
const MAX_AVCC_PPS = 255;
/** Parameter set lengths are 16-bit fields. */
const MAX_AVCC_PARAM_SET_SIZE = 0xffff;

/** Parse a record. Parameter sets are views into `buf`. */
export function decodeAvcConfigRecord(buf: Uint8Array): AvcConfig {
  if (buf.length < 7) throw new ParseError(`avcc: config record of ${buf.length} bytes is shorter than 7`, 'truncated');
  if (buf[0] !== 1) throw new ParseError(`avcc: configurationVersion ${buf[0]} is not 1`);
  const profileIdc = buf[1];
  const compat = buf[2];
  const levelIdc = buf[3];
  const lengthSize = (buf[4] & 3) + 1;
  let off = 5;
  const numSps = buf[off++] & 0x1f;
  const sps: Uint8Array[] = [];
  for (let i = 0; i < numSps; i++) {
    sps.push(readParamSet(buf, off, 'SPS'));
    off += 2 + sps[i].length;
  }
  if (off >= buf.length) throw new ParseError(`avcc: config record ends before numOfPictureParameterSets at offset ${off}`, 'truncated');
  const numPps = buf[off++];
  const pps: Uint8Array[] = [];
  for (let i = 0; i < numPps; i++) {
    pps.push(readParamSet(buf, off, 'PPS'));
    off += 2 + pps[i].length;
  }
  return { profileIdc, compat, levelIdc, lengthSize, sps, pps };
}

function readParamSet(buf: Uint8Array, off: number, what: string): Uint8Array {
  if (off + 2 > buf.length) throw new ParseError(`avcc: config record ends inside the ${what} length at offset ${off}`, 'truncated');
  const len = u16be(buf, off);
  if (len === 0) throw new ParseError(`avcc: empty ${what} at offset ${off}`);
  if (off + 2 + len > buf.length) {
    throw new ParseError(`avcc: ${what} length ${len} at offset ${off} runs past the end (${buf.length - off - 2} bytes left)`, 'truncated');
  }
  return buf.subarray(off + 2, off + 2 + len);
}

/**
 * Build a record with 4-byte NAL lengths. Profile, compatibility and level are bytes 1..3 of
 * `sps[0]`; `compat` overrides the compatibility byte (LAL writes 0 when it builds a sequence
 * header from RTSP/PS input, docs/media.md §6.3). The optional high-profile trailer
 * is not written (neither LAL nor ffmpeg's FLV muxer write it).
 */
export function encodeAvcConfigRecord(c: { sps: Uint8Array[]; pps: Uint8Array[]; compat?: number }): Uint8Array {
  if (c.sps.length === 0) throw new ParseError('avcc: a config record needs at least one SPS');
  if (c.sps[0].length < 4) throw new ParseError(`avcc: SPS of ${c.sps[0].length} bytes is too short`, 'truncated');
  if (c.sps.length > MAX_AVCC_SPS) throw new ParseError(`avcc: ${c.sps.length} SPS exceed ${MAX_AVCC_SPS}`, 'too-many');
  if (c.pps.length > MAX_AVCC_PPS) throw new ParseError(`avcc: ${c.pps.length} PPS exceed ${MAX_AVCC_PPS}`, 'too-many');
  let size = 7;
  for (const p of [...c.sps, ...c.pps]) {
    if (p.length === 0 || p.length > MAX_AVCC_PARAM_SET_SIZE) {
      throw new ParseError(`avcc: parameter set of ${p.length} bytes does not fit a 16-bit length`);
    }
    size += 2 + p.length;
  }
  const out = new Uint8Array(size);
  const s0 = c.sps[0];
  out[0] = 1;
  out[1] = s0[1];
  out[2] = c.compat ?? s0[2];
  out[3] = s0[3];
  out[4] = 0xfc | 3; // reserved '111111' | lengthSizeMinusOne 3
  out[5] = 0xe0 | c.sps.length; // reserved '111' | numOfSequenceParameterSets
  let off = 6;
  for (const p of c.sps) off = writeParamSet(out, off, p);
  out[off++] = c.pps.length;
  for (const p of c.pps) off = writeParamSet(out, off, p);
  return out;
}

function writeParamSet(out: Uint8Array, off: number, p: Uint8Array): number {
  putU16be(out, off, p.length);
  out.set(p, off + 2);
  return off + 2 + p.length;
}
