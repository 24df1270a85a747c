/**
 * AvPacket → MPEG-TS, per stream (LAL's rtmp2mpegts; docs/media.md §4, docs/quirks.md Q-TS-1 KEEP):
 * the probe queue and PAT/PMT (§4.1), AAC accumulation into ADTS PES and Opus PES (§4.2),
 * Annex-B access units with AUD and parameter sets (§4.3), per-kind timestamp rebasing (§4.4),
 * the boundary flag (§4.5) and packetisation with PTS/DTS +63000, PCR = DTS − 63000 on video
 * key frames only (§4.6). Output is bit-exact with LAL for the same message sequence.
 *
 * One instance per published stream; its frames are shared by HTTP-TS players, the HLS muxer
 * and the TS recorder (docs/hls.md §2), so everything a frame needs is in its `TsFrame`.
 *
 * Input is what the hub delivers: `setTracks()` for every TrackInfo change (LAL sees sequence
 * headers and metadata as bus messages, so each change counts as one message in the probe) and
 * `push()` for packets. Packet bytes are frozen (docs/architecture.md §1.3): audio frames are held as views
 * until their PES is written, and access units are gathered straight into the TS packets.
 */
import { ParseError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AvPacket, Codec, TrackInfo, VideoTrack } from '../core/packet.ts';
import { ADTS_HEADER_SIZE, encodeAdtsHeaderInto, MAX_ADTS_FRAME_LENGTH } from '../codec/aac/adts.ts';
import { decodeAsc, type AscInfo } from '../codec/aac/asc.ts';
import { NaluTypeH264 } from '../codec/h264/nalu.ts';
import { isH265Irap, NaluTypeH265 } from '../codec/h265/nalu.ts';
import { packetizePes, type PesPayloadWriter } from '../format/mpegts/packet.ts';
import { PesStreamId } from '../format/mpegts/pes.ts';
import { encodePatPmt, TsPid, type PmtStreams } from '../format/mpegts/psi.ts';
import type { TsFrame } from '../format/mpegts/types.ts';

export type TsEvent = { type: 'patpmt'; bytes: Uint8Array } | { type: 'frame'; frame: TsFrame };

/**
 * Where a file writer wants the TS bytes (`lal remux`): frames are packetised straight into its
 * buffer instead of a new buffer each. Calls come in output order: `patPmt` once, before the
 * first frame, then one `reserve` per frame.
 */
export interface TsOutput {
  /** The PAT + PMT, when the probe decided (before any frame). */
  patPmt(bytes: Uint8Array): void;
  /** Room for the next frame's `size` bytes; filled before the next call. */
  reserve(size: number): Uint8Array;
}

export interface AvToMpegtsOptions {
  log?: Logger;
  /**
   * Packetise into this output. Frames are then views of the output's memory, valid only until
   * its next `reserve`: for a single consumer that writes them out at once, never for frames
   * shared with players (the default, a new buffer per frame, keeps them immutable).
   */
  output?: TsOutput;
}

/** docs/media.md §4.1: messages queued at most before PAT/PMT are decided. */
export const PROBE_QUEUE_SIZE = 16;
/** docs/media.md §4.2: flush the audio buffer before a frame more than 150 ms after its first frame. */
export const AUDIO_FLUSH_BY_AUDIO = 150 * 90;
/** docs/media.md §4.2: flush it when a video frame is more than 300 ms after its first frame. */
export const AUDIO_FLUSH_BY_VIDEO = 300 * 90;
/** docs/media.md §4.6: 700 ms added to PTS/DTS in the PES, subtracted from DTS for the PCR (docs/quirks.md Q-TS-1). */
export const PES_DELAY = 63000;
/**
 * Audio frames held in one PES at most. A 150 ms window holds about 8 AAC frames at 48 kHz
 * (15 at 96 kHz); more means timestamps that do not advance, and the buffer would grow without
 * bound. Only such broken input is flushed early (LAL has no limit).
 */
export const MAX_AUDIO_CACHE_FRAMES = 256;

const START_CODE_3 = Uint8Array.of(0, 0, 1);
const START_CODE_4 = Uint8Array.of(0, 0, 0, 1);
/** docs/media.md §4.3 rule 3: AUD with a 4-byte start code (primary_pic_type 7 / pic_type 2). */
const AUD_H264 = Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0);
const AUD_H265 = Uint8Array.of(0, 0, 0, 1, 0x46, 0x01, 0x10);

