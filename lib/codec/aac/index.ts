/** AAC (ISO/IEC 14496-3): AudioSpecificConfig and ADTS. Re-exports only. */
export { SAMPLE_RATES, AacObjectType, decodeAsc, encodeAsc, aacChannelConfig, aacSamplingIndex } from './asc.ts';
export type { AscInfo } from './asc.ts';
export {
  ADTS_HEADER_SIZE,
  ADTS_HEADER_SIZE_CRC,
  MAX_ADTS_FRAME_LENGTH,
  encodeAdtsHeader,
  encodeAdtsHeaderInto,
  decodeAdtsHeader,
  splitAdts,
} from './adts.ts';
export type { AdtsHeader } from './adts.ts';
