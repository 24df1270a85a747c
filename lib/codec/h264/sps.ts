/**
 * H.264 sequence parameter set (ISO/IEC 14496-10 §7.3.2.1.1, semantics §7.4.2.1.1), parsed up to
 * frame cropping; the VUI that follows is not needed and is ignored.
 *
 * `width`/`height` follow LAL's formula (docs/http-api.md §3.2 notes), which the stats API
 * reports: crop offsets count 2 pixels in both directions. That equals the true picture size for
 * progressive 4:2:0 (nearly everything); `displayWidth`/`displayHeight` apply the exact
 * CropUnitX/CropUnitY of §7.4.2.1.1 for 4:2:2, 4:4:4, monochrome and field coding.
 */
import { BitReader } from '../../core/bit-reader.ts';
import { ParseError } from '../../core/errors.ts';
import { removeEmulationPrevention } from '../rbsp.ts';
import { NaluTypeH264 } from './nalu.ts';

export interface H264SpsInfo {
  profileIdc: number;
  levelIdc: number;
  /** As LAL computes it: (pic_width_in_mbs_minus1+1)*16 - 2*(crop_left+crop_right). */
  width: number;
  /** As LAL computes it: (2-frame_mbs_only)*(pic_height_in_map_units_minus1+1)*16 - 2*(crop_top+crop_bottom). */
  height: number;
  /** 'Baseline' | 'Main' | 'Extended' | 'High' | 'High 10' | 'High 4:2:2' | 'High 4:4:4' | … or `profile ${idc}`. */
  profile: string;
  /** The byte after profile_idc: constraint_set0..5 flags (the avcC profile_compatibility). */
  constraintFlags: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not signal it). */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  /** frame_crop_*_offset as coded (in crop units, not pixels). */
  crop: { left: number; right: number; top: number; bottom: number };
  /** Exact cropped size per §7.4.2.1.1 (equal to width/height for progressive 4:2:0). */
  displayWidth: number;
  displayHeight: number;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (§7.3.2.1.1). */
const HIGH_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** profile_idc → name (ISO/IEC 14496-10 Annex A, G, H). */
export const H264_PROFILE_NAMES: Readonly<Record<number, string>> = {
  44: 'CAVLC 4:4:4 Intra',
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4',
  83: 'Scalable Baseline',
  86: 'Scalable High',
  118: 'Multiview High',
  128: 'Stereo High',
};

/**
 * Sanity bounds on what ue(v) may claim. Level 6.2 allows 139264 macroblocks per frame, at most
 * sqrt(8*MaxFS) ≈ 1055 along one side (§A.3.1); 2048 MBs (32768 px) leaves headroom and keeps
 * width*height far inside safe integers.
 */
const MAX_PIC_SIZE_IN_MBS = 2048;
/** log2_max_frame_num_minus4 and log2_max_pic_order_cnt_lsb_minus4 are 0..12 (§7.4.2.1.1). */
const MAX_LOG2_MINUS4 = 12;
/** num_ref_frames_in_pic_order_cnt_cycle is 0..255 (§7.4.2.1.1). */
const MAX_REF_FRAMES_IN_POC_CYCLE = 255;
/** seq_parameter_set_id is 0..31. */
const MAX_SPS_ID = 31;
/** bit_depth_*_minus8 is 0..6 (14-bit samples). */
const MAX_BIT_DEPTH_MINUS8 = 6;

/** Name of a profile_idc as used in logs and the stats API. */
export function h264ProfileName(profileIdc: number): string {
  return H264_PROFILE_NAMES[profileIdc] ?? `profile ${profileIdc}`;
}

/**
 * seq_parameter_set_data():
 *   profile_idc u(8) | constraint_set0..5_flag, reserved_zero_2bits u(8) | level_idc u(8)
 *   seq_parameter_set_id ue
 *   [high profiles] chroma_format_idc ue [==3: separate_colour_plane_flag u(1)]
 *                   bit_depth_luma_minus8 ue, bit_depth_chroma_minus8 ue,
 *                   qpprime_y_zero_transform_bypass_flag u(1), seq_scaling_matrix_present_flag u(1)
 *                   [→ 8 or 12 × (flag u(1) [→ scaling_list(16 or 64)])]
 *   log2_max_frame_num_minus4 ue, pic_order_cnt_type ue [0: log2_max_poc_lsb_minus4 ue |
 *     1: delta_pic_order_always_zero u(1), offset_for_non_ref_pic se, offset_for_top_to_bottom se,
 *        num_ref_frames_in_pic_order_cnt_cycle ue, offset_for_ref_frame[] se]
 *   max_num_ref_frames ue, gaps_in_frame_num_value_allowed_flag u(1)
 *   pic_width_in_mbs_minus1 ue, pic_height_in_map_units_minus1 ue
 *   frame_mbs_only_flag u(1) [0: mb_adaptive_frame_field_flag u(1)], direct_8x8_inference_flag u(1)
 *   frame_cropping_flag u(1) [→ left, right, top, bottom ue]
 *   vui_parameters_present_flag … (ignored)
 */
