/**
 * The stream-level RTP branch for RTSP players (behaviour.md §4, §5.5; media.md §5;
 * design.md §1.4), kept beside the Stream by composition (one RtspStreamState per Stream):
 *
 * - the stream's SDP: the RTSP publisher's ANNOUNCE text, or the one generated from TrackInfo
 *   for RTMP-style inputs; DESCRIBEs wait for it;
 * - RTSP inputs: every RTP packet whose payload type matches the SDP goes unchanged (same SSRC,
 *   sequence numbers, timestamps) to the playing RTSP players;
 * - RTMP-style inputs: a hidden Subscriber (`RtpBranch`) packetises each AvPacket ONCE (one
 *   packetiser set per stream; the interleaved batch memoised on the FanoutPacket under `'rtp'`)
 *   and hands the same bytes to every player. Players whose interleaved channel is the track's
 *   default (2 × SDP index, what ffmpeg and VLC pick) write the shared batch as is; others add
 *   their own 4-byte prefix, UDP players send the packet views.
 * The branch is attached only while some RTSP player is interested (DESCRIBE until close), so a
 * stream without RTSP players pays nothing.
 */
import type { Logger } from '../core/log.ts';
import type { TrackInfo } from '../core/packet.ts';
import { errorText } from '../core/errors.ts';
import type { SdpTrack } from '../format/sdp/types.ts';
import { h264RtpStartsAccessPoint } from '../protocol/rtp/h264.ts';
import { h265RtpStartsAccessPoint } from '../protocol/rtp/h265.ts';
import { RTP_HEADER_SIZE, type RtpPacket } from '../protocol/rtp/packet.ts';
import { INTERLEAVED_HEADER_SIZE } from '../protocol/rtsp/interleaved.ts';
import { AvToRtp, rtpOutReady } from '../remux/rtp.ts';
import type { FanoutPacket, StreamHeaders } from './fanout.ts';
import type { GopCache } from './gop-cache.ts';
import { SessionStat, type SessionIdGen } from './stat.ts';
import type { Stream } from './stream.ts';
import type { Subscriber } from './subscriber.ts';

/** The SDP players are given and its RTP tracks (`sdpTracks` order = track indexes). */
export interface RtspSdp {
  text: string;
  tracks: readonly SdpTrack[];
}

/**
 * Raw video packets held per track at most: a sender that never sets the marker bit still gets
 * its packets through, and the memory held stays near 300 KB per track (a 1080p key frame is
 * ~170 packets of 1200 bytes).
 */
export const MAX_BATCHED_PACKETS = 256;

interface RawBatch {
  packets: Uint8Array[];
  ts: number;
  ap: boolean;
}

/** Packetising failures are reported at most this often per stream. */
const ERROR_REPORT_INTERVAL_MS = 10_000;

/** The interleaved channel a track's shared batch is framed for. */
export function defaultChannel(track: number): number {
  return (track * 2) & 0xff;
}

/** Split `$ ch len | packet | …` into packet views (no copy). */
export function interleavedPackets(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off + INTERLEAVED_HEADER_SIZE <= buf.length) {
    const len = (buf[off + 2] << 8) | buf[off + 3];
    const start = off + INTERLEAVED_HEADER_SIZE;
    if (start + len > buf.length) break;
    out.push(buf.subarray(start, start + len));
    off = start + len;
  }
  return out;
}

/** RTP packets of one track, shared by every player. */
export class RtpDelivery {
  readonly bytes: number;
  private framedBuf: Uint8Array | undefined;

  constructor(
    /** SDP track index. */
    readonly track: number,
    /** RTP packets (views; never written to). */
    readonly packets: readonly Uint8Array[],
    readonly video: boolean,
    /** Some packet starts an access point (behaviour.md §5.5); always false for audio. */
    readonly accessPoint: boolean,
    framed?: Uint8Array,
  ) {
    let n = 0;
    for (const p of packets) n += p.length;
    this.bytes = n;
    this.framedBuf = framed;
  }

  get channel(): number {
    return defaultChannel(this.track);
  }

  /** All packets behind interleaved prefixes for `channel` (built once, then shared). */
  framed(): Uint8Array {
    if (this.framedBuf) return this.framedBuf;
    const out = new Uint8Array(this.bytes + INTERLEAVED_HEADER_SIZE * this.packets.length);
    let off = 0;
    for (const p of this.packets) {
      out[off] = 0x24;
      out[off + 1] = this.channel;
      out[off + 2] = p.length >> 8;
      out[off + 3] = p.length & 0xff;
      out.set(p, off + INTERLEAVED_HEADER_SIZE);
      off += INTERLEAVED_HEADER_SIZE + p.length;
    }
    this.framedBuf = out;
    return out;
  }
}

