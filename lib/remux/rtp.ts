/**
 * RTP ⇄ AvPacket for RTSP (docs/media.md §5 RTMP → RTSP, §6 RTSP/RTP in; docs/architecture.md §1.3).
 *
 * In (`RtpToAv`, one per RTSP publisher or pull): the announced SDP decides the tracks
 * (`sdpTracks`); the first depacketisable video track (H.264/H.265) and the first audio track
 * (AAC with `config=`, G.711, Opus) are depacketised — per track an optional sequence re-order
 * buffer (UDP), the payload depacketiser, then, when both exist, the A/V timestamp queue
 * (§6.2). TrackInfo comes from the SDP (parameter sets → size via the SPS, ASC → rate and
 * channels) and is replaced when the stream carries a different complete set of parameter
 * sets in-band. Other tracks are not depacketised (their RTP is still forwarded raw to RTSP
 * players by the server).
 *
 * Out (`AvToRtp`, one per stream with RTMP-style input): the SDP generated from TrackInfo
 * (format/sdp generateSdp, §5.1) and one packetiser per SDP track (§5.2). `rtpOutReady` is the
 * analysis rule of §5.1 (wait for parameter sets and audio codec, or 16 packets).
 *
 * Deviation (documented): the metadata `audiosamplerate` sets the G.711 clock only; Opus
 * always uses 48000 (RFC 7587 §4.1 requires it; upstream would write any rate).
 */
import { bytesEqual } from '../core/bytes.ts';
import { ParseError } from '../core/errors.ts';
import type { AudioTrack, AvPacket, TrackInfo, VideoTrack } from '../core/packet.ts';
import { decodeAsc } from '../codec/aac/index.ts';
import { NaluTypeH264, parseH264Sps } from '../codec/h264/index.ts';
import { NaluTypeH265, parseH265Sps } from '../codec/h265/index.ts';
import { decodeAmf0All } from '../format/amf0/index.ts';
import { generateSdp, parseSdp, sdpTracks, type GeneratedSdp, type SdpTrack } from '../format/sdp/index.ts';
import { AvTimestampQueue } from '../protocol/rtp/av-queue.ts';
import { RtpDepacketizer, totalDrops } from '../protocol/rtp/depacketizer.ts';
import type { RtpPacket } from '../protocol/rtp/packet.ts';
import { RtpPacketizer, type RtpBatch, type RtpCodec } from '../protocol/rtp/packetizer.ts';
import { RtpReorderBuffer } from '../protocol/rtp/reorder.ts';
import { buildMetadata } from './flv.ts';

const VIDEO_CODECS: ReadonlySet<string> = new Set(['h264', 'h265']);
const AUDIO_CODECS: ReadonlySet<string> = new Set(['aac', 'g711a', 'g711u', 'opus']);

/** What ingest produces, in order: a new TrackInfo (before the packets that need it) or a packet. */
export type RtpIngestItem = { kind: 'tracks'; tracks: TrackInfo } | { kind: 'packet'; packet: AvPacket };

interface InTrack {
  sdp: SdpTrack;
  /** Set for the one video and the one audio track lal depacketises. */
  depack?: RtpDepacketizer;
  reorder?: RtpReorderBuffer;
}

function videoTrackOf(codec: 'h264' | 'h265', sps: Uint8Array, pps: Uint8Array, vps: Uint8Array | undefined): VideoTrack {
  let width = 0;
  let height = 0;
  let profile = '';
  let level = 0;
  try {
    const info = codec === 'h264' ? parseH264Sps(sps) : parseH265Sps(sps);
    ({ width, height, profile } = info);
    level = info.levelIdc;
  } catch (e) {
    // an SPS we cannot read still goes to the players (they may); only the stats lose the size
    if (!(e instanceof ParseError)) throw e;
  }
  const t: VideoTrack = { codec, width, height, profile, level, sps: [sps], pps: [pps] };
  if (codec === 'h265' && vps) t.vps = [vps];
  return t;
}

