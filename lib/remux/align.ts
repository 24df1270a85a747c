/**
 * Start alignment of a multi-track input whose clocks do not start at 0 (MPEG-TS files): all
 * tracks are shifted together so the earliest packet is at 0 and they stay in sync, as an FLV
 * written from the input needs (FLV timestamps are unsigned and players expect them near 0).
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';

/**
 * Packets held while waiting for the first packet of every declared track, to rebase all tracks
 * on the earliest one. A muxer interleaves tracks within a second or so; 512 packets is several
 * seconds of media, and bounds the memory an input with an empty declared track can hold.
 */
export const MAX_ALIGN_PACKETS = 512;

/** Where aligned events go. */
export interface PacketTarget {
  tracks(t: TrackInfo): void;
  packet(p: AvPacket): void;
}

type Queued = { tracks: TrackInfo; packet?: undefined } | { packet: AvPacket; tracks?: undefined };

/**
 * Holds events until every track `expected()` declares (for a TS: the PMT's streams) has sent a
 * packet (at most MAX_ALIGN_PACKETS), then shifts every timestamp by the earliest DTS seen, so
 * the output starts at 0 with its tracks still in sync. Every TrackInfo in the window is
 * completed with the tracks found later in it, so writers know all tracks before the first
 * packet. A track that only starts after the limit, earlier than the base, is clamped at 0 until
 * it passes it (broken input; FLV timestamps cannot be negative).
 */
export class StartAligner implements PacketTarget {
  private queue: Queued[] = [];
  private queuedPackets = 0;
  private base: number | undefined;
  private lastTracks: TrackInfo | undefined;
  private seenVideo = false;
  private seenAudio = false;

  constructor(
    private readonly next: PacketTarget,
    private readonly expected: () => { video: boolean; audio: boolean },
  ) {}

  tracks(t: TrackInfo): void {
    if (this.base !== undefined) return this.next.tracks(t);
    this.lastTracks = t;
    this.queue.push({ tracks: t });
  }

  packet(p: AvPacket): void {
    if (this.base !== undefined) return this.next.packet(this.shift(p));
    this.queue.push({ packet: p });
    this.queuedPackets++;
    if (p.kind === 'video') this.seenVideo = true;
    else this.seenAudio = true;
    const want = this.expected();
    if (((this.seenVideo || !want.video) && (this.seenAudio || !want.audio)) || this.queuedPackets >= MAX_ALIGN_PACKETS) this.release();
  }

  /** The input ended: release whatever is held. */
  end(): void {
    if (this.base === undefined) this.release();
  }

  private shift(p: AvPacket): AvPacket {
    const dts = Math.max(0, p.dts - this.base!);
    return { ...p, dts, pts: dts + (p.pts - p.dts) };
  }

  private release(): void {
    let base = Infinity;
    for (const q of this.queue) if (q.packet && q.packet.dts < base) base = q.packet.dts;
    this.base = base === Infinity ? 0 : base;
    const queue = this.queue;
    this.queue = [];
    // Tracks that appear later in the window are already known to earlier TrackInfos (same
    // track objects, so writers see no change when the later TrackInfo arrives).
    const last = this.lastTracks;
    const fill = (t: TrackInfo): TrackInfo => (!last || t === last ? t : { ...t, video: t.video ?? last.video, audio: t.audio ?? last.audio });
    for (const q of queue) {
      if (q.packet) this.next.packet(this.shift(q.packet));
      else this.next.tracks(fill(q.tracks));
    }
  }
}