/** FLV codec ids and sound formats, to read what LAL's probe would see in an opaque packet. */
const FLV_VIDEO_CODEC = { 7: 'h264', 12: 'h265' } as const;
const FLV_SOUND_FORMAT = { 10: 'aac', 13: 'opus' } as const;

/** A message in the probe queue: a packet, or one TrackInfo change (sequence header/metadata). */
type Queued =
  | { kind: 'packet'; pkt: AvPacket }
  | { kind: 'video-config'; video: VideoTrack }
  | { kind: 'audio-config'; asc: Uint8Array }
  | { kind: 'metadata' };

/** Why input produced no output (counted; the first of each kind is logged). */
export interface AvToMpegtsStats {
  videoFrames: number;
  audioFrames: number;
  /** Key frames before any parameter sets (§4.3 rule 4). */
  noParameterSets: number;
  /** AAC frames before a usable AudioSpecificConfig (§4.2). */
  noAudioConfig: number;
  /** Empty/short payloads, video with only AUD/SEI/parameter sets. */
  empty: number;
  /** Codecs TS does not carry (G.711, MP3, opaque enhanced-RTMP packets). */
  unsupported: number;
  /** AAC frames too long for ADTS's 13-bit frame length. */
  tooLarge: number;
  /** Frames earlier than their stream's first frame, left unshifted (§4.4). */
  beforeBase: number;
}

type StatKey = Exclude<keyof AvToMpegtsStats, 'videoFrames' | 'audioFrames'>;

/**
 * The codec LAL's probe reads from a message: the packet's codec, or for opaque packets the
 * FLV codec id / sound format of the body they came from (e.g. `17 02 00 00 00` end of
 * sequence counts as AVC). `undefined` = a codec TS does not carry.
 */
function probeCodecOf(pkt: AvPacket): Codec | undefined {
  if (pkt.codec !== 'other') return pkt.codec;
  const b = pkt.flvBody;
  if (!b || b.length === 0) return undefined;
  if (pkt.kind === 'video') {
    if (b[0] & 0x80) return undefined; // enhanced RTMP with an unknown FourCC
    return FLV_VIDEO_CODEC[(b[0] & 0x0f) as keyof typeof FLV_VIDEO_CODEC];
  }
  return FLV_SOUND_FORMAT[(b[0] >> 4) as keyof typeof FLV_SOUND_FORMAT];
}

/**
 * docs/media.md §4.3: key = FLV frame type 1. Packets cut from FLV/RTMP are judged by their tag byte
 * as LAL does (an IDR in a frame typed inter is not a TS key frame); others by `key`.
 */
function tsKeyOf(pkt: AvPacket): boolean {
  const b = pkt.flvBody;
  if (!b || b.length === 0) return pkt.key;
  const frameType = b[0] & 0x80 ? (b[0] >> 4) & 0x07 : b[0] >> 4;
  return frameType === 1;
}

export class AvToMpegts {
  readonly stats: AvToMpegtsStats = {
    videoFrames: 0, audioFrames: 0, noParameterSets: 0, noAudioConfig: 0, empty: 0, unsupported: 0, tooLarge: 0, beforeBase: 0,
  };
  private readonly log?: Logger;
  private readonly output?: TsOutput;
  /** Where packetizePes puts a frame: `output.reserve`, or a new buffer (undefined). */
  private readonly alloc?: (size: number) => Uint8Array;

  // probe (§4.1)
  private probing = true;
  private drainPending = false;
  private queue: Queued[] = [];
  private probeVideo: Codec | undefined;
  private probeAudio: Codec | undefined;
  private videoSeen = false;
  private audioSeen = false;
  private cachedPatPmt: Uint8Array | undefined;
  private tracks: TrackInfo = {};

  // codec state
  /** Remembered parameter sets as Annex-B pieces (start code, NAL, …); empty = none. */
  private paramSets: Uint8Array[] = [];
  private asc: AscInfo | undefined;

  // audio buffer (§4.2)
  private audioCache: Uint8Array[] = [];
  /** The ASC in force when each cached frame arrived (LAL writes its ADTS header then). */
  private audioCacheAsc: AscInfo[] = [];
  private audioCacheFirst = 0;

  // output state
  private videoCc = 0;
  private audioCc = 0;
  private videoBase: number | undefined;
  private audioBase: number | undefined;
  private opened = false;

  constructor(opts: AvToMpegtsOptions = {}) {
    this.log = opts.log;
    const output = opts.output;
    this.output = output;
    if (output) this.alloc = (size) => output.reserve(size);
  }