/** A playing RTSP player (the session implements it). */
export interface RtspPlayer {
  readonly closed: boolean;
  /** Send (or skip) one delivery; must not throw for its own socket problems. */
  deliver(d: RtpDelivery): void;
  /** A delivery threw: close this player only. */
  close(reason: string): void;
}

function startsAccessPoint(codec: string, payload: Uint8Array): boolean {
  if (codec === 'h264') return h264RtpStartsAccessPoint(payload);
  if (codec === 'h265') return h265RtpStartsAccessPoint(payload);
  return false;
}

/** RTSP view of one Stream. */
export class RtspStreamState {
  private _sdp: RtspSdp | undefined;
  private readonly waiters = new Set<(sdp: RtspSdp) => void>();
  private readonly players = new Set<RtspPlayer>();
  private iterating = false;
  private toRemove: RtspPlayer[] = [];
  private source: object | undefined;
  private branch: RtpBranch | undefined;
  private interest = 0;
  /** Raw video packets of the current picture, per track (RTSP inputs). */
  private readonly raw = new Map<number, RawBatch>();

  constructor(
    readonly stream: Stream,
    private readonly ids: SessionIdGen,
    private readonly log: Logger,
  ) {}

  get sdp(): RtspSdp | undefined {
    return this._sdp;
  }

  /** Whether the current input is an RTSP publisher (raw RTP forwarding). */
  get hasRtspSource(): boolean {
    return this.source !== undefined;
  }

  /** Players currently receiving RTP. */
  get playerCount(): number {
    return this.players.size;
  }

  /** The SDP has H.264/H.265 video (out_wait_key_frame_flag applies). */
  get hasVideo(): boolean {
    return this._sdp?.tracks.some((t) => t.codec === 'h264' || t.codec === 'h265') ?? false;
  }

  // ---- input side ---------------------------------------------------------------------------

  /** An RTSP publisher announced `sdp` for this stream. */
  setSource(owner: object, sdp: RtspSdp): void {
    this.source = owner;
    this.branch?.reset();
    this.setSdp(sdp);
  }

  /** The RTSP publisher left: its SDP is forgotten (behaviour.md §3.3). */
  clearSource(owner: object): void {
    if (this.source !== owner) return;
    for (const [track, b] of [...this.raw]) this.flushRaw(track, b);
    this.source = undefined;
    this._sdp = undefined;
  }

  /**
   * One RTP packet from the RTSP publisher, forwarded unchanged (`rtp` is its decoded view,
   * `codec` the SDP codec of the track). Video packets of one picture are gathered until the
   * marker bit (or a new timestamp) and handed over together, so a TCP player gets one write per
   * picture instead of one per packet; audio goes at once.
   */
  forward(owner: object, track: number, packet: Uint8Array, rtp: RtpPacket, codec: string): void {
    if (this.source !== owner) return;
    if (this.players.size === 0) {
      this.raw.clear();
      return;
    }
    const video = codec === 'h264' || codec === 'h265';
    if (!video) {
      this.dispatch(new RtpDelivery(track, [packet], false, false));
      return;
    }
    const ts = rtp.header.timestamp;
    let b = this.raw.get(track);
    if (b && b.ts !== ts) {
      this.flushRaw(track, b);
      b = undefined;
    }
    if (!b) {
      b = { packets: [], ts, ap: false };
      this.raw.set(track, b);
    }
    b.packets.push(packet);
    if (!b.ap && startsAccessPoint(codec, rtp.payload)) b.ap = true;
    if (rtp.header.marker || b.packets.length >= MAX_BATCHED_PACKETS) this.flushRaw(track, b);
  }

  private flushRaw(track: number, b: RawBatch): void {
    this.raw.delete(track);
    this.dispatch(new RtpDelivery(track, b.packets, true, b.ap));
  }

  /** Generated SDP for RTMP-style inputs (by the branch). */
  setGeneratedSdp(sdp: RtspSdp | undefined): void {
    if (this.source) return;
    if (sdp) this.setSdp(sdp);
    else this._sdp = undefined;
  }

