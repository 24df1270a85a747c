/**
 * H.265 sequence parameter set (ISO/IEC 23008-2 §7.3.2.2.1) incl. profile_tier_level()
 * with sub-layers (§7.3.3), parsed up to the bit depths; the rest is not needed.
 *
 * `width`/`height` are pic_width/height_in_luma_samples, as LAL reports them (docs/http-api.md
 * §3.2 notes); `displayWidth`/`displayHeight` apply the conformance window (§7.4.3.2.1), which
 * is what players show (e.g. 854x480 coded as 856x480 with conf_win_right_offset 1).
 */
import { BitReader } from '../../core/bit-reader.ts';
import { ParseError } from '../../core/errors.ts';
import { removeEmulationPrevention } from '../rbsp.ts';
import { NaluTypeH265 } from './nalu.ts';

export interface H265SpsInfo {
  /** general_profile_idc. */
  profileIdc: number;
  /** general_level_idc (30 × level number, e.g. 93 = 3.1). */
  levelIdc: number;
  /** pic_width_in_luma_samples. */
  width: number;
  /** pic_height_in_luma_samples. */
  height: number;
  /** 'Main' | 'Main 10' | 'Main Still Picture' | 'Rext' | `profile ${idc}`. */
  profile: string;
  /** conf_win_*_offset as coded (in chroma sample units: × SubWidthC / SubHeightC for luma). */
  confWin: { left: number; right: number; top: number; bottom: number };
  displayWidth: number;
  displayHeight: number;
  /** general_profile_space u(2). */
  profileSpace: number;
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  tierFlag: number;
  /** general_profile_compatibility_flag[0..31] as a big-endian 32-bit number. */
  compatFlags: number;
  /** The 48 bits from general_progressive_source_flag to general_inbld_flag/reserved, as a number. */
  constraintFlags: number;
  spsId: number;
  /** sps_max_sub_layers_minus1 + 1. */
  maxSubLayers: number;
  temporalIdNesting: boolean;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

/** general_profile_idc → name (ISO/IEC 23008-2 Annex A). */
export const H265_PROFILE_NAMES: Readonly<Record<number, string>> = {
  1: 'Main',
  2: 'Main 10',
  3: 'Main Still Picture',
  4: 'Rext',
};

/**
 * Level 6.2 allows 35,651,584 luma samples per picture, at most sqrt(8 × MaxLumaPs) ≈ 16888
 * along one side (§A.4.1); 32768 leaves headroom and keeps width × height a safe integer.
 */
const MAX_PIC_SIZE_LUMA = 32768;
/** sps_seq_parameter_set_id is 0..15. */
const MAX_SPS_ID = 15;
/** bit_depth_*_minus8 is 0..8 (16-bit samples). */
const MAX_BIT_DEPTH_MINUS8 = 8;

export function h265ProfileName(profileIdc: number): string {
  return H265_PROFILE_NAMES[profileIdc] ?? `profile ${profileIdc}`;
}

/**
 * seq_parameter_set_rbsp():
 *   sps_video_parameter_set_id u(4) | sps_max_sub_layers_minus1 u(3) | sps_temporal_id_nesting_flag u(1)
 *   profile_tier_level(1, sps_max_sub_layers_minus1)
 *   sps_seq_parameter_set_id ue | chroma_format_idc ue [==3: separate_colour_plane_flag u(1)]
 *   pic_width_in_luma_samples ue | pic_height_in_luma_samples ue
 *   conformance_window_flag u(1) [→ left, right, top, bottom ue]
 *   bit_depth_luma_minus8 ue | bit_depth_chroma_minus8 ue | … (ignored)
 */
export function parseH265Sps(nalu: Uint8Array): H265SpsInfo {
  if (nalu.length < 3) throw new ParseError(`h265: SPS of ${nalu.length} bytes is too short`, 'truncated');
  const type = (nalu[0] >> 1) & 0x3f;
  if (type !== NaluTypeH265.Sps) throw new ParseError(`h265: NAL type ${type} is not an SPS`);
  const rbsp = removeEmulationPrevention(nalu);
  const r = new BitReader(rbsp.subarray(2), 'h265: SPS');

  r.skipBits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3);
  if (maxSubLayersMinus1 > 6) throw new ParseError(`h265: sps_max_sub_layers_minus1 ${maxSubLayersMinus1} exceeds 6`);
  const temporalIdNesting = r.readBool();
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);

  const spsId = r.readUE();
  if (spsId > MAX_SPS_ID) throw new ParseError(`h265: SPS id ${spsId} exceeds ${MAX_SPS_ID}`);
  const chromaFormatIdc = r.readUE();
  if (chromaFormatIdc > 3) throw new ParseError(`h265: chroma_format_idc ${chromaFormatIdc} exceeds 3`);
  const separateColourPlane = chromaFormatIdc === 3 ? r.readBool() : false;
  const width = r.readUE();
  const height = r.readUE();
  if (width === 0 || height === 0 || width > MAX_PIC_SIZE_LUMA || height > MAX_PIC_SIZE_LUMA) {
    throw new ParseError(`h265: picture size ${width}x${height} is outside 1..${MAX_PIC_SIZE_LUMA}`);
  }
  const confWin = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.readBool()) {
    confWin.left = r.readUE();
    confWin.right = r.readUE();
    confWin.top = r.readUE();
    confWin.bottom = r.readUE();
  }
  const lumaMinus8 = r.readUE();
  const chromaMinus8 = r.readUE();
  if (lumaMinus8 > MAX_BIT_DEPTH_MINUS8 || chromaMinus8 > MAX_BIT_DEPTH_MINUS8) {
    throw new ParseError(`h265: bit depth ${lumaMinus8 + 8}/${chromaMinus8 + 8} exceeds ${MAX_BIT_DEPTH_MINUS8 + 8}`);
  }

  // Table 6-1: SubWidthC/SubHeightC; ChromaArrayType 0 (monochrome, separate planes) is 1/1.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const displayWidth = width - subWidthC * (confWin.left + confWin.right);
  const displayHeight = height - subHeightC * (confWin.top + confWin.bottom);
  if (displayWidth <= 0 || displayHeight <= 0) {
    throw new ParseError(`h265: conformance window ${JSON.stringify(confWin)} leaves nothing of ${width}x${height}`);
  }

  return {
    profileIdc: ptl.profileIdc,
    levelIdc: ptl.levelIdc,
    width,
    height,
    profile: h265ProfileName(ptl.profileIdc),
    confWin,
    displayWidth,
    displayHeight,
    profileSpace: ptl.profileSpace,
    tierFlag: ptl.tierFlag,
    compatFlags: ptl.compatFlags,
    constraintFlags: ptl.constraintFlags,
    spsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    chromaFormatIdc,
    bitDepthLuma: lumaMinus8 + 8,
    bitDepthChroma: chromaMinus8 + 8,
  };
}