  /** PAT + PMT (376 bytes) once the probe decided; undefined before. */
  get patPmt(): Uint8Array | undefined {
    return this.cachedPatPmt;
  }

  /**
   * A new TrackInfo (sequence header or metadata change). Parameter sets and the ASC are
   * remembered, nothing is output. Each changed part counts as one queued message in the probe;
   * when that completes the probe, PAT/PMT and the queue come out with the next push()/end().
   */
  setTracks(t: TrackInfo): void {
    const prev = this.tracks;
    this.tracks = t;
    if (t.metadata && t.metadata !== prev.metadata) this.message({ kind: 'metadata' });
    if (t.video && t.video !== prev.video) this.message({ kind: 'video-config', video: t.video });
    // Only AAC has a sequence-header message; G.711/Opus tracks appear with their first packet.
    if (t.audio && t.audio !== prev.audio && t.audio.codec === 'aac' && t.audio.asc) {
      this.message({ kind: 'audio-config', asc: t.audio.asc });
    }
  }

  /** One packet in; the PAT/PMT and frames it completes out. */
  push(pkt: AvPacket): TsEvent[] {
    const out: TsEvent[] = [];
    if (this.drainPending) this.drain(out);
    if (this.probing) {
      this.enqueue({ kind: 'packet', pkt });
      if (this.drainPending) this.drain(out);
    } else if (pkt.kind === 'video') {
      this.video(pkt, out);
    } else {
      this.audio(pkt, out);
    }
    return out;
  }

  /** Emit the buffered audio PES now (the HLS muxer calls this when it opens a fragment). */
  flushAudio(): TsFrame[] {
    const frame = this.flushAudioFrame();
    return frame ? [frame] : [];
  }

  /**
   * Input ended: emit PAT/PMT and the queue if the probe never completed (LAL would drop them;
   * a short input, e.g. `lal remux` of a tiny file, still yields a playable TS), then the
   * buffered audio.
   */
  end(): TsEvent[] {
    const out: TsEvent[] = [];
    if (this.probing && this.queue.length > 0) this.drainPending = true;
    if (this.drainPending) this.drain(out);
    this.flushAudioInto(out);
    return out;
  }

  // ---- probe ------------------------------------------------------------------------------

  private message(m: Queued): void {
    if (this.probing && !this.drainPending) this.enqueue(m);
    else if (this.drainPending) this.queue.push(m); // the probe is decided; keep the order
    else this.process(m, []);
  }

  private enqueue(m: Queued): void {
    this.queue.push(m);
    if (m.kind === 'packet') {
      if (m.pkt.kind === 'video') {
        this.videoSeen = true;
        this.probeVideo = probeCodecOf(m.pkt);
      } else {
        this.audioSeen = true;
        this.probeAudio = probeCodecOf(m.pkt);
      }
    } else if (m.kind === 'video-config') {
      this.videoSeen = true;
      this.probeVideo = m.video.codec === 'other' ? undefined : m.video.codec;
    } else if (m.kind === 'audio-config') {
      this.audioSeen = true;
      this.probeAudio = 'aac';
    }
    if ((this.videoSeen && this.audioSeen) || this.queue.length >= PROBE_QUEUE_SIZE) this.drainPending = true;
  }

  private drain(out: TsEvent[]): void {
    const streams: PmtStreams = {};
    if (this.probeVideo === 'h264' || this.probeVideo === 'h265') streams.video = this.probeVideo;
    if (this.probeAudio === 'aac' || this.probeAudio === 'opus') streams.audio = this.probeAudio;
    this.cachedPatPmt = encodePatPmt(streams);
    this.probing = false;
    this.drainPending = false;
    this.log?.debug(`mpegts: PAT/PMT decided after ${this.queue.length} messages: video ${streams.video ?? 'none'}, audio ${streams.audio ?? 'none'}`);
    this.output?.patPmt(this.cachedPatPmt);
    out.push({ type: 'patpmt', bytes: this.cachedPatPmt });
    const queue = this.queue;
    this.queue = [];
    for (const m of queue) this.process(m, out);
  }

  // ---- conversion -------------------------------------------------------------------------

  private drop(key: StatKey, what: string): void {
    if (this.stats[key]++ === 0) this.log?.warn(`mpegts: ${what} (further ones are only counted in stats.${key})`);
  }

