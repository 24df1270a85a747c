/**
 * The stream's RTP branch for RTSP players (docs/behaviour.md §4, §5.5; docs/media.md §5;
 * docs/architecture.md §1.4). Created at a player's DESCRIBE, dropped with its last player.
 *
 * - The SDP players are given: the RTSP publisher's ANNOUNCE text (pass-through), or one generated
 *   from TrackInfo for every other input; DESCRIBEs wait for it.
 * - Pass-through (RTSP publisher): every RTP packet the publisher sends enters the hub through
 *   `Stream.writeRtp` and goes unchanged (same SSRC, sequence numbers, timestamps) to the players.
 *   Video packets of one picture are gathered until the marker bit (or a new timestamp) and
 *   handed over together, so a TCP player gets one write per picture; audio goes at once.
 * - Packetising (other inputs): each AvPacket is packetised ONCE (one packetiser set per stream;
 *   the interleaved batch memoised on the FanoutPacket under `'rtp'`) and the same bytes go to
 *   every player. Players whose interleaved channel is the track's default (2 × SDP index, what
 *   ffmpeg and VLC pick) write the shared batch as is; others add their own 4-byte prefix; UDP
 *   players send the packet views.
 */
import type { Logger } from '../core/log.ts';
import type { TrackInfo } from '../core/packet.ts';
import type { ByteSink } from '../core/sink.ts';
import { errorDetail, errorText } from '../core/errors.ts';
import { h264RtpStartsAccessPoint } from '../protocol/rtp/h264.ts';
import { h265RtpStartsAccessPoint } from '../protocol/rtp/h265.ts';
import { RTP_HEADER_SIZE } from '../protocol/rtp/packet.ts';
import { INTERLEAVED_HEADER_SIZE } from '../protocol/rtsp/interleaved.ts';
import { AvToRtp, rtpOutReady } from '../remux/rtp.ts';
import { Fanout, type Consumer, type FanoutPacket } from './fanout.ts';
import { SinkOutput, type OutputOptions } from './output.ts';
import type { Attachment, Branch, BranchDef, RtpInput, RtpSource, Stream } from './stream.ts';

/**
 * Raw video packets held per track at most: a sender that never sets the marker bit still gets
 * its packets through, and the memory held stays near 300 KB per track (a 1080p key frame is
 * ~170 packets of 1200 bytes).
 */
export const MAX_BATCHED_PACKETS = 256;

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
    /** Some packet starts an access point (docs/behaviour.md §5.5); always false for audio. */
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

/** A consumer of the RTP branch (an RTSP player's output). */
export interface RtpConsumer extends Consumer {
  /** One shared delivery; a consumer that is not playing yet ignores it. */
  deliver(d: RtpDelivery): void;
}

function startsAccessPoint(codec: string, payload: Uint8Array): boolean {
  if (codec === 'h264') return h264RtpStartsAccessPoint(payload);
  if (codec === 'h265') return h265RtpStartsAccessPoint(payload);
  return false;
}

function deliverOne(c: RtpConsumer, d: RtpDelivery): void {
  c.deliver(d);
}

interface RawBatch {
  packets: Uint8Array[];
  ts: number;
  ap: boolean;
}

/** The RTP branch definition of one server. */
export function rtpBranchDef(opts: { log: Logger }): BranchDef<RtpBranch> {
  return { key: 'rtp', create: (s, drop) => new RtpBranch(s, opts.log, drop) };
}

export class RtpBranch implements Branch {
  readonly key = 'rtp';
  closed = false;
  readonly consumers: Fanout<RtpConsumer>;
  private _sdp: RtpSource | undefined;
  private readonly waiters = new Set<(sdp: RtpSource) => void>();
  /** The RTSP publisher's SDP while the input is RTSP (pass-through mode). */
  private source: RtpSource | undefined;
  /** Raw video packets of the current picture, per track (pass-through). */
  private readonly raw = new Map<number, RawBatch>();
  // packetising mode
  private out: AvToRtp | undefined;
  private tracks: TrackInfo | undefined;
  private seen = 0;
  private errors = 0;
  private lastErrorReport = 0;

  constructor(
    private readonly stream: Stream,
    private readonly log: Logger,
    drop: () => void,
  ) {
    this.consumers = new Fanout<RtpConsumer>(log, `rtp branch ${stream.name}`, drop);
    if (stream.rtpSource) this.onRtpSource(stream.rtpSource);
  }

  get sdp(): RtpSource | undefined {
    return this._sdp;
  }

  /** Whether the current input is an RTSP publisher (raw RTP pass-through). */
  get passThrough(): boolean {
    return this.source !== undefined;
  }

  /** The SDP has H.264/H.265 video (out_wait_key_frame_flag applies). */
  get hasVideo(): boolean {
    return this._sdp?.tracks.some((t) => t.codec === 'h264' || t.codec === 'h265') ?? false;
  }