/** RTP packets of an announced session → AvPackets and TrackInfo for the hub. */
export class RtpToAv {
  readonly tracks: readonly SdpTrack[];
  /** Index (into `tracks`) of the depacketised video / audio track, -1 when none. */
  readonly videoIndex: number;
  readonly audioIndex: number;
  private readonly in: InTrack[];
  private current: TrackInfo = {};
  private readonly queue: AvTimestampQueue | undefined;
  /** Latest in-band parameter sets (views of packet payloads, which are frozen). */
  private inband: { sps?: Uint8Array; pps?: Uint8Array; vps?: Uint8Array } = {};

  /** Throws ParseError when the SDP is malformed or has no track lal can depacketise. */
  constructor(readonly sdpText: string) {
    this.tracks = sdpTracks(parseSdp(sdpText));
    this.in = this.tracks.map((sdp) => ({ sdp }));
    let v = -1;
    let a = -1;
    for (let i = 0; i < this.tracks.length; i++) {
      const t = this.tracks[i];
      if (v < 0 && VIDEO_CODECS.has(t.codec)) v = i;
      else if (a < 0 && AUDIO_CODECS.has(t.codec) && (t.codec !== 'aac' || t.asc)) a = i;
    }
    for (const i of [v, a]) {
      if (i < 0) continue;
      const t = this.tracks[i];
      this.in[i].depack = new RtpDepacketizer({ codec: t.codec as RtpCodec, clockRate: t.clockRate, payloadType: t.payloadType, fmtp: t.fmtp });
    }
    this.videoIndex = v;
    this.audioIndex = a;
    if (v < 0 && a < 0) {
      throw new ParseError(`remux-rtp: SDP has no H.264/H.265 video or AAC (with config)/G.711/Opus audio track (codecs: ${this.tracks.map((t) => t.encoding || t.codec).join(', ') || 'none'})`, 'no-tracks');
    }
    if (v >= 0 && a >= 0) this.queue = new AvTimestampQueue();
    this.current = this.initialTracks();
  }

  /** The TrackInfo derived so far (a new object after every change). */
  get trackInfo(): TrackInfo {
    return this.current;
  }

  /** Whether `index` is a track lal depacketises. */
  isDepacketised(index: number): boolean {
    return this.in[index]?.depack !== undefined;
  }

  /** Re-order packets of this track by sequence number (RTP over UDP). */
  setReorder(index: number, on: boolean): void {
    const t = this.in[index];
    if (!t) return;
    t.reorder = on ? (t.reorder ?? new RtpReorderBuffer()) : undefined;
  }

  /** Packets dropped so far (depacketisers and re-order buffers), for periodic logs. */
  get dropCount(): number {
    let n = 0;
    for (const t of this.in) {
      if (t.depack) n += totalDrops(t.depack.drops);
      if (t.reorder) n += t.reorder.stats.lost + t.reorder.stats.late;
    }
    return n;
  }

  /** One RTP packet of track `index` (callers have checked nothing: wrong PT is dropped here). */
  push(index: number, pkt: RtpPacket): RtpIngestItem[] {
    const t = this.in[index];
    const out: RtpIngestItem[] = [];
    if (!t?.depack) return out;
    const ordered = t.reorder ? t.reorder.push(pkt) : [pkt];
    for (const p of ordered) for (const av of t.depack.push(p)) this.emit(av, out);
    return out;
  }

  /** End of stream: everything still buffered. */
  flush(): RtpIngestItem[] {
    const out: RtpIngestItem[] = [];
    for (const t of this.in) {
      if (!t.depack) continue;
      if (t.reorder) for (const p of t.reorder.flush()) for (const av of t.depack.push(p)) this.emit(av, out);
      for (const av of t.depack.flush()) this.emit(av, out);
    }
    if (this.queue) for (const p of this.queue.flush()) out.push({ kind: 'packet', packet: p });
    return out;
  }

  private emit(av: AvPacket, out: RtpIngestItem[]): void {
    if (av.kind === 'video' && this.noteParameterSets(av)) out.push({ kind: 'tracks', tracks: this.current });
    if (!this.queue) {
      out.push({ kind: 'packet', packet: av });
      return;
    }
    for (const p of this.queue.push(av)) out.push({ kind: 'packet', packet: p });
  }

