/** H.265 / HEVC (ISO/IEC 23008-2, 14496-15 §8): NAL units, SPS, hvcC record. Re-exports only. */
export { NaluTypeH265, h265NaluType, isH265Irap, isH265KeyFrame } from './nalu.ts';
export { parseH265Sps, h265ProfileName, H265_PROFILE_NAMES } from './sps.ts';
export type { H265SpsInfo } from './sps.ts';
export { decodeHevcConfigRecord, encodeHevcConfigRecord } from './config-record.ts';
export type { HevcConfig } from './config-record.ts';