  add(c: RtpConsumer): void {
    this.consumers.add(c);
  }

  remove(c: RtpConsumer): void {
    this.consumers.delete(c);
  }

  /** Call `cb` once the stream has an SDP (now, or later). Returns a cancel function. */
  whenSdp(cb: (sdp: RtpSource) => void): () => void {
    if (this._sdp) {
      cb(this._sdp);
      return () => {};
    }
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }

  private setSdp(sdp: RtpSource | undefined): void {
    this._sdp = sdp;
    if (!sdp) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) {
      try {
        w(sdp);
      } catch (e) {
        this.log.error(`rtsp ${this.stream.name}: DESCRIBE waiter failed: ${errorDetail(e)}`);
      }
    }
  }

  // ---- pass-through -------------------------------------------------------------------------

  onRtpSource(src: RtpSource | undefined): void {
    if (src) {
      this.source = src;
      this.out = undefined;
      this.tracks = undefined;
      this.seen = 0;
      this.setSdp(src);
    } else if (this.source) {
      this.flushAllRaw();
      this.source = undefined;
      this.setSdp(undefined);
    }
  }

  onRtp(input: RtpInput): void {
    if (!this.source) return;
    if (this.consumers.size === 0) {
      this.raw.clear();
      return;
    }
    const { track, packet, rtp, codec } = input;
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

  private flushAllRaw(): void {
    for (const [track, b] of [...this.raw]) this.flushRaw(track, b);
  }

  // ---- packetising --------------------------------------------------------------------------

  onTracks(t: TrackInfo): void {
    if (this.source) return;
    this.tracks = t;
    if (!this.out) this.analyse();
  }

  onJoin(tracks: TrackInfo): void {
    this.onTracks(tracks);
  }

  onPacket(fp: FanoutPacket): void {
    if (this.source) return;
    const pkt = fp.pkt;
    if (pkt.units.length === 0 || pkt.codec === 'other') return;
    if (!this.out) {
      this.seen++;
      this.analyse();
      if (!this.out) return;
    }
    const out = this.out;
    const track = out.trackOf(pkt);
    if (track < 0 || this.consumers.size === 0) return;
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
    this.dispatch(new RtpDelivery(track, packets, video, ap, interleaved));
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
    this.setSdp({ text: this.out.sdp.text, tracks: this.out.sdp.tracks });
  }

  private report(e: unknown): void {
    this.errors++;
    const now = performance.now();
    if (now - this.lastErrorReport >= ERROR_REPORT_INTERVAL_MS) {
      this.lastErrorReport = now;
      this.log.warn(`rtsp ${this.stream.name}: RTP output failed ${this.errors} time(s): ${errorText(e)}`);
    }
  }

  // ---- both ---------------------------------------------------------------------------------

  /** Hand one delivery to every player; a throwing player is closed, the rest go on. */
  dispatch(d: RtpDelivery): void {
    this.consumers.each(deliverOne, d);
  }

  /** The publisher left: its SDP is forgotten (docs/behaviour.md §3.3); players stay and wait. */
  onPublisherGone(): void {
    this.flushAllRaw();
    this.source = undefined;
    this.out = undefined;
    this.tracks = undefined;
    this.seen = 0;
    this._sdp = undefined;
  }

  tick(nowMs: number): void {
    this.consumers.tick(nowMs);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.waiters.clear();
    this.consumers.closeAll(reason);
  }
}

/**
 * An RTSP player's output (docs/behaviour.md §5.5): attached to the RTP branch at DESCRIBE,
 * playing from PLAY. `emit` writes one delivery to the player's transport (interleaved TCP,
 * WebSocket frames or UDP); over TCP the slow-player policy applies to the control connection.
 */
export class RtpOutput extends SinkOutput<RtpDelivery> implements RtpConsumer, Attachment {
  branch: RtpBranch | undefined;

  constructor(
    private readonly def: BranchDef<RtpBranch>,
    sink: ByteSink,
    limits: Pick<OutputOptions, 'softPendingBytes' | 'hardPendingBytes' | 'drainTimeoutMs'>,
    log: Logger,
    private readonly send: (d: RtpDelivery) => void,
    onClose?: (reason: string) => void,
  ) {
    super(sink, limits, log, onClose);
  }

  protected emit(d: RtpDelivery): void {
    this.send(d);
  }

  attach(s: Stream): void {
    const b = s.branch(this.def);
    this.branch = b;
    b.add(this);
  }

  detach(_s: Stream): void {
    this.branch?.remove(this);
    this.branch = undefined;
  }

  /** PLAY: deliveries start, from the next video access point when `waitKey`. */
  play(waitKey: boolean): void {
    this.join(undefined, [], !waitKey);
  }

  deliver(d: RtpDelivery): void {
    this.write(d, d.video ? d.accessPoint : !(this.branch?.hasVideo ?? false));
  }
}
