/**
 * The neutral media unit every protocol converts to and from (docs/architecture.md §1.3).
 *
 * Units and framing, stated once:
 * - `dts`/`pts` are integers in 90 kHz ticks. RTMP/FLV ms × 90 is exact.
 * - video `units`: NAL units without start codes or length prefixes (views, never copies).
 * - audio `units`: exactly one raw frame (AAC without ADTS, raw G.711/Opus bytes).
 * - `key`: IDR/IRAP for video; always true for audio.
 * - `flvBody`: when the packet came from RTMP/FLV, the FLV tag body it was cut from
 *   (tag header byte(s) + payload). RTMP/FLV outputs forward it unchanged, so RTMP→RTMP never
 *   re-frames (docs/architecture.md §1.3; it covers audio and enhanced-RTMP headers too).
 * Ownership: bytes handed to the hub are frozen; nobody writes into them after ingest.
 */

export type VideoCodec = 'h264' | 'h265';
export type AudioCodec = 'aac' | 'g711a' | 'g711u' | 'opus' | 'mp3';
/** `other` = a codec we forward to RTMP/FLV only (e.g. an unknown enhanced-RTMP FourCC). */
export type Codec = VideoCodec | AudioCodec | 'other';

export interface AvPacket {
  kind: 'video' | 'audio';
  codec: Codec;
  dts: number;
  pts: number;
  key: boolean;
  units: Uint8Array[];
  flvBody?: Uint8Array;
}

export interface VideoTrack {
  codec: VideoCodec | 'other';
  width: number;
  height: number;
  /** e.g. `High`, `Main` (from the SPS), '' when unknown. */
  profile: string;
  level: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  vps?: Uint8Array[];
  /** AVCDecoderConfigurationRecord / HEVCDecoderConfigurationRecord bytes. */
  config?: Uint8Array;
  /** The FLV video tag body of the sequence header as received, when the input was RTMP/FLV. */
  flvSeqHeader?: Uint8Array;
}

export interface AudioTrack {
  codec: AudioCodec | 'other';
  sampleRate: number;
  channels: number;
  /** AAC AudioSpecificConfig. */
  asc?: Uint8Array;
  /** The FLV audio tag body of the AAC sequence header as received (`AF 00` + ASC). */
  flvSeqHeader?: Uint8Array;
}

/** Everything a late joiner needs before media. A change produces a new object. */
export interface TrackInfo {
  video?: VideoTrack;
  audio?: AudioTrack;
  /**
   * AMF0 data-message body `onMetaData` + object, **without** `@setDataFrame` (docs/media.md §2),
   * ready to be an FLV script tag body.
   */
  metadata?: Uint8Array;
}

/** RTMP/FLV milliseconds → 90 kHz ticks. */
export const MS_TO_TICKS = 90;
