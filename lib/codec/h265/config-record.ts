/**
 * HEVCDecoderConfigurationRecord ("hvcC", ISO/IEC 14496-15 §8.3.3.1): the body of an FLV/RTMP
 * HEVC sequence header (legacy `1C 00 00 00 00`, or enhanced-RTMP `hvc1`) and of the MP4 box.
 *
 *   configurationVersion u(8) = 1
 *   general_profile_space u(2) | general_tier_flag u(1) | general_profile_idc u(5)
 *   general_profile_compatibility_flags u(32)
 *   general_constraint_indicator_flags u(48)
 *   general_level_idc u(8)
 *   '1111'b | min_spatial_segmentation_idc u(12)
 *   '111111'b | parallelismType u(2)
 *   '111111'b | chromaFormat u(2)
 *   '11111'b | bitDepthLumaMinus8 u(3)
 *   '11111'b | bitDepthChromaMinus8 u(3)
 *   avgFrameRate u(16)
 *   constantFrameRate u(2) | numTemporalLayers u(3) | temporalIdNested u(1) | lengthSizeMinusOne u(2)
 *   numOfArrays u(8)
 *     { array_completeness u(1) | reserved 0 u(1) | NAL_unit_type u(6) | numNalus u(16)
 *       { nalUnitLength u(16) | nalUnit } }
 */
import { putU16be, putU32be, u16be } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { NaluTypeH265 } from './nalu.ts';
import { parseH265Sps } from './sps.ts';

