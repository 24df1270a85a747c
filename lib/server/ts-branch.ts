/**
 * The stream's MPEG-TS branch (docs/behaviour.md §4 step 1, §5.4; docs/hls.md §2;
 * docs/architecture.md §1.4): one AvToMpegts per publish session whose frames are built once and
 * go, through one Fanout, to every TS consumer — the HLS muxer, HTTP-TS/WS-TS players, the TS
 * recorder — and into the TS GOP cache for HTTP-TS late joiners.
 *
 * Created on first use (a TS player, HLS or TS recording at publish start); a branch created while
 * the stream is live catches up from the stream's GOP cache, so its first player starts at once.
 * Dropped with its last consumer.
 */
import type { TrackInfo } from '../core/packet.ts';
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import { TimestampNormalizer, type TimestampCorrections } from '../core/timestamp.ts';
import { AvToMpegts, type AvToMpegtsStats, type TsEvent } from '../remux/mpegts.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import type { HlsMuxer } from '../protocol/hls/muxer.ts';
import { encodeWsFrame, WsOpcode } from '../protocol/http/ws.ts';
import { Fanout, type Consumer, type FanoutPacket } from './fanout.ts';
import { GopCache } from './gop-cache.ts';
import { SinkOutput, type OutputOptions } from './output.ts';
import type { Attachment, Branch, BranchDef, Stream } from './stream.ts';

/** Anything that takes the TS byte stream: the HLS muxer, HTTP-TS/WS-TS players, the TS recorder. */
export interface TsConsumer extends Consumer {
  /** PAT+PMT of a new publish session (sent first, and again when a publisher restarts). */
  onPatPmt(bytes: Uint8Array): void;
  onTsFrame(f: TsFrame, branch: TsBranch): void;
  /** The publish session ended; its last frames have been delivered. */
  onEnd?(): void;
}

export interface TsBranchOptions {
  /** TS GOPs kept for HTTP-TS late joiners (httpts.gop_num); also what a new branch catches up. */
  gopNum: number;
  log: Logger;
}

/** The TS branch definition of one server (one per configuration). */
export function tsBranchDef(opts: TsBranchOptions): BranchDef<TsBranch> {
  return { key: 'ts', create: (s, drop) => new TsBranch(s.name, opts, drop) };
}

function toPatPmt(c: TsConsumer, bytes: Uint8Array): void {
  c.onPatPmt(bytes);
}
function toEnd(c: TsConsumer): void {
  c.onEnd?.();
}

export class TsBranch implements Branch {
  readonly key = 'ts';
  closed = false;
  private remuxer: AvToMpegts | undefined;
  /** Wrap/jump/non-monotonic corrections before muxing (identity for clean streams). */
  private normalizer = new TimestampNormalizer();
  readonly consumers: Fanout<TsConsumer>;
  readonly gop: GopCache<TsFrame>;
  /** PAT+PMT of the running publish session. */
  patPmt: Uint8Array | undefined;
  private readonly log: Logger;
  /** Frames being delivered by `deliver` (the argument of the fan-out callback). */
  private readonly onFrame = (c: TsConsumer, f: TsFrame) => c.onTsFrame(f, this);

  constructor(
    readonly streamName: string,
    private readonly opts: TsBranchOptions,
    drop: () => void,
  ) {
    this.log = opts.log;
    this.consumers = new Fanout<TsConsumer>(opts.log, `ts branch ${streamName}`, drop);
    this.gop = new GopCache<TsFrame>(opts.gopNum, (f) => f.bytes.length);
  }

  /** `first`: ahead of every other consumer (the HLS muxer, docs/hls.md §2). */
  add(c: TsConsumer, first = false): void {
    if (first) this.consumers.addFirst(c);
    else this.consumers.add(c);
  }

  remove(c: TsConsumer): void {
    this.consumers.delete(c);
  }

  /** A publish session is running (the branch has its muxer). */
  get running(): boolean {
    return !!this.remuxer;
  }

  private muxer(): AvToMpegts {
    if (!this.remuxer) {
      this.remuxer = new AvToMpegts({ log: this.log });
      this.normalizer = new TimestampNormalizer();
      this.patPmt = undefined;
      this.gop.clear();
    }
    return this.remuxer;
  }

  onTracks(t: TrackInfo): void {
    this.muxer().setTracks(t);
  }

  onPacket(fp: FanoutPacket): void {
    const pkt = fp.pkt;
    if (pkt.units.length === 0) return;
    const t = this.normalizer.normalize(pkt.kind, pkt.dts, pkt.pts);
    const p = t.dts === pkt.dts && t.pts === pkt.pts ? pkt : { ...pkt, dts: t.dts, pts: t.pts };
    this.handle(this.muxer().push(p));
  }

  onJoin(tracks: TrackInfo, gop: GopCache<FanoutPacket>): void {
    this.muxer().setTracks(tracks);
    for (const fp of gop.replay(this.opts.gopNum, 0)) this.onPacket(fp);
  }

  /** The publisher left: flush pending audio, end every consumer's publish session (HLS ENDLIST). */
  onPublisherGone(): void {
    const r = this.remuxer;
    if (!r) return;
    this.handle(r.end());
    this.consumers.each(toEnd, undefined);
    this.reportCorrections(this.normalizer.corrections);
    this.reportSkipped(r.stats);
    this.remuxer = undefined;
    this.patPmt = undefined;
    this.gop.clear();
  }

