/**
 * AvPacket/TrackInfo → FLV tag bodies (RTMP message payloads), for packets that did not come
 * from RTMP/FLV (RTSP, PS …): media.md §1 (codec ids and first bytes), §2 (generated metadata),
 * §6.3 (sequence headers `17 00 00 00 00` + avcC, legacy HEVC `1C 00 00 00 00` + hvcC, `AF 00`
 * + ASC; frames `17|27 01 cts`, `1C|2C 01 cts`, `AF 01`, `72`, `82`, `DF`).
 * Packets and tracks that came from RTMP/FLV carry their original bodies, returned unchanged.
 */
import { putU24be, putU32be } from '../core/bytes.ts';
import { LalError } from '../core/errors.ts';
import { MS_TO_TICKS, type AudioTrack, type AvPacket, type TrackInfo, type VideoTrack } from '../core/packet.ts';
import { LAL_VERSION } from '../core/version.ts';
import { encodeAvcConfigRecord } from '../codec/h264/index.ts';
import { encodeHevcConfigRecord } from '../codec/h265/index.ts';
import { encodeAmf0 } from '../format/amf0/index.ts';
import { FlvTagType } from '../format/flv/tag.ts';

/** First byte of a frame's FLV video tag: FrameType << 4 | CodecID (AVC 7, legacy HEVC 12). */
const VIDEO_FIRST_BYTE = {
  h264: { key: 0x17, inter: 0x27 },
  h265: { key: 0x1c, inter: 0x2c },
} as const;

/** First byte of an FLV audio tag as LAL writes it (media.md §1; AAC is always `AF`). */
export const FlvAudioFirstByte = { aac: 0xaf, g711a: 0x72, g711u: 0x82, opus: 0xdf } as const;

/** FLV video codec ids LAL's metadata reports (media.md §2). */
const VIDEO_CODEC_ID = { h264: 7, h265: 12 } as const;
const AAC_SOUND_FORMAT = 10;

/** SI24 range of the composition time field. */
const MAX_CTS_MS = 0x7fffff;
const MIN_CTS_MS = -0x800000;

/** FLV/RTMP timestamp (ms) of a packet: its DTS in ms, truncated as LAL does (media.md §6.1). */
export function flvTimestampOf(pkt: AvPacket): number {
  return Math.floor(pkt.dts / MS_TO_TICKS);
}

/** Tag type (8 audio, 9 video) of a packet. */
export function flvTagTypeOf(pkt: AvPacket): number {
  return pkt.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio;
}

/** The video sequence header body: the one received, else built from the parameter sets. */
export function videoSeqHeaderBody(track: VideoTrack): Uint8Array {
  if (track.flvSeqHeader) return track.flvSeqHeader;
  let first: number;
  let config: Uint8Array;
  if (track.codec === 'h264') {
    first = VIDEO_FIRST_BYTE.h264.key;
    config = track.config ?? encodeAvcConfigRecord({ sps: track.sps, pps: track.pps });
  } else if (track.codec === 'h265') {
    first = VIDEO_FIRST_BYTE.h265.key;
    config = track.config ?? encodeHevcConfigRecord({ vps: track.vps ?? [], sps: track.sps, pps: track.pps });
  } else {
    throw new LalError('unsupported', 'remux-flv: no FLV sequence header for a video track of codec other');
  }
  const out = new Uint8Array(5 + config.length);
  out[0] = first; // then AVCPacketType 0 and composition time 0
  out.set(config, 5);
  return out;
}

/** The audio sequence header body (`AF 00` + ASC), or undefined for codecs that have none. */
export function audioSeqHeaderBody(track: AudioTrack): Uint8Array | undefined {
  if (track.flvSeqHeader) return track.flvSeqHeader;
  if (track.codec !== 'aac' || !track.asc) return undefined;
  const out = new Uint8Array(2 + track.asc.length);
  out[0] = FlvAudioFirstByte.aac;
  out[1] = 0; // AACPacketType: sequence header
  out.set(track.asc, 2);
  return out;
}

/** The FLV tag body of a packet: `flvBody` when present, else built (one allocation). */
export function avPacketToFlvBody(pkt: AvPacket): Uint8Array {
  if (pkt.flvBody) return pkt.flvBody;
  if (pkt.kind === 'video') {
    if (pkt.codec !== 'h264' && pkt.codec !== 'h265') {
      throw new LalError('unsupported', `remux-flv: cannot build an FLV video tag for codec ${pkt.codec}`);
    }
    const bytes = VIDEO_FIRST_BYTE[pkt.codec];
    let size = 5;
    for (const u of pkt.units) size += 4 + u.length;
    const out = new Uint8Array(size);
    out[0] = pkt.key ? bytes.key : bytes.inter;
    out[1] = 1; // AVCPacketType: NALUs
    const cts = Math.min(MAX_CTS_MS, Math.max(MIN_CTS_MS, Math.round((pkt.pts - pkt.dts) / MS_TO_TICKS)));
    putU24be(out, 2, cts & 0xffffff);
    let off = 5;
    for (const u of pkt.units) {
      putU32be(out, off, u.length);
      out.set(u, off + 4);
      off += 4 + u.length;
    }
    return out;
  }
  const codec = pkt.codec;
  if (codec !== 'aac' && codec !== 'g711a' && codec !== 'g711u' && codec !== 'opus') {
    throw new LalError('unsupported', `remux-flv: cannot build an FLV audio tag for codec ${codec}`);
  }
  const head = codec === 'aac' ? 2 : 1;
  let size = head;
  for (const u of pkt.units) size += u.length;
  const out = new Uint8Array(size);
  out[0] = FlvAudioFirstByte[codec];
  if (codec === 'aac') out[1] = 1; // AACPacketType: raw
  let off = head;
  for (const u of pkt.units) {
    out.set(u, off);
    off += u.length;
  }
  return out;
}

/**
 * The onMetaData body LAL generates for RTSP/PS/customize inputs (media.md §2): AMF0 string
 * `onMetaData` + object {audiocodecid (AAC only), videocodecid (7/12), version, lal}.
 */
export function buildMetadata(tracks: TrackInfo): Uint8Array {
  const obj: Record<string, number | string> = {};
  if (tracks.audio?.codec === 'aac') obj.audiocodecid = AAC_SOUND_FORMAT;
  const v = tracks.video?.codec;
  if (v === 'h264' || v === 'h265') obj.videocodecid = VIDEO_CODEC_ID[v];
  obj.version = `lal${LAL_VERSION}`;
  obj.lal = LAL_VERSION;
  return encodeAmf0('onMetaData', obj);
}