export interface HevcConfig {
  profileIdc: number;
  levelIdc: number;
  /** NAL length field size in bytes of the coded frames: 1, 2 or 4 (3 is tolerated). */
  lengthSize: number;
  /** Views into the record. */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Fixed part before the arrays. */
const HVCC_HEADER_SIZE = 23;
/**
 * NAL units per array. The largest id space is pps_pic_parameter_set_id 0..63 (VPS and SPS ids
 * are 0..15); SEI arrays carry one or two. Bounds the work a hostile record can ask for.
 */
const MAX_HVCC_NALUS_PER_ARRAY = 64;
/** nalUnitLength is a 16-bit field. */
const MAX_HVCC_NALU_SIZE = 0xffff;

/** Parse a record. VPS/SPS/PPS are views into `buf`; other arrays (SEI) are skipped. */
export function decodeHevcConfigRecord(buf: Uint8Array): HevcConfig {
  if (buf.length < HVCC_HEADER_SIZE) {
    throw new ParseError(`hvcc: config record of ${buf.length} bytes is shorter than ${HVCC_HEADER_SIZE}`, 'truncated');
  }
  if (buf[0] !== 1) throw new ParseError(`hvcc: configurationVersion ${buf[0]} is not 1`);
  const profileIdc = buf[1] & 0x1f;
  const levelIdc = buf[12];
  const lengthSize = (buf[21] & 3) + 1;
  const numArrays = buf[22];
  const out: HevcConfig = { profileIdc, levelIdc, lengthSize, vps: [], sps: [], pps: [] };
  let off = HVCC_HEADER_SIZE;
  for (let a = 0; a < numArrays; a++) {
    if (off + 3 > buf.length) throw new ParseError(`hvcc: array ${a} header at offset ${off} runs past the end`, 'truncated');
    const type = buf[off] & 0x3f;
    const numNalus = u16be(buf, off + 1);
    if (numNalus > MAX_HVCC_NALUS_PER_ARRAY) {
      throw new ParseError(`hvcc: array of ${numNalus} NAL units exceeds ${MAX_HVCC_NALUS_PER_ARRAY}`, 'too-many');
    }
    off += 3;
    const list = type === NaluTypeH265.Vps ? out.vps : type === NaluTypeH265.Sps ? out.sps : type === NaluTypeH265.Pps ? out.pps : undefined;
    for (let i = 0; i < numNalus; i++) {
      if (off + 2 > buf.length) throw new ParseError(`hvcc: NAL length at offset ${off} runs past the end`, 'truncated');
      const len = u16be(buf, off);
      off += 2;
      if (len > buf.length - off) {
        throw new ParseError(`hvcc: NAL length ${len} at offset ${off - 2} runs past the end (${buf.length - off} bytes left)`, 'truncated');
      }
      if (list) {
        if (len === 0) throw new ParseError(`hvcc: empty parameter set of type ${type} at offset ${off - 2}`);
        list.push(buf.subarray(off, off + len));
      }
      off += len;
    }
  }
  return out;
}

/**
 * Build a record with 4-byte NAL lengths and one array each for VPS, SPS, PPS (empty lists are
 * left out), array_completeness 1 unless `arrayCompleteness: false` (LAL and ffmpeg's FLV/MP4
 * muxers write 0). General profile fields, chroma format, bit depths, numTemporalLayers and
 * temporalIdNested come from the profile_tier_level of `sps[0]`; min_spatial_segmentation_idc,
 * parallelismType, avgFrameRate and constantFrameRate are 0 ("unknown").
 */
export function encodeHevcConfigRecord(c: {
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
  arrayCompleteness?: boolean;
}): Uint8Array {
  if (c.sps.length === 0) throw new ParseError('hvcc: a config record needs at least one SPS');
  const info = parseH265Sps(c.sps[0]);
  const arrays: [number, Uint8Array[]][] = [];
  if (c.vps.length > 0) arrays.push([NaluTypeH265.Vps, c.vps]);
  arrays.push([NaluTypeH265.Sps, c.sps]);
  if (c.pps.length > 0) arrays.push([NaluTypeH265.Pps, c.pps]);

  let size = HVCC_HEADER_SIZE;
  for (const [, list] of arrays) {
    if (list.length > MAX_HVCC_NALUS_PER_ARRAY) {
      throw new ParseError(`hvcc: ${list.length} NAL units exceed ${MAX_HVCC_NALUS_PER_ARRAY} per array`, 'too-many');
    }
    size += 3;
    for (const n of list) {
      if (n.length === 0 || n.length > MAX_HVCC_NALU_SIZE) {
        throw new ParseError(`hvcc: parameter set of ${n.length} bytes does not fit a 16-bit length`);
      }
      size += 2 + n.length;
    }
  }

  const out = new Uint8Array(size);
  out[0] = 1;
  out[1] = (info.profileSpace << 6) | (info.tierFlag << 5) | info.profileIdc;
  putU32be(out, 2, info.compatFlags);
  putU16be(out, 6, Math.floor(info.constraintFlags / 2 ** 32));
  putU32be(out, 8, info.constraintFlags % 2 ** 32);
  out[12] = info.levelIdc;
  out[13] = 0xf0; // reserved '1111' | min_spatial_segmentation_idc 0 (12 bits)
  out[14] = 0x00;
  out[15] = 0xfc; // reserved '111111' | parallelismType 0
  out[16] = 0xfc | info.chromaFormatIdc;
  out[17] = 0xf8 | (info.bitDepthLuma - 8);
  out[18] = 0xf8 | (info.bitDepthChroma - 8);
  out[19] = 0; // avgFrameRate
  out[20] = 0;
  // constantFrameRate 0 | numTemporalLayers | temporalIdNested | lengthSizeMinusOne 3
  out[21] = (info.maxSubLayers << 3) | ((info.temporalIdNesting ? 1 : 0) << 2) | 3;
  out[22] = arrays.length;
  const completeness = c.arrayCompleteness === false ? 0 : 0x80;
  let off = HVCC_HEADER_SIZE;
  for (const [type, list] of arrays) {
    out[off] = completeness | type;
    putU16be(out, off + 1, list.length);
    off += 3;
    for (const n of list) {
      putU16be(out, off, n.length);
      out.set(n, off + 2);
      off += 2 + n.length;
    }
  }
  return out;
}