  private setSdp(sdp: RtspSdp): void {
    this._sdp = sdp;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) {
      try {
        w(sdp);
      } catch (e) {
        this.log.error(`rtsp ${this.stream.name}: DESCRIBE waiter failed: ${errorText(e)}`);
      }
    }
  }

  // ---- player side --------------------------------------------------------------------------

  /** A player DESCRIBEd: keep the branch attached until `leave`. */
  join(): void {
    this.interest++;
    if (!this.branch) {
      this.branch = new RtpBranch(this, new SessionStat(this.ids.next('RTMP2RTSP'), 'RTSP', 'SUB', ''), this.log);
      this.stream.addSubscriber(this.branch);
    }
  }

  leave(): void {
    if (this.interest > 0) this.interest--;
    if (this.interest === 0 && this.branch) {
      const b = this.branch;
      this.branch = undefined;
      b.close('no rtsp player');
      this.stream.removeSubscriber(b);
    }
  }

  /** Call `cb` once the stream has an SDP (now, or later). Returns a cancel function. */
  whenSdp(cb: (sdp: RtspSdp) => void): () => void {
    if (this._sdp) {
      cb(this._sdp);
      return () => {};
    }
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  addPlayer(p: RtspPlayer): void {
    this.players.add(p);
  }

  removePlayer(p: RtspPlayer): void {
    if (this.iterating) this.toRemove.push(p);
    else this.players.delete(p);
  }

  /** Hand one delivery to every playing player; a throwing player is closed, the rest go on. */
  dispatch(d: RtpDelivery): void {
    this.iterating = true;
    try {
      for (const p of this.players) {
        if (p.closed) continue;
        try {
          p.deliver(d);
        } catch (e) {
          this.log.error(`rtsp ${this.stream.name}: player failed, closing it: ${errorText(e)}`);
          try {
            p.close(`error: ${errorText(e)}`);
          } catch {
            /* keep going */
          }
        }
      }
    } finally {
      this.iterating = false;
    }
    if (this.toRemove.length) {
      for (const p of this.toRemove) this.players.delete(p);
      this.toRemove = [];
    }
  }
}

/**
 * The RTMP → RTSP remuxer of one stream (media.md §5): a hidden subscriber that waits for the
 * §5.1 analysis, generates the SDP, then packetises every AvPacket once.
 */
class RtpBranch implements Subscriber {
  readonly hidden = true;
  closed = false;
  private out: AvToRtp | undefined;
  private tracks: TrackInfo | undefined;
  private seen = 0;
  private errors = 0;
  private lastErrorReport = 0;

  constructor(
    private readonly state: RtspStreamState,
    readonly stat: SessionStat,
    private readonly log: Logger,
  ) {}

  /** Forget the generated SDP and packetisers (input changed). */
  reset(): void {
    this.out = undefined;
    this.tracks = undefined;
    this.seen = 0;
  }

  onHeaders(h: StreamHeaders, _gop: GopCache): void {
    if (this.closed || this.state.hasRtspSource) return;
    this.tracks = h.tracks;
    if (!this.out) this.analyse();
  }

  onPacket(fp: FanoutPacket): void {
    if (this.closed || this.state.hasRtspSource) return;
    const pkt = fp.pkt;
    if (pkt.units.length === 0 || pkt.codec === 'other') return;
    if (!this.out) {
      this.seen++;
      this.analyse();
      if (!this.out) return;
    }
    const out = this.out;
    const track = out.trackOf(pkt);
    if (track < 0 || this.state.playerCount === 0) return;
    let packets: Uint8Array[] | undefined;
    let interleaved: Uint8Array;
    try {
      interleaved = fp.encodeOnce('rtp', () => {
        const r = out.packetize(pkt, defaultChannel(track));
        packets = r?.batch.packets;
        return r?.batch.interleaved ?? new Uint8Array(0);
      });
    } catch (e) {
      this.report(e);
      return;
    }
    packets ??= interleavedPackets(interleaved);
    if (packets.length === 0) return;
    const video = pkt.kind === 'video';
    let ap = false;
    if (video) {
      for (const p of packets) {
        if (startsAccessPoint(pkt.codec, p.subarray(RTP_HEADER_SIZE))) {
          ap = true;
          break;
        }
      }
    }
    this.state.dispatch(new RtpDelivery(track, packets, video, ap, interleaved));
  }

  onPublisherGone(): void {
    this.reset();
    this.state.setGeneratedSdp(undefined);
  }

  private analyse(): void {
    const t = this.tracks;
    if (!t || !rtpOutReady(t, this.seen)) return;
    try {
      this.out = new AvToRtp(t);
    } catch (e) {
      this.report(e);
      return;
    }
    this.state.setGeneratedSdp({ text: this.out.sdp.text, tracks: this.out.sdp.tracks });
  }

  private report(e: unknown): void {
    this.errors++;
    const now = performance.now();
    if (now - this.lastErrorReport >= ERROR_REPORT_INTERVAL_MS) {
      this.lastErrorReport = now;
      this.log.warn(`rtsp ${this.state.stream.name}: RTP output failed ${this.errors} time(s): ${errorText(e)}`);
    }
  }

  tick(): void {}

  close(_reason?: string): void {
    this.closed = true;
  }
}

/** RtspStreamState per Stream, for one server instance. */
export class RtspStreams {
  private readonly map = new WeakMap<Stream, RtspStreamState>();

  constructor(
    private readonly ids: SessionIdGen,
    private readonly log: Logger,
  ) {}

  of(stream: Stream): RtspStreamState {
    let s = this.map.get(stream);
    if (!s) {
      s = new RtspStreamState(stream, this.ids, this.log);
      this.map.set(stream, s);
    }
    return s;
  }
}
