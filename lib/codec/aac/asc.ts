/**
 * MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): the body of an FLV/RTMP AAC sequence
 * header (after `AF 00`), the SDP `config=` of RFC 3640, the MP4 esds DecoderSpecificInfo.
 *
 *   audioObjectType u(5) [31: 32 + u(6)]
 *   samplingFrequencyIndex u(4) [15: samplingFrequency u(24)]
 *   channelConfiguration u(4)
 *   [AOT 5 (SBR) or 29 (PS): extensionSamplingFrequencyIndex u(4) [15: u(24)],
 *                            audioObjectType (the core) u(5) [31: 32 + u(6)]]
 *   GASpecificConfig (AAC family): frameLengthFlag u(1), dependsOnCoreCoder u(1) [coreCoderDelay u(14)],
 *                                  extensionFlag u(1); channelConfiguration 0 → program_config_element()
 *   [backward-compatible extension: syncExtensionType u(11) = 0x2b7, extensionAudioObjectType …]
 */
import { BitReader } from '../../core/bit-reader.ts';
import { BitWriter } from '../../core/bit-writer.ts';
import { ParseError } from '../../core/errors.ts';

/** samplingFrequencyIndex → Hz (ISO/IEC 14496-3 Table 1.18); 13, 14 reserved, 15 = explicit. */
export const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

/** Audio object types lal names (ISO/IEC 14496-3 Table 1.17). */
export const AacObjectType = {
  Main: 1,
  Lc: 2,
  Ssr: 3,
  Ltp: 4,
  Sbr: 5,
  Ps: 29,
  Escape: 31,
} as const;

export interface AscInfo {
  /**
   * Audio object type of the core coder: 2 for AAC-LC. For explicitly signalled HE-AAC
   * (AOT 5/29) this is the core type that follows, so `objectType - 1` is the ADTS profile.
   */
  objectType: number;
  /** 0..12, or 15 when the rate is given explicitly. */
  samplingIndex: number;
  /** Sampling rate of the core coder in Hz. */
  sampleRate: number;
  /** Number of output channels (8 for configuration 7); from the PCE when the configuration is 0. */
  channels: number;
  /** channelConfiguration as coded (0..15); absent when the info was built by hand. */
  channelConfig?: number;
  /** SBR (HE-AAC) signalled explicitly or by the backward-compatible extension. */
  sbr?: boolean;
  /** Parametric stereo (HE-AAC v2) signalled. */
  ps?: boolean;
  /** Output rate of the SBR tool when signalled. */
  extensionSampleRate?: number;
}

/** channelConfiguration → channel count (ISO/IEC 14496-3 Table 1.19; 13 is 22.2). */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0] as const;

/** Object types whose specific config is GASpecificConfig (Table 1.16). */
const GA_OBJECT_TYPES: ReadonlySet<number> = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

const SYNC_EXTENSION_SBR = 0x2b7;
const SYNC_EXTENSION_PS = 0x548;

/** Parse an AudioSpecificConfig. Trailing bits we do not need are ignored. */
export function decodeAsc(buf: Uint8Array): AscInfo {
  const r = new BitReader(buf, 'aac: AudioSpecificConfig');
  let objectType = readObjectType(r);
  let { index: samplingIndex, rate: sampleRate } = readSamplingFrequency(r);
  const channelConfig = r.readBits(4);
  const info: AscInfo = { objectType, samplingIndex, sampleRate, channels: CHANNELS_BY_CONFIG[channelConfig], channelConfig };

  if (objectType === AacObjectType.Sbr || objectType === AacObjectType.Ps) {
    info.sbr = true;
    if (objectType === AacObjectType.Ps) info.ps = true;
    info.extensionSampleRate = readSamplingFrequency(r).rate;
    objectType = readObjectType(r);
    if (objectType === 22) r.skipBits(4); // extensionChannelConfiguration (ER BSAC)
    info.objectType = objectType;
  }

  if (!GA_OBJECT_TYPES.has(objectType)) return info;

  // GASpecificConfig (§4.4.1)
  r.skipBits(1); // frameLengthFlag
  if (r.readBool()) r.skipBits(14); // dependsOnCoreCoder → coreCoderDelay
  const extensionFlag = r.readBool();
  if (channelConfig === 0) {
    info.channels = readPceChannels(r);
    return info; // the PCE ends with a byte_alignment() we do not track; stop here
  }
  if (objectType === 6 || objectType === 20) r.skipBits(3); // layerNr
  if (extensionFlag) {
    if (objectType === 22) r.skipBits(16); // numOfSubFrame u(5), layer_length u(11)
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3);
    r.skipBits(1); // extensionFlag3
  }
  if (info.sbr) return info;

  // Backward-compatible SBR/PS signalling (§1.6.5.2), e.g. ffmpeg's `12 10 56 E5 00`.
  if (r.bitsLeft >= 16 && r.readBits(11) === SYNC_EXTENSION_SBR) {
    const extType = readObjectType(r);
    if (extType === AacObjectType.Sbr && r.bitsLeft >= 1) {
      if (r.readBool() && r.bitsLeft >= 4) {
        info.sbr = true;
        const ext = readSamplingFrequency(r);
        info.extensionSampleRate = ext.rate;
        if (r.bitsLeft >= 12 && r.readBits(11) === SYNC_EXTENSION_PS && r.readBool()) info.ps = true;
      }
    }
  }
  return info;
}