export function parseH264Sps(nalu: Uint8Array): H264SpsInfo {
  if (nalu.length < 4) throw new ParseError(`h264: SPS of ${nalu.length} bytes is too short`, 'truncated');
  const type = nalu[0] & 0x1f;
  if (type !== NaluTypeH264.Sps) throw new ParseError(`h264: NAL type ${type} is not an SPS`);
  const rbsp = removeEmulationPrevention(nalu);
  const r = new BitReader(rbsp.subarray(1), 'h264: SPS');

  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = r.readUE();
  if (spsId > MAX_SPS_ID) throw new ParseError(`h264: SPS id ${spsId} exceeds ${MAX_SPS_ID}`);

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUE();
    if (chromaFormatIdc > 3) throw new ParseError(`h264: chroma_format_idc ${chromaFormatIdc} exceeds 3`);
    if (chromaFormatIdc === 3) separateColourPlane = r.readBool();
    const lumaMinus8 = r.readUE();
    const chromaMinus8 = r.readUE();
    if (lumaMinus8 > MAX_BIT_DEPTH_MINUS8 || chromaMinus8 > MAX_BIT_DEPTH_MINUS8) {
      throw new ParseError(`h264: bit depth ${lumaMinus8 + 8}/${chromaMinus8 + 8} exceeds ${MAX_BIT_DEPTH_MINUS8 + 8}`);
    }
    bitDepthLuma = lumaMinus8 + 8;
    bitDepthChroma = chromaMinus8 + 8;
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readBool()) {
      // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.readBool()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  const log2MaxFrameNumMinus4 = r.readUE();
  if (log2MaxFrameNumMinus4 > MAX_LOG2_MINUS4) {
    throw new ParseError(`h264: log2_max_frame_num_minus4 ${log2MaxFrameNumMinus4} exceeds ${MAX_LOG2_MINUS4}`);
  }
  const pocType = r.readUE();
  if (pocType === 0) {
    const log2MaxPocLsbMinus4 = r.readUE();
    if (log2MaxPocLsbMinus4 > MAX_LOG2_MINUS4) {
      throw new ParseError(`h264: log2_max_pic_order_cnt_lsb_minus4 ${log2MaxPocLsbMinus4} exceeds ${MAX_LOG2_MINUS4}`);
    }
  } else if (pocType === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSE(); // offset_for_non_ref_pic
    r.readSE(); // offset_for_top_to_bottom_field
    const cycle = r.readUE();
    if (cycle > MAX_REF_FRAMES_IN_POC_CYCLE) {
      throw new ParseError(`h264: num_ref_frames_in_pic_order_cnt_cycle ${cycle} exceeds ${MAX_REF_FRAMES_IN_POC_CYCLE}`);
    }
    for (let i = 0; i < cycle; i++) r.readSE();
  } else if (pocType !== 2) {
    throw new ParseError(`h264: pic_order_cnt_type ${pocType} exceeds 2`);
  }

  r.readUE(); // max_num_ref_frames
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = r.readUE() + 1;
  const heightInMapUnits = r.readUE() + 1;
  const frameMbsOnly = r.readBool();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  const heightInMbs = (frameMbsOnly ? 1 : 2) * heightInMapUnits;
  if (widthInMbs > MAX_PIC_SIZE_IN_MBS || heightInMbs > MAX_PIC_SIZE_IN_MBS) {
    throw new ParseError(`h264: picture of ${widthInMbs}x${heightInMbs} macroblocks exceeds ${MAX_PIC_SIZE_IN_MBS} per side`);
  }
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.readBool()) {
    crop.left = r.readUE();
    crop.right = r.readUE();
    crop.top = r.readUE();
    crop.bottom = r.readUE();
  }

  const codedWidth = widthInMbs * 16;
  const codedHeight = heightInMbs * 16;
  const width = codedWidth - 2 * (crop.left + crop.right);
  const height = codedHeight - 2 * (crop.top + crop.bottom);
  // §7.4.2.1.1: ChromaArrayType 0 (monochrome or separate planes) crops in luma samples.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
  const displayWidth = codedWidth - cropUnitX * (crop.left + crop.right);
  const displayHeight = codedHeight - cropUnitY * (crop.top + crop.bottom);
  if (width <= 0 || height <= 0 || displayWidth <= 0 || displayHeight <= 0) {
    throw new ParseError(`h264: cropping ${JSON.stringify(crop)} leaves nothing of ${codedWidth}x${codedHeight}`);
  }

  return {
    profileIdc,
    levelIdc,
    width,
    height,
    profile: h264ProfileName(profileIdc),
    constraintFlags,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    crop,
    displayWidth,
    displayHeight,
  };
}

/**
 * scaling_list(size) (§7.3.2.1.1.1): delta_scale se(v) until nextScale becomes 0. Only the bit
 * position matters here; delta_scale is -128..127.
 */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.readSE();
      if (delta < -128 || delta > 127) throw new ParseError(`h264: delta_scale ${delta} outside -128..127`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}
