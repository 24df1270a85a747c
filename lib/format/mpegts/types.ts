/**
 * Shared shapes of the MPEG-TS pipeline (docs/media.md §4, docs/hls.md §2): what the RTMP/AvPacket → TS
 * remuxer emits and what HTTP-TS players, the HLS muxer and the TS recorder consume.
 */

/** One frame's worth of TS packets, built once and shared by every TS consumer. */
export interface TsFrame {
  /** All 188-byte TS packets of this frame's PES (length is a multiple of 188). */
  bytes: Uint8Array;
  kind: 'video' | 'audio';
  /** 90 kHz, rebased per docs/media.md §4.4 (without the +63000 written into the PES). */
  dts: number;
  pts: number;
  /** The timestamp HLS judges this frame by (docs/hls.md §2): video → DTS, audio → PTS. */
  ts: number;
  /** Video key frame (audio: false). */
  key: boolean;
  /** docs/media.md §4.5: a new HLS fragment may start / an HTTP-TS player may join before this frame. */
  boundary: boolean;
}

/** TS packet size. */
export const TS_PACKET_SIZE = 188;
