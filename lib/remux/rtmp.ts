/**
 * RTMP/FLV ingest: RTMP media messages (or FLV tags: same bodies, docs/media.md §2) → AvPacket and
 * TrackInfo (docs/architecture.md §1.3). Handles classic AVC/HEVC (codec 7/12), enhanced RTMP (docs/protocols.md
 * §2.6; unknown FourCCs forwarded opaquely, docs/quirks.md Q-RTMP-1), AAC, G.711, Opus (LAL id 13) and
 * MP3 (docs/media.md §1), metadata normalisation (docs/media.md §2).
 *
 * Never copies: packet units, `flvBody`, parameter sets and `metadata` are views of the message
 * body, which the caller hands over (frozen, docs/architecture.md §1.3).
 */
import { bytesEqual } from '../core/bytes.ts';
import { ParseError } from '../core/errors.ts';
import { MS_TO_TICKS, type AudioTrack, type AvPacket, type TrackInfo, type VideoTrack } from '../core/packet.ts';
import { decodeAsc } from '../codec/aac/asc.ts';
import { decodeAvcConfigRecord } from '../codec/h264/config-record.ts';
import { isH264KeyFrame, splitAvcc } from '../codec/h264/nalu.ts';
import { parseH264Sps } from '../codec/h264/sps.ts';
import { decodeHevcConfigRecord } from '../codec/h265/config-record.ts';
import { isH265KeyFrame } from '../codec/h265/nalu.ts';
import { parseH265Sps } from '../codec/h265/sps.ts';
import { FlvAacPacketType, FlvSoundFormat, parseFlvAudioTag, type FlvAudioTagInfo } from '../format/flv/audio-header.ts';
import { FlvTagType } from '../format/flv/tag.ts';
import { FLV_EX_HEADER_BIT, FlvAvcPacketType, FlvVideoCodecId, FlvVideoFrameType, parseFlvVideoTag, type FlvVideoTagInfo } from '../format/flv/video-header.ts';
import { stripSetDataFrame } from '../format/flv/metadata.ts';

/** An RTMP message after chunk reassembly (or an FLV tag): type 8/9/18, ms, FLV tag body. */
export interface RtmpMediaMessage {
  type: number;
  /** Milliseconds (32-bit). For video, the DTS. */
  timestamp: number;
  body: Uint8Array;
}

export type RtmpIngestResult =
  /** A media packet. `tracksChanged` is the new TrackInfo when this packet also changed it (first G.711/Opus frame). */
  | { kind: 'packet'; packet: AvPacket; tracksChanged?: TrackInfo }
  /** Sequence header or metadata: `tracks` is a new object. */
  | { kind: 'tracks'; tracks: TrackInfo }
  /** Nothing to forward (sample access, end of sequence, repeats, empty or short payloads). */
  | { kind: 'ignore'; reason: string };

/** AMF0 string `|RtmpSampleAccess`: Flash permission message, never forwarded (docs/protocols.md §2.4). */
export const AMF0_RTMP_SAMPLE_ACCESS: Uint8Array = Uint8Array.of(
  0x02, 0x00, 0x11, 0x7c, 0x52, 0x74, 0x6d, 0x70, 0x53, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x41, 0x63, 0x63, 0x65, 0x73, 0x73,
);

