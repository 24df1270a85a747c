/** H.264 / AVC (ISO/IEC 14496-10, 14496-15): NAL units, SPS, avcC record. Re-exports only. */
export { NaluTypeH264, MAX_NALUS_PER_AU, h264NaluType, splitAvcc, splitAnnexB, isH264KeyFrame } from './nalu.ts';
export { parseH264Sps, h264ProfileName, H264_PROFILE_NAMES } from './sps.ts';
export type { H264SpsInfo } from './sps.ts';
export { decodeAvcConfigRecord, encodeAvcConfigRecord } from './config-record.ts';
export type { AvcConfig } from './config-record.ts';
