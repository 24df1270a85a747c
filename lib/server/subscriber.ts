/**
 * Subscribers and the slow-subscriber policy, written once (design.md §1.4).
 *
 * A byte-stream output (RTMP player, HTTP-FLV, WS-FLV, later HTTP-TS…) is an OutputSubscriber:
 * a ByteSink, a Framer that turns shared packets into shared bytes, and this policy:
 * - join: full headers, then the GOP replay; with nothing replayed, wait for a video key frame
 *   (unless the stream has no video) so a player never starts mid-GOP;
 * - above SOFT pending bytes: drop everything until the next key frame (audio-only: until the
 *   backlog falls under the bound), counted and reported once per interval;
 * - above HARD pending bytes, or no drain progress for DRAIN_TIMEOUT_MS: close as slow-consumer.
 * The publisher and other players never wait for one slow player.
 */
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import type { FanoutPacket, StreamHeaders } from './fanout.ts';
import type { GopCache } from './gop-cache.ts';
import type { SessionStat } from './stat.ts';

/** Pending bytes above which a player skips to the next key frame (≈ 2 s at 16 Mbps). */
export const SOFT_PENDING_BYTES = 4 * 1024 * 1024;
/** Pending bytes above which a player is disconnected (Bun's WebSocket default backpressure). */
export const HARD_PENDING_BYTES = 16 * 1024 * 1024;
/** A player whose socket took nothing for this long is disconnected (MediaMTX's writeTimeout). */
export const DRAIN_TIMEOUT_MS = 10_000;
/** Drop counters are reported at most this often per player. */
export const DROP_REPORT_INTERVAL_MS = 10_000;

export interface Subscriber {
  readonly stat: SessionStat;
  readonly closed: boolean;
  /** Internal outputs (recorders) are not players: not in stats, not kickable. */
  hidden?: boolean;
  /**
   * Stream headers exist (join) or changed (live update). `fromStart`: the stream just began and
   * this player was already waiting, so it gets every packet from the first (no key-frame wait).
   */
  onHeaders(h: StreamHeaders, gop: GopCache, fromStart?: boolean): void;
  onPacket(fp: FanoutPacket): void;
  /** The publisher left; the player stays attached and waits (behaviour.md §3.3). */
  onPublisherGone?(): void;
  /** Periodic checks (drain timeout, drop reports). */
  tick(nowMs: number): void;
  close(reason: string): void;
}

/** Turns shared values into shared bytes for one output format; stateless, memoised by key. */
export interface Framer {
  readonly key: string;
  /** Full headers for a joiner (`full`), or only the parts that changed. */
  headers(h: StreamHeaders, full: boolean): Uint8Array | undefined;
  packet(fp: FanoutPacket): Uint8Array | undefined;
}

export interface OutputOptions {
  gopNum: number;
  singleGopMaxFrameNum: number;
  softPendingBytes?: number;
  hardPendingBytes?: number;
  drainTimeoutMs?: number;
}

/**
 * The slow-player policy over one ByteSink, shared by every byte-stream output (RTMP/FLV packets,
 * TS frames): `admit(resumePoint)` says whether the next unit may be written.
 */
export class SinkGuard {
  private dropping = false;
  droppedFrames = 0;
  private droppedSinceReport = 0;
  private lastDropReport = 0;
  private readonly soft: number;
  private readonly hard: number;
  private readonly drainTimeout: number;

  constructor(
    private readonly sink: ByteSink,
    limits: Pick<OutputOptions, 'softPendingBytes' | 'hardPendingBytes' | 'drainTimeoutMs'>,
    private readonly log: Logger,
    private readonly close: (reason: string) => void,
  ) {
    this.soft = limits.softPendingBytes ?? SOFT_PENDING_BYTES;
    this.hard = limits.hardPendingBytes ?? HARD_PENDING_BYTES;
    this.drainTimeout = limits.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
  }

  /**
   * May the next unit be written? `resumePoint`: a player can (re)start cleanly at this unit
   * (a video key frame, any audio frame of an audio-only stream, a TS boundary).
   * Closes the output past the hard bound.
   */
  admit(resumePoint: boolean): boolean {
    const pending = this.sink.pendingBytes;
    if (pending > 0) {
      if (pending > this.hard) {
        this.close('slow-consumer');
        return false;
      }
      if (pending > this.soft) this.dropping = true;
    }
    if (this.dropping) {
      if (!(pending <= this.soft && resumePoint)) {
        this.droppedFrames++;
        this.droppedSinceReport++;
        return false;
      }
      this.dropping = false;
    }
    return true;
  }

