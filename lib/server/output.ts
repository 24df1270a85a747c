/**
 * Outputs and the slow-player policy, written once (docs/architecture.md §1.4).
 *
 * Every byte-stream output — RTMP, HTTP-FLV and WS-FLV players and the FLV recorder (units are
 * FanoutPackets), HTTP-TS and WS-TS players (TS frames), RTSP players (RTP deliveries) — is a
 * `SinkOutput<U>`: one ByteSink, a function writing one shared unit to it, and this policy:
 * - join: headers, then the GOP replay; with nothing replayed, wait for a resume point (a video
 *   key frame, a TS boundary, an RTP access point; any unit of a stream without video) so a
 *   player never starts mid-GOP;
 * - above SOFT pending bytes: drop everything until the next resume point, counted and reported
 *   once per interval;
 * - above HARD pending bytes, or no drain progress for DRAIN_TIMEOUT_MS since the backlog began:
 *   close as slow-consumer.
 * The publisher and other players never wait for one slow player.
 */
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import type { Consumer, FanoutPacket, StreamHeaders } from './fanout.ts';
import type { GopCache } from './gop-cache.ts';

/** Pending bytes above which a player skips to the next key frame (≈ 2 s at 16 Mbps). */
export const SOFT_PENDING_BYTES = 4 * 1024 * 1024;
/** Pending bytes above which a player is disconnected (Bun's WebSocket default backpressure). */
export const HARD_PENDING_BYTES = 16 * 1024 * 1024;
/** A player whose backlog has not shrunk for this long is disconnected (MediaMTX's writeTimeout). */
export const DRAIN_TIMEOUT_MS = 10_000;
/** Drop counters are reported at most this often per player. */
export const DROP_REPORT_INTERVAL_MS = 10_000;

/** The reasons an output is closed, as logged ("stop playing test110 (slow-consumer)"). */
export const CloseReason = {
  SlowConsumer: 'slow-consumer',
  Shutdown: 'server shutdown',
  Kicked: 'kicked by api',
  Timeout: 'timeout',
  PeerClosed: 'peer closed',
} as const;

export interface OutputOptions {
  gopNum: number;
  singleGopMaxFrameNum: number;
  softPendingBytes?: number;
  hardPendingBytes?: number;
  drainTimeoutMs?: number;
}

