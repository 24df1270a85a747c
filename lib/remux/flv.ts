/**
 * AvPacket/TrackInfo → FLV tag bodies (RTMP message payloads), for packets that did not come
 * from RTMP/FLV (RTSP, PS …): docs/media.md §1 (codec ids and first bytes), §2 (generated metadata),
 * §6.3 (sequence headers `17 00 00 00 00` + avcC, legacy HEVC `1C 00 00 00 00` + hvcC, `AF 00`
 * + ASC; frames `17|27 01 cts`, `1C|2C 01 cts`, `AF 01`, `72`, `82`, `DF`).
 * Packets and tracks that came from RTMP/FLV carry their original bodies, returned unchanged.
 *
 * Also the FLV *file* side: `fileMetadata` (the onMetaData every FLV file we write starts with,
 * whose `duration`/`filesize` FlvFileWriter patches on close) and `AvToFlvFile` (packets and
 * tracks → the tags of a file, H.265 as enhanced RTMP `hvc1`, docs/protocols.md §2.6).
 */
import { putU24be, putU32be } from '../core/bytes.ts';
import { LalError } from '../core/errors.ts';
import { MS_TO_TICKS, type AudioTrack, type AvPacket, type TrackInfo, type VideoTrack } from '../core/packet.ts';
import { ticksToFlvMs } from '../core/timestamp.ts';
import { LAL_VERSION } from '../core/version.ts';
import { encodeAvcConfigRecord } from '../codec/h264/index.ts';
import { encodeHevcConfigRecord } from '../codec/h265/index.ts';
import { Amf0EcmaArray, decodeAmf0All, encodeAmf0, type Amf0Value } from '../format/amf0/index.ts';
import { FlvTagType } from '../format/flv/tag.ts';
import { FLV_EX_HEADER_BIT, FlvExVideoPacketType, FlvVideoFrameType } from '../format/flv/video-header.ts';

/** First byte of a frame's FLV video tag: FrameType << 4 | CodecID (AVC 7, legacy HEVC 12). */
const VIDEO_FIRST_BYTE = {
  h264: { key: 0x17, inter: 0x27 },
  h265: { key: 0x1c, inter: 0x2c },
} as const;

/** First byte of an FLV audio tag as LAL writes it (docs/media.md §1; AAC is always `AF`). */
export const FlvAudioFirstByte = { aac: 0xaf, g711a: 0x72, g711u: 0x82, opus: 0xdf } as const;

/** FLV video codec ids LAL's metadata reports (docs/media.md §2). */
const VIDEO_CODEC_ID = { h264: 7, h265: 12 } as const;
const AAC_SOUND_FORMAT = 10;

/** SI24 range of the composition time field. */
const MAX_CTS_MS = 0x7fffff;
const MIN_CTS_MS = -0x800000;