function startsWith(buf: Uint8Array, prefix: Uint8Array): boolean {
  if (buf.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

// `@setDataFrame` handling lives once, in format/flv/metadata.ts (docs/media.md §2).
export { SET_DATA_FRAME as AMF0_SET_DATA_FRAME, stripSetDataFrame, withSetDataFrame as addSetDataFrame } from '../format/flv/metadata.ts';

/** Sample rate lal assumes for codecs whose FLV flags cannot say it (docs/media.md §5.1). */
const G711_SAMPLE_RATE = 8000;
const OPUS_SAMPLE_RATE = 48000;
/** NAL length size when a coded frame arrives before its sequence header (FLV always uses 4). */
const DEFAULT_NALU_LENGTH_SIZE = 4;

/**
 * Converts one publisher's RTMP media messages to AvPackets. One instance per publish session.
 * `tracks` is replaced by a new object on every change, so callers can compare identities.
 */
export class RtmpToAv {
  private current: TrackInfo = {};
  private naluLengthSize = DEFAULT_NALU_LENGTH_SIZE;

  get tracks(): TrackInfo {
    return this.current;
  }

  push(msg: RtmpMediaMessage): RtmpIngestResult {
    switch (msg.type) {
      case FlvTagType.Video: return this.video(msg.timestamp, msg.body);
      case FlvTagType.Audio: return this.audio(msg.timestamp, msg.body);
      case FlvTagType.Script: return this.data(msg.body);
      default: return { kind: 'ignore', reason: `message type ${msg.type} is not media` };
    }
  }

  private data(body: Uint8Array): RtmpIngestResult {
    if (startsWith(body, AMF0_RTMP_SAMPLE_ACCESS)) return { kind: 'ignore', reason: '|RtmpSampleAccess' };
    const metadata = stripSetDataFrame(body);
    if (metadata.length === 0) return { kind: 'ignore', reason: 'empty data message' };
    this.current = { ...this.current, metadata };
    return { kind: 'tracks', tracks: this.current };
  }

  private video(ts: number, body: Uint8Array): RtmpIngestResult {
    if (body.length === 0) return { kind: 'ignore', reason: 'empty video message' };
    // The common case first, without a parsed header: a classic AVC coded frame (`17 01`/`27 01`
    // + composition time). The general path below gives the same packet.
    const b0 = body[0];
    if ((b0 & 0x0f) === FlvVideoCodecId.Avc && b0 >> 4 !== FlvVideoFrameType.Command && (b0 & FLV_EX_HEADER_BIT) === 0 && body.length > 5 && body[1] === FlvAvcPacketType.Nalu) {
      return this.videoFrame(ts, body, b0 >> 4, 'h264', ((body[2] << 24) | (body[3] << 16) | (body[4] << 8)) >> 8, 5);
    }
    let h: FlvVideoTagInfo;
    try {
      h = parseFlvVideoTag(body);
    } catch (e) {
      if (e instanceof ParseError) return { kind: 'ignore', reason: `video: ${e.message}` };
      throw e;
    }
    switch (h.packetType) {
      case 'seq': return this.videoSequenceHeader(body, h);
      // ffmpeg sends `17 02 00 00 00` when it stops (lal#115): benign. Forwarded to RTMP/FLV
      // players as LAL does (an opaque packet without units); other outputs skip it.
      case 'eos': return { kind: 'packet', packet: { ...this.opaqueVideo(ts, body, h), key: false } };
      case 'nalu':
        if (h.codec === 'other') return { kind: 'packet', packet: this.opaqueVideo(ts, body, h) };
        return this.videoFrame(ts, body, h.frameType, h.codec, h.cts, h.dataOffset);
      default: return { kind: 'packet', packet: this.opaqueVideo(ts, body, h) };
    }
  }

  /** Metadata packets, command frames, non-AVC/HEVC classic codecs: RTMP/FLV outputs only. */
  private opaqueVideo(ts: number, body: Uint8Array, h: FlvVideoTagInfo): AvPacket {
    const t = ts * MS_TO_TICKS;
    return { kind: 'video', codec: 'other', dts: t, pts: t, key: h.frameType === FlvVideoFrameType.Key, units: [], flvBody: body };
  }

  private videoSequenceHeader(body: Uint8Array, h: FlvVideoTagInfo): RtmpIngestResult {
    if (body.length <= h.dataOffset) return { kind: 'ignore', reason: 'empty video sequence header' };
    const prev = this.current.video;
    if (prev?.flvSeqHeader && bytesEqual(prev.flvSeqHeader, body)) {
      return { kind: 'ignore', reason: 'repeated video sequence header' };
    }
    const config = body.subarray(h.dataOffset);
    let video: VideoTrack;
    if (h.codec === 'h264') {
      const rec = decodeAvcConfigRecord(config);
      if (rec.sps.length === 0) throw new ParseError('remux-rtmp: AVC sequence header carries no SPS');
      const sps = parseH264Sps(rec.sps[0]);
      video = {
        codec: 'h264', width: sps.width, height: sps.height, profile: sps.profile, level: sps.levelIdc,
        sps: rec.sps, pps: rec.pps, config, flvSeqHeader: body,
      };
      this.naluLengthSize = rec.lengthSize;
    } else if (h.codec === 'h265') {
      const rec = decodeHevcConfigRecord(config);
      if (rec.sps.length === 0) throw new ParseError('remux-rtmp: HEVC sequence header carries no SPS');
      const sps = parseH265Sps(rec.sps[0]);
      video = {
        codec: 'h265', width: sps.width, height: sps.height, profile: sps.profile, level: sps.levelIdc,
        sps: rec.sps, pps: rec.pps, vps: rec.vps, config, flvSeqHeader: body,
      };
      this.naluLengthSize = rec.lengthSize;
    } else {
      // unknown enhanced FourCC (av01, vp09…): kept for RTMP/FLV late joiners only (docs/quirks.md Q-RTMP-1)
      video = { codec: 'other', width: 0, height: 0, profile: '', level: 0, sps: [], pps: [], config, flvSeqHeader: body };
    }
    this.current = { ...this.current, video };
    return { kind: 'tracks', tracks: this.current };
  }

  /** An AVC/HEVC coded frame: `frameType` and composition time `cts` (ms) from its tag header, NALUs from `dataOffset`. */
  private videoFrame(ts: number, body: Uint8Array, frameType: number, codec: 'h264' | 'h265', cts: number, dataOffset: number): RtmpIngestResult {
    if (body.length <= dataOffset) return { kind: 'ignore', reason: 'empty video frame' };
    const lengthSize = this.current.video?.codec === codec ? this.naluLengthSize : DEFAULT_NALU_LENGTH_SIZE;
    let units: Uint8Array[];
    try {
      units = splitAvcc(body, lengthSize, undefined, dataOffset);
    } catch (e) {
      // one broken frame is dropped, not the session
      if (e instanceof ParseError) return { kind: 'ignore', reason: `video frame: ${e.message}` };
      throw e;
    }
    if (units.length === 0) return { kind: 'ignore', reason: 'video frame without NAL units' };
    const key = frameType === FlvVideoFrameType.Key || (codec === 'h264' ? isH264KeyFrame(units) : isH265KeyFrame(units));
    const packet: AvPacket = {
      kind: 'video', codec, dts: ts * MS_TO_TICKS, pts: (ts + cts) * MS_TO_TICKS, key, units, flvBody: body,
    };
    return { kind: 'packet', packet };
  }

  private audio(ts: number, body: Uint8Array): RtmpIngestResult {
    if (body.length === 0) return { kind: 'ignore', reason: 'empty audio message' };
    // The common case first, without a parsed header: a raw AAC frame (`AF 01`, any rate/size/
    // channel bits) once the AAC sequence header is known. The general path below gives the
    // same packet.
    if (body.length > 2 && body[0] >> 4 === FlvSoundFormat.Aac && body[1] === FlvAacPacketType.Raw && this.current.audio?.codec === 'aac') {
      const t = ts * MS_TO_TICKS;
      return { kind: 'packet', packet: { kind: 'audio', codec: 'aac', dts: t, pts: t, key: true, units: [body.subarray(2)], flvBody: body } };
    }
    let h: FlvAudioTagInfo;
    try {
      h = parseFlvAudioTag(body);
    } catch (e) {
      if (e instanceof ParseError) return { kind: 'ignore', reason: `audio: ${e.message}` };
      throw e;
    }
    const data = body.subarray(h.dataOffset);
    const t = ts * MS_TO_TICKS;
    switch (h.codec) {
      case 'aac': {
        if (data.length === 0) return { kind: 'ignore', reason: h.aacPacketType === 0 ? 'empty AAC sequence header' : 'empty AAC frame' };
        if (h.aacPacketType === 0) return this.aacSequenceHeader(body, data);
        if (this.current.audio?.codec !== 'aac') return { kind: 'ignore', reason: 'AAC frame before the AAC sequence header' };
        return { kind: 'packet', packet: { kind: 'audio', codec: 'aac', dts: t, pts: t, key: true, units: [data], flvBody: body } };
      }
      case 'g711a':
      case 'g711u':
      case 'opus': {
        if (data.length === 0) return { kind: 'ignore', reason: `empty ${h.codec} frame` };
        const packet: AvPacket = { kind: 'audio', codec: h.codec, dts: t, pts: t, key: true, units: [data], flvBody: body };
        if (this.current.audio?.codec === h.codec) return { kind: 'packet', packet };
        const audio: AudioTrack = {
          codec: h.codec,
          sampleRate: h.codec === 'opus' ? OPUS_SAMPLE_RATE : G711_SAMPLE_RATE,
          channels: h.soundType === 1 ? 2 : 1,
        };
        this.current = { ...this.current, audio };
        return { kind: 'packet', packet, tracksChanged: this.current };
      }
      case 'mp3':
        if (data.length === 0) return { kind: 'ignore', reason: 'empty mp3 frame' };
        return { kind: 'packet', packet: { kind: 'audio', codec: 'mp3', dts: t, pts: t, key: true, units: [data], flvBody: body } };
      default:
        // other sound formats and enhanced audio: forwarded opaquely to RTMP/FLV outputs
        return { kind: 'packet', packet: { kind: 'audio', codec: 'other', dts: t, pts: t, key: true, units: [], flvBody: body } };
    }
  }

  private aacSequenceHeader(body: Uint8Array, asc: Uint8Array): RtmpIngestResult {
    const prev = this.current.audio;
    if (prev?.flvSeqHeader && bytesEqual(prev.flvSeqHeader, body)) {
      return { kind: 'ignore', reason: 'repeated AAC sequence header' };
    }
    const info = decodeAsc(asc);
    const audio: AudioTrack = { codec: 'aac', sampleRate: info.sampleRate, channels: info.channels, asc, flvSeqHeader: body };
    this.current = { ...this.current, audio };
    return { kind: 'tracks', tracks: this.current };
  }
}
