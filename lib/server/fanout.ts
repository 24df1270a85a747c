/**
 * Encode once, share with everyone (design.md §1.4).
 * A FanoutPacket wraps one AvPacket and memoises one contiguous buffer per output format
 * ('rtmp' chunks, 'flv' tag, 'ws-flv' frame, later 'ts', 'rtp'…). Every subscriber of that format
 * and the GOP replay write the very same bytes.
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';

export class FanoutPacket {
  private memo: Map<string, Uint8Array> | undefined;
  /** Encoded size of the largest memoised format, for the GOP cache's byte bound. */
  constructor(readonly pkt: AvPacket) {}

  encodeOnce(key: string, fn: (pkt: AvPacket) => Uint8Array): Uint8Array {
    let m = this.memo;
    if (m) {
      const hit = m.get(key);
      if (hit) return hit;
    } else {
      m = this.memo = new Map();
    }
    const buf = fn(this.pkt);
    m.set(key, buf);
    return buf;
  }

  get isVideoKey(): boolean {
    return this.pkt.kind === 'video' && this.pkt.key;
  }
}

/**
 * The stream's headers (metadata and sequence headers) as a shareable, memoised value.
 * `changed` says which parts differ from the previous headers, so live players get only those.
 */
export class StreamHeaders {
  private memo = new Map<string, Uint8Array>();
  constructor(
    readonly tracks: TrackInfo,
    readonly changed: { metadata: boolean; video: boolean; audio: boolean },
  ) {}

  encodeOnce(key: string, fn: (h: StreamHeaders) => Uint8Array): Uint8Array {
    const hit = this.memo.get(key);
    if (hit) return hit;
    const buf = fn(this);
    this.memo.set(key, buf);
    return buf;
  }
}