interface GeneralPtl {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  compatFlags: number;
  constraintFlags: number;
  levelIdc: number;
}

/**
 * profile_tier_level(profilePresentFlag = 1, maxNumSubLayersMinus1) (§7.3.3):
 *   general_profile_space u(2) | general_tier_flag u(1) | general_profile_idc u(5)
 *   general_profile_compatibility_flag[32] u(32)
 *   progressive, interlaced, non_packed, frame_only u(4) + 43 constraint bits + 1 bit = u(48)
 *   general_level_idc u(8)
 *   maxNumSubLayersMinus1 × (sub_layer_profile_present_flag u(1), sub_layer_level_present_flag u(1))
 *   [maxNumSubLayersMinus1 > 0] (8 - maxNumSubLayersMinus1) × reserved_zero_2bits
 *   per sub-layer: [profile present] 88 bits of profile fields, [level present] u(8) level
 */
function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): GeneralPtl {
  const profileSpace = r.readBits(2);
  const tierFlag = r.readBits(1);
  const profileIdc = r.readBits(5);
  const compatFlags = r.readBits(32);
  const constraintFlags = r.readBits(16) * 2 ** 32 + r.readBits(32);
  const levelIdc = r.readBits(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readBool());
    levelPresent.push(r.readBool());
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1));
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skipBits(88);
    if (levelPresent[i]) r.skipBits(8);
  }
  return { profileSpace, tierFlag, profileIdc, compatFlags, constraintFlags, levelIdc };
}