  private initialTracks(): TrackInfo {
    const info: TrackInfo = {};
    if (this.videoIndex >= 0) {
      const t = this.tracks[this.videoIndex];
      const codec = t.codec as 'h264' | 'h265';
      const sps = t.sps?.[0];
      const pps = t.pps?.[0];
      const vps = t.vps?.[0];
      if (sps && pps && (codec === 'h264' || vps)) info.video = videoTrackOf(codec, sps, pps, vps);
    }
    if (this.audioIndex >= 0) {
      const audio = audioTrackOf(this.tracks[this.audioIndex]);
      if (audio) info.audio = audio;
    }
    info.metadata = buildMetadata(info);
    return info;
  }

  /**
   * Remember in-band SPS/PPS(/VPS); when a complete set differs from the current one, the
   * video TrackInfo is replaced (docs/media.md §6.3 step 2). Returns true on a change.
   */
  private noteParameterSets(av: AvPacket): boolean {
    const h265 = av.codec === 'h265';
    let seen = false;
    for (const u of av.units) {
      if (u.length === 0) continue;
      const type = h265 ? (u[0] >> 1) & 0x3f : u[0] & 0x1f;
      if (h265 ? type === NaluTypeH265.Sps : type === NaluTypeH264.Sps) (this.inband.sps = u), (seen = true);
      else if (h265 ? type === NaluTypeH265.Pps : type === NaluTypeH264.Pps) (this.inband.pps = u), (seen = true);
      else if (h265 && type === NaluTypeH265.Vps) (this.inband.vps = u), (seen = true);
    }
    if (!seen) return false;
    const { sps, pps, vps } = this.inband;
    if (!sps || !pps || (h265 && !vps)) return false;
    const cur = this.current.video;
    if (
      cur &&
      cur.codec === av.codec &&
      bytesEqual(cur.sps[0], sps) &&
      bytesEqual(cur.pps[0], pps) &&
      (!h265 || (cur.vps?.[0] !== undefined && bytesEqual(cur.vps[0], vps!)))
    ) {
      return false;
    }
    const next: TrackInfo = { ...this.current, video: videoTrackOf(av.codec as 'h264' | 'h265', sps, pps, vps) };
    next.metadata = buildMetadata(next);
    this.current = next;
    return true;
  }
}