function readObjectType(r: BitReader): number {
  const t = r.readBits(5);
  if (t === 0) throw new ParseError('aac: audio object type 0 (null) is invalid');
  return t === AacObjectType.Escape ? 32 + r.readBits(6) : t;
}

function readSamplingFrequency(r: BitReader): { index: number; rate: number } {
  const index = r.readBits(4);
  if (index === 15) {
    const rate = r.readBits(24);
    if (rate === 0) throw new ParseError('aac: explicit sampling frequency 0');
    return { index, rate };
  }
  if (index >= SAMPLE_RATES.length) throw new ParseError(`aac: sampling frequency index ${index} is reserved`);
  return { index, rate: SAMPLE_RATES[index] };
}

/**
 * program_config_element() (§4.4.1.1) up to the element lists: count the channels.
 *   element_instance_tag u(4) object_type u(2) sampling_frequency_index u(4)
 *   num_front u(4) num_side u(4) num_back u(4) num_lfe u(2) num_assoc_data u(3) num_valid_cc u(4)
 *   mono_mixdown_present u(1) [u(4)] stereo_mixdown_present u(1) [u(4)]
 *   matrix_mixdown_idx_present u(1) [u(3)]
 *   front/side/back: is_cpe u(1) + tag u(4) each; lfe: tag u(4) each
 */
function readPceChannels(r: BitReader): number {
  r.skipBits(10);
  const front = r.readBits(4);
  const side = r.readBits(4);
  const back = r.readBits(4);
  const lfe = r.readBits(2);
  r.skipBits(3 + 4);
  if (r.readBool()) r.skipBits(4);
  if (r.readBool()) r.skipBits(4);
  if (r.readBool()) r.skipBits(3);
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.readBool() ? 2 : 1;
    r.skipBits(4);
  }
  r.skipBits(4 * lfe); // the tags must be present for the PCE to be whole
  return channels;
}

/** channel count → channelConfiguration for the counts a configuration can express. */
export function aacChannelConfig(channels: number): number {
  if (channels >= 1 && channels <= 6) return channels;
  if (channels === 8) return 7;
  throw new ParseError(`aac: ${channels} channels have no channelConfiguration`);
}

/** samplingFrequencyIndex of a rate, or 15 (explicit) when the table has none. */
export function aacSamplingIndex(sampleRate: number): number {
  const i = (SAMPLE_RATES as readonly number[]).indexOf(sampleRate);
  return i >= 0 ? i : 15;
}

/**
 * Build an AudioSpecificConfig with GASpecificConfig all zero (1024-sample frames, no core
 * coder, no extension): 2 bytes for AAC-LC at a table rate. Rates outside the table use the
 * explicit 24-bit form, object types ≥ 31 the escape.
 */
export function encodeAsc(info: { objectType: number; sampleRate: number; channels: number }): Uint8Array {
  const { objectType, sampleRate } = info;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95 || objectType === AacObjectType.Escape) {
    throw new ParseError(`aac: audio object type ${objectType} is outside 1..30, 32..95`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffff) {
    throw new ParseError(`aac: sample rate ${sampleRate} does not fit 24 bits`);
  }
  const w = new BitWriter();
  if (objectType > AacObjectType.Escape) {
    w.writeBits(AacObjectType.Escape, 5);
    w.writeBits(objectType - 32, 6);
  } else {
    w.writeBits(objectType, 5);
  }
  const index = aacSamplingIndex(sampleRate);
  w.writeBits(index, 4);
  if (index === 15) w.writeBits(sampleRate, 24);
  w.writeBits(aacChannelConfig(info.channels), 4);
  if (GA_OBJECT_TYPES.has(objectType)) w.writeBits(0, 3); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return w.finish();
}