  /** After a burst (join replay): close right away if it already overflowed. */
  checkPending(): void {
    if (this.sink.pendingBytes > this.hard) this.close('slow-consumer');
  }

  /** Periodic: no drain progress for drainTimeout → close; report drops at most every interval. */
  tick(nowMs: number): void {
    if (this.sink.closed) {
      this.close('connection closed');
      return;
    }
    if (this.sink.pendingBytes > 0 && nowMs - this.sink.lastProgressAt > this.drainTimeout) {
      this.close(`slow-consumer (no drain for ${Math.round(this.drainTimeout / 1000)} s)`);
      return;
    }
    if (this.droppedSinceReport > 0 && nowMs - this.lastDropReport >= DROP_REPORT_INTERVAL_MS) {
      this.log.warn(`slow player: discarding ${this.droppedSinceReport} frames (total ${this.droppedFrames}), ${this.sink.pendingBytes} bytes pending`);
      this.droppedSinceReport = 0;
      this.lastDropReport = nowMs;
    }
  }
}

/**
 * What every subscriber writing to its own ByteSink shares: the SinkGuard over that sink (ticked
 * while open) and closing once — the sink, then the session's `onClosed`.
 */
export abstract class GuardedSubscriber {
  closed = false;
  protected readonly guard: SinkGuard;
  /** Set by the session: detach from the stream and release resources. */
  onClosed?: (reason: string) => void;

  constructor(
    readonly stat: SessionStat,
    readonly sink: ByteSink,
    limits: OutputOptions,
    log: Logger,
  ) {
    this.guard = new SinkGuard(sink, limits, log, (r) => this.close(r));
  }

  tick(nowMs: number): void {
    if (!this.closed) this.guard.tick(nowMs);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
    this.onClosed?.(reason);
  }
}

export class OutputSubscriber extends GuardedSubscriber implements Subscriber {
  hidden = false;
  private joined = false;
  private waitingKey = true;
  private hasVideo = false;
  /** Last packet of the join replay: if the stream then delivers it live, it is skipped. */
  private lastReplayed: FanoutPacket | undefined;

  constructor(
    stat: SessionStat,
    sink: ByteSink,
    private readonly framer: Framer,
    private readonly opts: OutputOptions,
    log: Logger,
  ) {
    super(stat, sink, opts, log);
  }

  get totalDroppedFrames(): number {
    return this.guard.droppedFrames;
  }

  onHeaders(h: StreamHeaders, gop: GopCache, fromStart = false): void {
    if (this.closed) return;
    this.hasVideo = !!h.tracks.video;
    if (!this.joined) {
      this.joined = true;
      const head = this.framer.headers(h, true);
      if (head) this.sink.write(head);
      const replay = gop.replay(this.opts.gopNum, this.opts.singleGopMaxFrameNum);
      for (const fp of replay) {
        const buf = this.framer.packet(fp);
        if (buf) this.sink.write(buf);
      }
      this.lastReplayed = replay[replay.length - 1];
      this.waitingKey = replay.length === 0 && this.hasVideo && !fromStart;
      this.guard.checkPending();
      return;
    }
    const delta = this.framer.headers(h, false);
    if (delta) this.sink.write(delta);
  }

  onPacket(fp: FanoutPacket): void {
    if (this.closed || !this.joined) return;
    if (this.lastReplayed) {
      const dup = fp === this.lastReplayed;
      this.lastReplayed = undefined;
      if (dup) return;
    }
    const pkt = fp.pkt;
    if (this.waitingKey) {
      if (!(pkt.kind === 'video' && pkt.key)) return;
      this.waitingKey = false;
    }
    if (!this.guard.admit(pkt.kind === 'video' ? pkt.key : !this.hasVideo)) return;
    const buf = this.framer.packet(fp);
    if (buf) this.sink.write(buf);
  }

  onPublisherGone(): void {
    // Keep the connection; a new publisher's headers arrive as a live update and the player waits
    // for its first key frame (the new encoder starts a new GOP anyway).
    this.waitingKey = true;
  }
}
