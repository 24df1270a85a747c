/**
 * Stream (LAL's Group, slimmed; docs/architecture.md §1.4): one publisher, the current headers,
 * the GOP cache, the *presence* of every session attached to it and its output *branches*.
 *
 * Following one packet from the publisher to every output:
 *
 *   publisher session ── Stream.write(pkt) ── FanoutPacket (one per packet) ──┬─ GopCache
 *                                                                             │
 *     branches: Fanout<Branch> ─────────────────────────────────────────────┤
 *       ├─ TsBranch (lib/server/ts-branch.ts): one MPEG-TS muxer per publish session
 *       │    └─ Fanout<TsConsumer>: HLS muxer, HTTP-TS/WS-TS players, TS recorder
 *       └─ RtpBranch (lib/server/rtp-branch.ts): RTP packetisation (or the RTSP publisher's own
 *            RTP, which enters through Stream.writeRtp) └─ Fanout<RtpConsumer>: RTSP players
 *     outputs: Fanout<PacketConsumer> ───────────────────────────────────────┘
 *       RTMP, HTTP-FLV and WS-FLV players and the FLV recorder: each writes the bytes memoised
 *       on the FanoutPacket for its format (lib/server/framers.ts), built once for all of them.
 *
 * Presence is separate from media: every session attached to the stream (a player of any format,
 * a tracked HLS session) is one entry of `presence` — that is what /api/stat lists, what a kick
 * finds and what keeps an idle stream alive. `join(presence, attachment)` and `leave(presence)`
 * attach and detach the session's media consumer in the same step, wherever it lives.
 * Branches are created on first use (`branch(def)`) and dropped with their last consumer.
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { Logger } from '../core/log.ts';
import { errorDetail } from '../core/errors.ts';
import { bytesEqual } from '../core/bytes.ts';
import type { SdpTrack } from '../format/sdp/types.ts';
import type { RtpPacket } from '../protocol/rtp/packet.ts';
import { Fanout, FanoutPacket, StreamHeaders, type Consumer } from './fanout.ts';
import { GopCache } from './gop-cache.ts';
import { PeriodRecord, type SessionStat } from './stat.ts';
import type { PacketConsumer } from './output.ts';

/** Server-level reactions to an input starting/stopping (HLS muxer, recorders, notify). */
export interface StreamHooks {
  onPublishStart?(s: Stream): void;
  onPublishStop?(s: Stream): void;
}

export interface Publisher {
  readonly stat: SessionStat;
  /** Close the publishing session (kick, shutdown, refused). */
  kick(reason: string): void;
}

/** A session attached to a stream: listed in stats, kickable, keeps the stream alive. */
export interface Presence {
  readonly stat: SessionStat;
  readonly closed: boolean;
  close(reason: string): void;
}

/** Where a session's media consumer lives: the stream's outputs, or a branch. */
export interface Attachment {
  attach(s: Stream): void;
  detach(s: Stream): void;
}

/** The SDP of an RTSP publisher, whose RTP players get unchanged (`sdpTracks` order = track indexes). */
export interface RtpSource {
  readonly text: string;
  readonly tracks: readonly SdpTrack[];
}

/** One RTP packet of an RTSP publisher, for the pass-through RTP branch. */
export interface RtpInput {
  /** SDP track index. */
  track: number;
  /** The packet as received (a view; never written to). */
  packet: Uint8Array;
  rtp: RtpPacket;
  /** The SDP codec of the track. */
  codec: string;
}

/**
 * A stateful encoder owned by the stream with consumers of its own (docs/architecture.md §1.4).
 * Branches see every TrackInfo change and every packet, in order.
 */
export interface Branch extends Consumer {
  readonly key: string;
  /** A TrackInfo change of the current publisher, as it happens. */
  onTracks(t: TrackInfo): void;
  onPacket(fp: FanoutPacket): void;
  /** The branch was created while the stream is live: catch up from `tracks` and the GOP cache. */
  onJoin(tracks: TrackInfo, gop: GopCache<FanoutPacket>): void;
  /** The publisher left: flush and end this publish session's output; consumers stay. */
  onPublisherGone(): void;
  /** The publisher's native RTP (RTSP publishers only). */
  onRtp?(input: RtpInput): void;
  /** An RTSP publisher described its stream (or undefined: the input is not RTSP any more). */
  onRtpSource?(src: RtpSource | undefined): void;
}

/** How to create one kind of branch (one def per server, holding its configuration). */
export interface BranchDef<B extends Branch> {
  readonly key: string;
  create(s: Stream, drop: () => void): B;
}

const same = (a?: Uint8Array, b?: Uint8Array) => (a === b ? true : !!a && !!b && bytesEqual(a, b));