/** FLV/RTMP timestamp (ms) of a packet: its DTS through `ticksToFlvMs` (floor, as LAL). */
export function flvTimestampOf(pkt: AvPacket): number {
  return ticksToFlvMs(pkt.dts);
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
 * The onMetaData body LAL generates for RTSP/PS/customize inputs (docs/media.md §2): AMF0 string
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

// ---- FLV files --------------------------------------------------------------------------------

/** Enhanced-RTMP FourCC of H.265 (docs/protocols.md §2.6). */
const FOURCC_HVC1 = Uint8Array.of(0x68, 0x76, 0x63, 0x31);
/**
 * onMetaData `videocodecid` / `audiocodecid` of a file we build metadata for (FLV spec E.4.3.1 /
 * E.4.2.1): such a file carries H.265 as enhanced RTMP, so its id is the FourCC `hvc1` as a number.
 */
const FILE_VIDEO_CODEC_ID = { h264: 7, h265: 0x68766331 } as const;
const FILE_AUDIO_CODEC_ID = { aac: 10, mp3: 2, g711a: 7, g711u: 8, opus: 13 } as const;

/** The name + object of an AMF0 onMetaData body, or undefined when it is not one. */
function metadataObject(body: Uint8Array): Record<string, Amf0Value> | undefined {
  try {
    const v = decodeAmf0All(body);
    const obj = v[1];
    if (v[0] !== 'onMetaData' || !obj || typeof obj !== 'object' || Array.isArray(obj) || obj instanceof Date) return undefined;
    return obj instanceof Amf0EcmaArray ? obj.entries : (obj as Record<string, Amf0Value>);
  } catch {
    return undefined;
  }
}

/**
 * The onMetaData body an FLV file starts with (FLV spec E.5), with `duration` and `filesize`
 * numbers that FlvFileWriter patches in place when it closes the file:
 * - a stream that has metadata (`tracks.metadata`, without `@setDataFrame`): that metadata, with
 *   the two numbers added as placeholders 0 when it lacks them (re-encoded as an ECMA array);
 *   returned unchanged when it already has both, or is not an AMF0 `onMetaData` + object;
 * - one without: built from the tracks: `duration`, `width`, `height`, `videocodecid` (7, or
 *   `hvc1` for H.265, written as enhanced RTMP by AvToFlvFile), `audiocodecid`,
 *   `audiosamplerate`, `stereo`, `encoder`, `filesize`.
 * Used by `lal remux` (TS input), `lal pull` and the FLV recorder.
 */
export function fileMetadata(tracks: TrackInfo): Uint8Array {
  if (tracks.metadata) {
    const obj = metadataObject(tracks.metadata);
    if (!obj || (typeof obj.duration === 'number' && typeof obj.filesize === 'number')) return tracks.metadata;
    return encodeAmf0('onMetaData', new Amf0EcmaArray({ ...obj, duration: 0, filesize: 0 }));
  }
  const o: Record<string, Amf0Value> = { duration: 0 };
  const v = tracks.video;
  if (v && (v.codec === 'h264' || v.codec === 'h265')) {
    o.width = v.width;
    o.height = v.height;
    o.videocodecid = FILE_VIDEO_CODEC_ID[v.codec];
  }
  const a = tracks.audio;
  if (a && a.codec !== 'other') {
    o.audiocodecid = FILE_AUDIO_CODEC_ID[a.codec];
    o.audiosamplerate = a.sampleRate;
    o.stereo = a.channels > 1;
  }
  o.encoder = `lal ${LAL_VERSION}`;
  o.filesize = 0;
  return encodeAmf0('onMetaData', new Amf0EcmaArray(o));
}

/**
 * The video sequence header body of a file: as received, enhanced `hvc1` SequenceStart for
 * H.265, classic AVC for H.264; undefined when there is nothing to put in one.
 */
export function fileVideoSeqHeaderBody(v: VideoTrack): Uint8Array | undefined {
  if (v.flvSeqHeader) return v.flvSeqHeader;
  if (v.codec === 'h265') {
    const config = v.config ?? encodeHevcConfigRecord({ vps: v.vps ?? [], sps: v.sps, pps: v.pps });
    const out = new Uint8Array(5 + config.length);
    out[0] = FLV_EX_HEADER_BIT | (FlvVideoFrameType.Key << 4) | FlvExVideoPacketType.SequenceStart;
    out.set(FOURCC_HVC1, 1);
    out.set(config, 5);
    return out;
  }
  if (v.codec === 'h264' && v.sps.length > 0 && v.pps.length > 0) return videoSeqHeaderBody(v);
  return undefined;
}

/**
 * Enhanced RTMP coded frame: byte 0 = 1 FrameType PacketType, 'hvc1', then 4-byte-length NALUs.
 * PacketType 3 CodedFramesX (no composition time) when PTS = DTS, else 1 CodedFrames with an SI24
 * composition time. CodedFramesX also keeps ffmpeg 6.x readers working: they mis-size
 * CodedFrames tags of `hvc1` (ffprobe reports "Packet mismatch" and loses the stream).
 */
export function enhancedHevcFrameBody(p: AvPacket): Uint8Array {
  const cts = Math.min(MAX_CTS_MS, Math.max(MIN_CTS_MS, Math.round((p.pts - p.dts) / MS_TO_TICKS)));
  const head = cts === 0 ? 5 : 8;
  let size = head;
  for (const u of p.units) size += 4 + u.length;
  const out = new Uint8Array(size);
  const frameType = p.key ? FlvVideoFrameType.Key : FlvVideoFrameType.Inter;
  const packetType = cts === 0 ? FlvExVideoPacketType.CodedFramesX : FlvExVideoPacketType.CodedFrames;
  out[0] = FLV_EX_HEADER_BIT | (frameType << 4) | packetType;
  out.set(FOURCC_HVC1, 1);
  if (cts !== 0) putU24be(out, 5, cts & 0xffffff);
  let off = head;
  for (const u of p.units) {
    putU32be(out, off, u.length);
    out.set(u, off + 4);
    off += 4 + u.length;
  }
  return out;
}

/** Where AvToFlvFile puts its tags (an FlvFileWriter's `writeTag`). */
export interface FlvTagOutput {
  tag(type: number, timestamp: number, body: Uint8Array): void;
}

/**
 * AvPackets and TrackInfos → the tags of an FLV file: onMetaData first (the input's own, or
 * `fileMetadata` built from the tracks when the input has none: `builtMetadata`), sequence
 * headers whenever a track changes (at the last timestamp written), one tag per packet (its
 * FLV body when it came from RTMP/FLV, H.265 as enhanced RTMP, else `avPacketToFlvBody`), at
 * `ticksToFlvMs(dts)`.
 */
export class AvToFlvFile {
  hasAudio = false;
  hasVideo = false;
  /** The onMetaData was built here rather than taken from the input. */
  builtMetadata = false;
  private current: TrackInfo = {};
  private started = false;
  private lastTimestamp = 0;

  constructor(private readonly out: FlvTagOutput) {}

  /** On the first event: our own onMetaData when the input brought none (TS input). */
  private start(t: TrackInfo): void {
    if (this.started) return;
    this.started = true;
    if (t.metadata) return;
    this.builtMetadata = true;
    this.out.tag(FlvTagType.Script, 0, fileMetadata(t));
  }

  tracks(t: TrackInfo): void {
    this.start(t);
    const prev = this.current;
    this.current = t;
    if (t.metadata && t.metadata !== prev.metadata) this.out.tag(FlvTagType.Script, this.lastTimestamp, t.metadata);
    if (t.video && t.video !== prev.video) {
      const body = fileVideoSeqHeaderBody(t.video);
      if (body) {
        this.out.tag(FlvTagType.Video, this.lastTimestamp, body);
        this.hasVideo = true;
      }
    }
    if (t.audio && t.audio !== prev.audio) {
      const body = audioSeqHeaderBody(t.audio);
      if (body) {
        this.out.tag(FlvTagType.Audio, this.lastTimestamp, body);
        this.hasAudio = true;
      }
    }
  }

  packet(p: AvPacket): void {
    this.start(this.current);
    const body = p.flvBody ?? (p.kind === 'video' && p.codec === 'h265' ? enhancedHevcFrameBody(p) : avPacketToFlvBody(p));
    const ts = ticksToFlvMs(p.dts);
    this.lastTimestamp = ts;
    if (p.kind === 'video') this.hasVideo = true;
    else this.hasAudio = true;
    this.out.tag(p.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio, ts, body);
  }
}