  /**
   * Emit the remuxer's buffered audio now, to every consumer but `except` (the HLS muxer, which
   * asks for it when it opens a fragment and writes what this returns itself; docs/hls.md §2).
   */
  flushAudio(except: TsConsumer): TsFrame[] {
    const flushed = this.remuxer?.flushAudio() ?? [];
    for (const a of flushed) this.deliver(a, except);
    return flushed;
  }

  private handle(events: TsEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'patpmt') {
        this.patPmt = ev.bytes;
        this.consumers.each(toPatPmt, ev.bytes);
      } else {
        this.deliver(ev.frame);
      }
    }
  }

  private deliver(f: TsFrame, except?: TsConsumer): void {
    this.consumers.each(this.onFrame, f, except);
    this.gop.feed(f, f.boundary);
  }

  private reportCorrections(c: TimestampCorrections): void {
    const n = c.wraps + c.nonMonotonic + c.jumpsForward + c.jumpsBackward;
    if (n > 0) {
      this.log.info(
        `ts ${this.streamName}: timestamps corrected before muxing: ${c.wraps} wraps, ${c.nonMonotonic} non-monotonic, ${c.jumpsForward} jumps forward, ${c.jumpsBackward} jumps back`,
      );
    }
  }

  /** What the muxer could not carry in this publish session (the first of each kind was logged). */
  private reportSkipped(st: AvToMpegtsStats): void {
    const parts = Object.entries(st).filter(([k, v]) => k !== 'videoFrames' && k !== 'audioFrames' && v > 0);
    if (parts.length === 0) return;
    this.log.warn(`ts ${this.streamName}: ${st.videoFrames} video and ${st.audioFrames} audio frames muxed; skipped: ${parts.map(([k, v]) => `${v} ${k}`).join(', ')}`);
  }

  tick(nowMs: number): void {
    this.consumers.tick(nowMs);
    if (this.gop.dropped > 0) {
      this.log.warn(`ts ${this.streamName}: GOP over ${this.gop.maxBytes} bytes, ${this.gop.dropped} TS frames not cached for late joiners`);
      this.gop.dropped = 0;
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.consumers.closeAll(reason);
  }
}

/** The HLS muxer of one publish session as a TS consumer (always the branch's first consumer). */
export class HlsOutput implements TsConsumer {
  closed = false;
  constructor(
    readonly muxer: HlsMuxer,
    private readonly log: Logger,
  ) {}

  onPatPmt(bytes: Uint8Array): void {
    this.muxer.setPatPmt(bytes);
  }

  onTsFrame(f: TsFrame, branch: TsBranch): void {
    // When it opens a fragment the muxer asks for the buffered audio, which then goes to every
    // other consumer before this frame (docs/hls.md §2).
    this.muxer.feed(f, () => branch.flushAudio(this));
  }

  onEnd(): void {
    this.muxer.end();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // A failure (a disk error) switches HLS off for this publish session only.
    if (reason.startsWith('error')) this.log.error(`hls disabled for this stream: ${reason}`);
  }
}

/** WS-TS frames are shared too: one memo per TS frame (server frames are unmasked). */
const wsMemo = new WeakMap<Uint8Array, Uint8Array>();
function wsBytes(b: Uint8Array): Uint8Array {
  let f = wsMemo.get(b);
  if (!f) {
    f = encodeWsFrame(WsOpcode.Binary, b);
    wsMemo.set(b, f);
  }
  return f;
}

/**
 * An HTTP-TS / WebSocket-TS player (docs/behaviour.md §5.4): PAT+PMT, the TS GOP cache, then live
 * frames; with nothing cached it waits for the next boundary. When a publisher restarts it gets
 * the new PAT+PMT and waits for a boundary again (docs/quirks.md Q-SUB-2, fixed).
 */
export class TsOutput extends SinkOutput<TsFrame> implements TsConsumer, Attachment {
  private branch: TsBranch | undefined;

  constructor(
    sink: ByteSink,
    private readonly ws: boolean,
    private readonly def: BranchDef<TsBranch>,
    private readonly opts: OutputOptions,
    log: Logger,
    onClose?: (reason: string) => void,
  ) {
    super(sink, opts, log, onClose);
  }

  protected emit(f: TsFrame): void {
    this.sink.write(this.bytes(f.bytes));
  }

  private bytes(b: Uint8Array): Uint8Array {
    return this.ws ? wsBytes(b) : b;
  }

  attach(s: Stream): void {
    const b = s.branch(this.def);
    this.branch = b;
    b.add(this);
    if (!b.patPmt) return; // joins at the first PAT+PMT
    this.join(this.bytes(b.patPmt), b.gop.replay(this.opts.gopNum, this.opts.singleGopMaxFrameNum), false);
  }

  detach(_s: Stream): void {
    this.branch?.remove(this);
    this.branch = undefined;
  }

  onPatPmt(bytes: Uint8Array): void {
    if (!this.isJoined) {
      this.join(this.bytes(bytes), [], false);
      return;
    }
    this.writeHead(this.bytes(bytes));
    this.waitForResume();
  }

  onTsFrame(f: TsFrame): void {
    this.write(f, f.boundary);
  }
}