function toPacket(c: PacketConsumer | Branch, fp: FanoutPacket): void {
  c.onPacket(fp);
}
function toTracks(b: Branch, t: TrackInfo): void {
  b.onTracks(t);
}
function toRtp(b: Branch, input: RtpInput): void {
  b.onRtp?.(input);
}
function toRtpSource(b: Branch, src: RtpSource | undefined): void {
  b.onRtpSource?.(src);
}
function branchGone(b: Branch): void {
  b.onPublisherGone();
}
function outputGone(c: PacketConsumer): void {
  c.onPublisherGone?.();
}

export class Stream {
  publisher: Publisher | undefined;
  headers: StreamHeaders | undefined;
  /** The current RTSP publisher's SDP (RTP pass-through), if the input is RTSP. */
  rtpSource: RtpSource | undefined;
  /** True once the current publisher sent its first media packet: players join from then on. */
  private ready = false;
  readonly gop: GopCache<FanoutPacket>;
  readonly fps = new PeriodRecord();
  // Stats kept from the first publisher for the life of the stream (docs/http-api.md §3.2).
  audioCodec = '';
  videoCodec = '';
  videoWidth = 0;
  videoHeight = 0;
  private readonly presence = new Map<Presence, Attachment | undefined>();
  /** Stream-level consumers of the stateless formats (players, FLV recorder). */
  readonly outputs: Fanout<PacketConsumer>;
  readonly branches: Fanout<Branch>;
  private readonly branchByKey = new Map<string, Branch>();
  private lastGopDropped = 0;

  constructor(
    readonly name: string,
    public appName: string,
    gopNum: number,
    private readonly log: Logger,
    private readonly onEmpty: (s: Stream) => void,
    private readonly hooks: StreamHooks = {},
  ) {
    this.gop = new GopCache<FanoutPacket>(gopNum, (fp) => fp.byteLength);
    this.outputs = new Fanout<PacketConsumer>(log, `stream ${name}`);
    this.branches = new Fanout<Branch>(log, `stream ${name}`);
  }

  get isEmpty(): boolean {
    return !this.publisher && this.presence.size === 0;
  }

  /** The sessions attached to the stream (players of every format, tracked HLS sessions). */
  sessions(): Presence[] {
    const out: Presence[] = [];
    for (const p of this.presence.keys()) if (!p.closed) out.push(p);
    return out;
  }

  // ---- publisher side -------------------------------------------------------------------------

  setPublisher(p: Publisher): void {
    this.publisher = p;
    this.ready = false;
    this.headers = undefined;
    this.gop.clear();
    this.safe('publish-start hook', () => this.hooks.onPublishStart?.(this));
  }

  /** The publisher left: branches end their output, caches are forgotten, players stay (docs/behaviour.md §3.3). */
  removePublisher(p: Publisher): void {
    if (this.publisher !== p) return;
    // Branches first, while their consumers (HLS, recorders) are still attached: the TS branch
    // flushes its pending audio and closes the HLS fragment with ENDLIST.
    this.branches.each(branchGone, undefined);
    this.outputs.each(outputGone, undefined);
    this.publisher = undefined;
    this.safe('publish-stop hook', () => this.hooks.onPublishStop?.(this));
    this.headers = undefined;
    this.ready = false;
    this.gop.clear();
    if (this.rtpSource) this.setRtpSource(undefined);
    this.checkEmpty();
  }

  setTracks(tracks: TrackInfo): void {
    const prev = this.headers?.tracks;
    const changed = {
      metadata: !same(prev?.metadata, tracks.metadata),
      video: prev?.video !== tracks.video,
      audio: prev?.audio !== tracks.audio,
    };
    this.headers = new StreamHeaders(tracks, changed);
    this.noteCodecs(tracks);
    this.branches.each(toTracks, tracks);
    if (!this.ready) return; // joiners get everything at the first media packet
    this.outputs.each(joinOrUpdate, { h: this.headers, gop: this.gop, fromStart: false });
  }

  write(pkt: AvPacket): void {
    if (pkt.kind === 'video') this.fps.add(Math.floor(Date.now() / 1000));
    const fp = new FanoutPacket(pkt);
    this.gop.feed(fp, fp.isVideoKey);
    this.branches.each(toPacket, fp);
    if (!this.ready) {
      this.ready = true;
      if (!this.headers) this.headers = new StreamHeaders({}, { metadata: false, video: false, audio: false });
      // Joiners replay the cache, which may already hold this packet; they skip it in onPacket.
      this.outputs.each(joinOrUpdate, { h: this.headers, gop: this.gop, fromStart: true });
    }
    this.outputs.each(toPacket, fp);
  }