  private process(m: Queued, out: TsEvent[]): void {
    switch (m.kind) {
      case 'metadata': return;
      case 'video-config': return this.videoConfig(m.video);
      case 'audio-config': return this.audioConfig(m.asc);
      case 'packet':
        if (m.pkt.kind === 'video') return this.video(m.pkt, out);
        return this.audio(m.pkt, out);
    }
  }

  /** §4.3: parameter sets → Annex-B with 4-byte start codes, remembered. */
  private videoConfig(v: VideoTrack): void {
    if (v.codec === 'other') return; // LAL ignores non-AVC/HEVC video
    const vps = v.vps ?? [];
    if (v.sps.length === 0 || v.pps.length === 0 || (v.codec === 'h265' && vps.length === 0)) {
      // LAL's conversion fails and forgets the old sets
      this.paramSets = [];
      this.log?.warn(`mpegts: ${v.codec} sequence header without a complete parameter set`);
      return;
    }
    const sets: Uint8Array[] = [];
    for (const n of v.codec === 'h265' ? [...vps, ...v.sps, ...v.pps] : [...v.sps, ...v.pps]) sets.push(START_CODE_4, n);
    this.paramSets = sets;
  }

  /** §4.2: the ASC is remembered; ADTS needs its object type, sampling index and channels. */
  private audioConfig(ascBytes: Uint8Array): void {
    this.asc = undefined;
    try {
      const info = decodeAsc(ascBytes);
      encodeAdtsHeaderInto(info, 0, new Uint8Array(ADTS_HEADER_SIZE), 0); // can ADTS carry it?
      this.asc = info;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.log?.warn(`mpegts: AAC config unusable for ADTS: ${e.message}`);
    }
  }

  private video(pkt: AvPacket, out: TsEvent[]): void {
    const codec = pkt.codec;
    if (codec !== 'h264' && codec !== 'h265') {
      if (pkt.units.length > 0 || codec !== 'other') this.drop('unsupported', `video codec ${codec} is not carried in TS`);
      return;
    }
    const h264 = codec === 'h264';
    const parts: Uint8Array[] = [];
    let audSent = false;
    let setsSent = false;
    let vps: Uint8Array | undefined;
    let sps: Uint8Array | undefined;
    for (const nal of pkt.units) {
      if (nal.length === 0) continue;
      if (h264) {
        const t = nal[0] & 0x1f;
        if (t === NaluTypeH264.Aud) continue;
        if (t === NaluTypeH264.Sps) {
          sps = nal;
          continue;
        }
        if (t === NaluTypeH264.Pps) {
          // §4.3 rule 2: a complete in-band set replaces the remembered one
          if (sps) this.paramSets = [START_CODE_4, sps, START_CODE_4, nal];
          continue;
        }
      } else {
        const t = (nal[0] >> 1) & 0x3f;
        if (t === NaluTypeH265.SeiPrefix || t === NaluTypeH265.SeiSuffix || t === NaluTypeH265.Aud) continue;
        if (t === NaluTypeH265.Vps) {
          vps = nal;
          continue;
        }
        if (t === NaluTypeH265.Sps) {
          sps = nal;
          continue;
        }
        if (t === NaluTypeH265.Pps) {
          if (vps && sps) this.paramSets = [START_CODE_4, vps, START_CODE_4, sps, START_CODE_4, nal];
          continue;
        }
      }
      if (!audSent) {
        parts.push(h264 ? AUD_H264 : AUD_H265);
        audSent = true;
      }
      // §4.3 rule 4: parameter sets once per run of key NALs; an H.264 non-IDR slice or any
      // H.265 non-IRAP NAL ends the run (H.264 SEI and others do not).
      const t = h264 ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f;
      const keyNal = h264 ? t === NaluTypeH264.Idr : isH265Irap(t);
      if (keyNal) {
        if (!setsSent) {
          if (this.paramSets.length === 0) {
            this.drop('noParameterSets', `${codec} key frame before any parameter sets dropped`);
            return;
          }
          for (const p of this.paramSets) parts.push(p);
        }
        setsSent = true;
      } else if (!h264 || t === NaluTypeH264.Slice) {
        setsSent = false;
      }
      parts.push(START_CODE_3, nal);
    }
    if (parts.length === 0) {
      this.stats.empty++;
      return;
    }
    const dts = pkt.dts;
    if (this.audioCache.length > 0 && this.audioCacheFirst + AUDIO_FLUSH_BY_VIDEO < dts) this.flushAudioInto(out);
    out.push({ type: 'frame', frame: this.emit('video', parts, dts, pkt.pts - pkt.dts, tsKeyOf(pkt)) });
  }