function audioTrackOf(t: SdpTrack): AudioTrack | undefined {
  switch (t.codec) {
    case 'aac': {
      if (!t.asc) return undefined;
      try {
        const info = decodeAsc(t.asc);
        return { codec: 'aac', sampleRate: info.sampleRate, channels: info.channels, asc: t.asc };
      } catch (e) {
        if (e instanceof ParseError) return undefined;
        throw e;
      }
    }
    case 'g711a':
    case 'g711u':
      return { codec: t.codec, sampleRate: t.clockRate, channels: t.channels };
    case 'opus':
      return { codec: 'opus', sampleRate: t.clockRate, channels: t.channels };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// AvPacket → RTP

/** docs/media.md §5.1: SDP generation waits at most this many media packets for missing headers. */
export const RTP_OUT_ANALYSIS_PACKETS = 16;

/** FLV sound formats the metadata's `audiocodecid` may announce (docs/media.md §5.1). */
const META_AUDIO_CODECS: Readonly<Record<number, 'g711a' | 'g711u' | 'opus'>> = { 7: 'g711a', 8: 'g711u', 13: 'opus' };

/** `audiocodecid`, `audiosamplerate`, `videocodecid` of an `onMetaData` body (undefined when absent). */
export function metadataCodecs(metadata: Uint8Array | undefined): { audioCodecId?: number; audioSampleRate?: number; videoCodecId?: number } {
  if (!metadata) return {};
  let values: unknown[];
  try {
    values = decodeAmf0All(metadata);
  } catch (e) {
    if (e instanceof ParseError) return {};
    throw e;
  }
  const obj = values.find((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) as Record<string, unknown> | undefined;
  if (!obj) return {};
  const num = (k: string) => (typeof obj[k] === 'number' && Number.isFinite(obj[k]) ? (obj[k] as number) : undefined);
  return { audioCodecId: num('audiocodecid'), audioSampleRate: num('audiosamplerate'), videoCodecId: num('videocodecid') };
}

/**
 * The tracks to describe: `tracks`, plus a G.711/Opus audio track announced only by the
 * metadata (`audiocodecid` 7/8/13) before its first frame.
 */
export function rtpOutTracks(tracks: TrackInfo): TrackInfo {
  if (tracks.audio) return tracks;
  const meta = metadataCodecs(tracks.metadata);
  const codec = meta.audioCodecId !== undefined ? META_AUDIO_CODECS[meta.audioCodecId] : undefined;
  if (!codec) return tracks;
  return { ...tracks, audio: { codec, sampleRate: codec === 'opus' ? 48000 : (meta.audioSampleRate ?? 8000), channels: codec === 'opus' ? 2 : 1 } };
}

function videoDescribable(v: VideoTrack | undefined): boolean {
  if (!v) return false;
  if (v.codec === 'h264') return v.sps.length > 0 && v.pps.length > 0;
  if (v.codec === 'h265') return v.sps.length > 0 && v.pps.length > 0 && (v.vps?.length ?? 0) > 0;
  return false;
}

function audioDescribable(a: AudioTrack | undefined): boolean {
  if (!a) return false;
  if (a.codec === 'aac') return (a.asc?.length ?? 0) > 0;
  return a.codec === 'g711a' || a.codec === 'g711u' || a.codec === 'opus';
}

/**
 * docs/media.md §5.1 analysis: the SDP may be generated once video parameter sets and the audio
 * codec are known, or after RTP_OUT_ANALYSIS_PACKETS media packets (whatever is known then).
 */
export function rtpOutReady(tracks: TrackInfo, mediaPackets: number): boolean {
  const t = rtpOutTracks(tracks);
  if (videoDescribable(t.video) && audioDescribable(t.audio)) return true;
  return mediaPackets >= RTP_OUT_ANALYSIS_PACKETS && (videoDescribable(t.video) || audioDescribable(t.audio));
}

/** One stream's RTP output: the generated SDP and a packetiser per described track. */
export class AvToRtp {
  readonly sdp: GeneratedSdp;
  /** SDP track index of the video / audio block, -1 when not described. */
  readonly videoTrack: number;
  readonly audioTrack: number;
  private readonly packetizers: RtpPacketizer[];

  /** Throws ParseError when nothing in `tracks` can be described (see generateSdp). */
  constructor(tracks: TrackInfo, opts: { mtu?: number } = {}) {
    const t = rtpOutTracks(tracks);
    const rate = t.audio && (t.audio.codec === 'g711a' || t.audio.codec === 'g711u') ? t.audio.sampleRate : undefined;
    this.sdp = generateSdp(t, { audioSampleRate: rate });
    this.packetizers = this.sdp.tracks.map(
      (s) => new RtpPacketizer({ codec: s.codec as RtpCodec, payloadType: s.payloadType, clockRate: s.clockRate, mtu: opts.mtu }),
    );
    this.videoTrack = this.sdp.tracks.findIndex((s) => s.kind === 'video');
    this.audioTrack = this.sdp.tracks.findIndex((s) => s.kind === 'audio');
  }

  /** The SDP track a packet belongs to, -1 when none (other codec, or not described). */
  trackOf(pkt: AvPacket): number {
    const i = pkt.kind === 'video' ? this.videoTrack : this.audioTrack;
    if (i < 0 || this.packetizers[i].codec !== pkt.codec) return -1;
    return i;
  }

  /** SSRC of a track's packets (RTP-Info, tests). */
  ssrcOf(track: number): number {
    return this.packetizers[track].ssrc;
  }

  /**
   * The RTP packets of one AvPacket, framed for interleaved `channel`; undefined when the
   * packet belongs to no described track or yields no RTP packet (e.g. only AUDs).
   */
  packetize(pkt: AvPacket, channel: number): { track: number; batch: RtpBatch } | undefined {
    const track = this.trackOf(pkt);
    if (track < 0) return undefined;
    const batch = this.packetizers[track].packetizeBatch(pkt, channel);
    if (batch.packets.length === 0) return undefined;
    return { track, batch };
  }
}