  /** One RTP packet of the RTSP publisher, for the RTP branch's pass-through (docs/behaviour.md §5.5). */
  writeRtp(input: RtpInput): void {
    this.branches.each(toRtp, input);
  }

  /** The RTSP publisher's SDP (at ANNOUNCE), or undefined when the input is not RTSP. */
  setRtpSource(src: RtpSource | undefined): void {
    this.rtpSource = src;
    this.branches.each(toRtpSource, src);
  }

  /** Count a video message that carried no packet (sequence headers), as LAL's fps does. */
  countVideoMessage(): void {
    this.fps.add(Math.floor(Date.now() / 1000));
  }

  private noteCodecs(t: TrackInfo): void {
    if (!this.videoCodec && t.video && t.video.codec !== 'other') {
      this.videoCodec = t.video.codec === 'h264' ? 'H264' : 'H265';
      this.videoWidth = t.video.width;
      this.videoHeight = t.video.height;
    }
    if (!this.audioCodec && t.audio) {
      const map: Record<string, string> = { aac: 'AAC', g711a: 'PCMA', g711u: 'PCMU', opus: 'OPUS' };
      this.audioCodec = map[t.audio.codec] ?? '';
    }
  }

  // ---- outputs and branches -------------------------------------------------------------------

  /** Attach a stream-level consumer (a player's PacketOutput, the FLV recorder). */
  addOutput(c: PacketConsumer): void {
    this.outputs.add(c);
    if (this.ready && this.headers) c.onHeaders(this.headers, this.gop, false);
  }

  removeOutput(c: PacketConsumer): void {
    this.outputs.delete(c);
  }

  /** The branch of `def`'s kind, created on first use; it is dropped with its last consumer. */
  branch<B extends Branch>(def: BranchDef<B>): B {
    const have = this.branchByKey.get(def.key);
    if (have && !have.closed) return have as B;
    let b: B | undefined;
    const drop = () => {
      if (!b || this.branchByKey.get(def.key) !== b) return;
      this.branchByKey.delete(def.key);
      this.branches.delete(b);
      b.close('no consumers');
    };
    b = def.create(this, drop);
    this.branchByKey.set(def.key, b);
    this.branches.add(b);
    if (this.publisher && this.headers) {
      const branch = b;
      this.safe(`${def.key} branch`, () => branch.onJoin(this.headers!.tracks, this.gop));
    }
    return b;
  }

  /** The branch of `key`, if it exists. */
  existingBranch(key: string): Branch | undefined {
    return this.branchByKey.get(key);
  }

  // ---- presence -------------------------------------------------------------------------------

  /** A session attaches: presence (stats, kick, liveness) and its media consumer, in one step. */
  join(p: Presence, media?: Attachment): void {
    this.presence.set(p, media);
    if (media) this.safe('attach', () => media.attach(this));
  }

  /** A session leaves: its media consumer is detached and its presence removed. */
  leave(p: Presence): void {
    if (!this.presence.has(p)) return;
    const media = this.presence.get(p);
    this.presence.delete(p);
    if (media) this.safe('detach', () => media.detach(this));
    this.checkEmpty();
  }

  /** Kick the session `id` (API); false when no such session. */
  kick(id: string, reason: string): boolean {
    if (this.publisher && this.publisher.stat.sessionId === id) {
      this.publisher.kick(reason);
      return true;
    }
    for (const p of this.presence.keys()) {
      if (p.stat.sessionId === id && !p.closed) {
        p.close(reason);
        return true;
      }
    }
    return false;
  }

  tick(nowMs: number): void {
    this.outputs.tick(nowMs);
    this.branches.tick(nowMs);
    if (this.gop.dropped !== this.lastGopDropped) {
      this.log.warn(`stream ${this.name}: GOP over ${this.gop.maxBytes} bytes, ${this.gop.dropped - this.lastGopDropped} packets not cached for late joiners`);
      this.lastGopDropped = this.gop.dropped;
    }
  }

  /** Run a stream-level step; a failure is logged and never reaches the publisher's session. */
  private safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error(`stream ${this.name}: ${what} failed: ${errorDetail(e)}`);
    }
  }

  private checkEmpty(): void {
    if (this.isEmpty) this.onEmpty(this);
  }

  /** Close everything (server shutdown). */
  dispose(reason: string): void {
    this.publisher?.kick(reason);
    for (const p of [...this.presence.keys()]) p.close(reason);
    this.outputs.closeAll(reason);
    this.branches.closeAll(reason);
  }
}

function joinOrUpdate(c: PacketConsumer, a: { h: StreamHeaders; gop: GopCache<FanoutPacket>; fromStart: boolean }): void {
  c.onHeaders(a.h, a.gop, a.fromStart);
}