  private audio(pkt: AvPacket, out: TsEvent[]): void {
    const data = pkt.units[0];
    if (pkt.codec === 'aac') {
      // LAL ignores RTMP payloads of ≤ 2 bytes: `AF 01` without a frame
      if (!data || data.length === 0) {
        this.stats.empty++;
        return;
      }
      if (!this.asc) {
        this.drop('noAudioConfig', 'AAC frame before a usable AAC sequence header dropped');
        return;
      }
      if (data.length + ADTS_HEADER_SIZE > MAX_ADTS_FRAME_LENGTH) {
        this.drop('tooLarge', `AAC frame of ${data.length} bytes does not fit an ADTS header`);
        return;
      }
      const t = pkt.dts;
      if (this.audioCache.length > 0 && this.audioCacheFirst + AUDIO_FLUSH_BY_AUDIO < t) this.flushAudioInto(out);
      if (this.audioCache.length === 0) this.audioCacheFirst = t;
      this.audioCache.push(data);
      this.audioCacheAsc.push(this.asc);
      if (this.audioCache.length >= MAX_AUDIO_CACHE_FRAMES) this.flushAudioInto(out);
      return;
    }
    if (pkt.codec === 'opus') {
      // ≤ 2 bytes of RTMP payload: the 1-byte header and at most one byte of data
      if (!data || data.length < 2) {
        this.stats.empty++;
        return;
      }
      out.push({ type: 'frame', frame: this.emit('audio', [data], pkt.dts, 0, false) });
      return;
    }
    if (pkt.units.length > 0 || pkt.codec !== 'other') this.drop('unsupported', `audio codec ${pkt.codec} is not carried in TS`);
  }

  private flushAudioInto(out: TsEvent[]): void {
    const frame = this.flushAudioFrame();
    if (frame) out.push({ type: 'frame', frame });
  }

  private flushAudioFrame(): TsFrame | undefined {
    const frames = this.audioCache;
    const ascs = this.audioCacheAsc;
    if (frames.length === 0) return undefined;
    this.audioCache = [];
    this.audioCacheAsc = [];
    // The ADTS headers and frames are written straight into the TS buffer by the packetiser:
    // nothing is allocated or viewed per frame.
    let length = 0;
    for (let i = 0; i < frames.length; i++) length += ADTS_HEADER_SIZE + frames[i].length;
    const payload: PesPayloadWriter = {
      length,
      writeInto(out, off) {
        for (let i = 0; i < frames.length; i++) {
          const f = frames[i];
          off += encodeAdtsHeaderInto(ascs[i], f.length, out, off);
          out.set(f, off);
          off += f.length;
        }
      },
    };
    return this.emit('audio', payload, this.audioCacheFirst, 0, false);
  }

  /** §4.4 rebasing, §4.5 boundary, §4.6 packetisation. `cts` in 90 kHz ticks. */
  private emit(kind: 'video' | 'audio', payload: readonly Uint8Array[] | PesPayloadWriter, rawDts: number, cts: number, key: boolean): TsFrame {
    const video = kind === 'video';
    let base = video ? this.videoBase : this.audioBase;
    if (base === undefined) {
      base = rawDts;
      if (video) this.videoBase = base;
      else this.audioBase = base;
    }
    let dts = rawDts;
    if (rawDts >= base) dts = rawDts - base;
    else this.drop('beforeBase', `${kind} timestamp ${rawDts} before the stream's first ${base} left unshifted`);
    const pts = dts + cts;

    const boundary = video
      ? key && (!this.asc || !this.opened || this.audioCache.length > 0)
      : this.paramSets.length === 0;
    if (boundary) this.opened = true;

    const { bytes, cc } = packetizePes(
      {
        pid: video ? TsPid.Video : TsPid.Audio,
        streamId: video ? PesStreamId.Video : PesStreamId.Audio,
        pts: pts + PES_DELAY,
        dts: dts + PES_DELAY,
        pcr: video && key ? (dts > PES_DELAY ? dts - PES_DELAY : 0) : undefined,
        randomAccess: video && key,
        payload,
      },
      video ? this.videoCc : this.audioCc,
      this.alloc,
    );
    if (video) {
      this.videoCc = cc;
      this.stats.videoFrames++;
    } else {
      this.audioCc = cc;
      this.stats.audioFrames++;
    }
    return { bytes, kind, dts, pts, ts: video ? dts : pts, key: video && key, boundary };
  }
}