/**
 * The slow-player policy over one ByteSink: `admit(resumePoint)` says whether the next unit may
 * be written; `tick` closes a sink whose backlog has not shrunk for the drain timeout.
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
   * May the next unit be written? `resumePoint`: a player can (re)start cleanly at this unit.
   * Closes the output past the hard bound.
   */
  admit(resumePoint: boolean): boolean {
    const pending = this.sink.pendingBytes;
    if (pending > 0) {
      if (pending > this.hard) {
        this.close(CloseReason.SlowConsumer);
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
    if (this.sink.pendingBytes > this.hard) this.close(CloseReason.SlowConsumer);
  }

  /**
   * Periodic: a backlog that has not shrunk for the drain timeout (counted from when the backlog
   * began or last shrank, never from connect) closes the output; drops are reported at most once
   * per interval (docs/architecture.md §1.7 rule 9).
   */
  tick(nowMs: number): void {
    if (this.sink.closed) {
      this.close(CloseReason.PeerClosed);
      return;
    }
    const sink = this.sink;
    if (sink.pendingBytes > 0 && nowMs - Math.max(sink.lastProgressAt, sink.backlogSince ?? 0) > this.drainTimeout) {
      this.close(CloseReason.SlowConsumer);
      return;
    }
    if (this.droppedSinceReport > 0 && nowMs - this.lastDropReport >= DROP_REPORT_INTERVAL_MS) {
      this.log.warn(`slow player: discarding ${this.droppedSinceReport} frames (total ${this.droppedFrames}), ${sink.pendingBytes} bytes pending`);
      this.droppedSinceReport = 0;
      this.lastDropReport = nowMs;
    }
  }
}

/**
 * One output writing shared units of type U to its own ByteSink, under the slow-player policy.
 * Subclasses write one unit in `emit(u)` (usually `sink.write(sharedBytes)`); `onClose(reason)` is
 * the owner's hook (detach from the stream, close the session), called once.
 */
export abstract class SinkOutput<U> implements Consumer {
  closed = false;
  private joined = false;
  private waiting = true;
  /** Last unit of the join replay: if it is then delivered live, it is skipped. */
  private lastReplayed: U | undefined;
  readonly guard: SinkGuard;

  constructor(
    readonly sink: ByteSink,
    limits: Pick<OutputOptions, 'softPendingBytes' | 'hardPendingBytes' | 'drainTimeoutMs'>,
    log: Logger,
    private readonly onClose?: (reason: string) => void,
  ) {
    this.guard = new SinkGuard(sink, limits, log, (r) => this.close(r));
  }

  /** Write one shared unit to the sink. */
  protected abstract emit(u: U): void;

  get isJoined(): boolean {
    return this.joined;
  }

  /**
   * Start: `head` bytes, then `replay` units. With nothing replayed the output waits for a resume
   * point unless `startNow` (the stream is just starting, or has nothing to wait for).
   */
  join(head: Uint8Array | undefined, replay: readonly U[], startNow: boolean): void {
    if (this.closed) return;
    this.joined = true;
    if (head) this.sink.write(head);
    for (const u of replay) this.emit(u);
    this.lastReplayed = replay.length > 0 ? replay[replay.length - 1] : undefined;
    this.waiting = replay.length === 0 && !startNow;
    this.guard.checkPending();
  }

  /** Header bytes outside the unit flow (changed sequence headers, a new PAT/PMT). */
  writeHead(head: Uint8Array | undefined): void {
    if (this.closed || !head) return;
    this.sink.write(head);
  }

  /** Wait for the next resume point (the publisher left; a new PAT/PMT). */
  waitForResume(): void {
    this.waiting = true;
  }

  /** One live unit; `resumePoint` as in SinkGuard.admit. */
  write(u: U, resumePoint: boolean): void {
    if (this.closed || !this.joined) return;
    if (this.lastReplayed !== undefined) {
      const dup = u === this.lastReplayed;
      this.lastReplayed = undefined;
      if (dup) return;
    }
    if (this.waiting) {
      if (!resumePoint) return;
      this.waiting = false;
    }
    if (!this.guard.admit(resumePoint)) return;
    this.emit(u);
  }

  get droppedFrames(): number {
    return this.guard.droppedFrames;
  }

  tick(nowMs: number): void {
    if (!this.closed) this.guard.tick(nowMs);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // The owner first: closing the socket may report "peer closed" synchronously, and the log
    // must carry the real reason (slow-consumer, kicked, shutdown).
    this.onClose?.(reason);
    this.sink.close();
  }
}

/** Turns shared values into shared bytes for one output format; stateless, memoised by key. */
export interface Framer {
  readonly key: string;
  /** Full headers for a joiner (`full`), or only the parts that changed. */
  headers(h: StreamHeaders, full: boolean): Uint8Array | undefined;
  packet(fp: FanoutPacket): Uint8Array | undefined;
}

/**
 * A stream-level consumer of packets: players of the stateless formats (RTMP, FLV, WS-FLV) and
 * the FLV recorder. Branches (lib/server/branch.ts) are stream-level consumers of their own kind.
 */
export interface PacketConsumer extends Consumer {
  /**
   * Stream headers exist (join) or changed (live update). `fromStart`: the stream just began and
   * this consumer was already waiting, so it gets every packet from the first (no key-frame wait).
   */
  onHeaders(h: StreamHeaders, gop: GopCache<FanoutPacket>, fromStart: boolean): void;
  onPacket(fp: FanoutPacket): void;
  /** The publisher left; the consumer stays attached and waits (docs/behaviour.md §3.3). */
  onPublisherGone?(): void;
}

/** Where a PacketOutput attaches (the Stream). */
export interface PacketOutputHost {
  addOutput(c: PacketConsumer): void;
  removeOutput(c: PacketConsumer): void;
}

/** RTMP/FLV/WS-FLV players and the FLV recorder: a SinkOutput of FanoutPackets through a Framer. */
export class PacketOutput extends SinkOutput<FanoutPacket> implements PacketConsumer {
  private hasVideo = false;

  constructor(
    sink: ByteSink,
    private readonly framer: Framer,
    private readonly opts: OutputOptions,
    log: Logger,
    onClose?: (reason: string) => void,
  ) {
    super(sink, opts, log, onClose);
  }

  protected emit(fp: FanoutPacket): void {
    const b = this.framer.packet(fp);
    if (b) this.sink.write(b);
  }

  /** As a session's media (Stream.join): a stream-level output. */
  attach(s: PacketOutputHost): void {
    s.addOutput(this);
  }

  detach(s: PacketOutputHost): void {
    s.removeOutput(this);
  }

  onHeaders(h: StreamHeaders, gop: GopCache<FanoutPacket>, fromStart: boolean): void {
    if (this.closed) return;
    this.hasVideo = !!h.tracks.video;
    if (!this.isJoined) {
      const replay = gop.replay(this.opts.gopNum, this.opts.singleGopMaxFrameNum);
      this.join(this.framer.headers(h, true), replay, fromStart || !this.hasVideo);
      return;
    }
    this.writeHead(this.framer.headers(h, false));
  }

  onPacket(fp: FanoutPacket): void {
    const pkt = fp.pkt;
    this.write(fp, pkt.kind === 'video' ? pkt.key : !this.hasVideo);
  }

  onPublisherGone(): void {
    // Keep the connection; a new publisher's headers arrive as a live update and the player
    // waits for its first resume point (the new encoder starts a new GOP anyway).
    this.waitForResume();
  }
}
