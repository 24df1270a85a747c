/**
 * Encode once, share with everyone (docs/architecture.md §1.4).
 *
 * - `Fanout<C>`: the one fan-out every output goes through, at stream level (players of the
 *   stateless formats, branches) and inside each branch (its players, HLS, recorders). A consumer
 *   that throws is closed and logged, the others go on; consumers removed while the fan-out is
 *   iterating (a player closing itself, a kick) are removed after the loop, never during it.
 * - `FanoutPacket`: one AvPacket plus a memo of one contiguous buffer per output format ('rtmp'
 *   chunks, 'flv' tag, 'ws-flv' frame, 'rtp' batch). Every player of that format and every GOP
 *   replay writes the very same bytes.
 * - `StreamHeaders`: the stream's metadata and sequence headers, memoised the same way.
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { Logger } from '../core/log.ts';
import { errorDetail, errorText } from '../core/errors.ts';

/** What every fan-out target has: a closed flag, close, and the periodic check. */
export interface Consumer {
  readonly closed: boolean;
  close(reason: string): void;
  /** Periodic checks (slow-player drain timeout, drop reports); called by the server tick. */
  tick?(nowMs: number): void;
}

/**
 * An ordered set of consumers. `each(fn, arg)` calls `fn(consumer, arg)` on every live consumer
 * (a static `fn` and an `arg` avoid a closure per packet on the hot path).
 */
export class Fanout<C extends Consumer> {
  private set = new Set<C>();
  private depth = 0;
  private removed: C[] = [];

  /**
   * `what` names the fan-out in logs ("stream test110", "ts branch test110"); `onEmpty` runs when
   * the last consumer has been removed.
   */
  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly onEmpty?: () => void,
  ) {}

  get size(): number {
    return this.set.size - this.removed.length;
  }

  has(c: C): boolean {
    return this.set.has(c) && !this.removed.includes(c);
  }

  add(c: C): void {
    const i = this.removed.indexOf(c);
    if (i >= 0) this.removed.splice(i, 1);
    this.set.add(c);
  }

  /** Add `c` ahead of every other consumer (a loop already running keeps its own order). */
  addFirst(c: C): void {
    const i = this.removed.indexOf(c);
    if (i >= 0) this.removed.splice(i, 1);
    const rest = [...this.set].filter((x) => x !== c);
    this.set = new Set([c, ...rest]);
  }

  /** Remove `c` now, or after the current loop when called from inside one. */
  delete(c: C): void {
    if (!this.set.has(c)) return;
    if (this.depth > 0) {
      if (!this.removed.includes(c)) this.removed.push(c);
      return;
    }
    this.set.delete(c);
    if (this.set.size === 0) this.onEmpty?.();
  }

  /** The live consumers, as a snapshot. */
  list(): C[] {
    const out: C[] = [];
    for (const c of this.set) if (!c.closed && !this.removed.includes(c)) out.push(c);
    return out;
  }

  /**
   * Call `fn(c, arg)` on every live consumer except `except`. A consumer that throws is closed
   * (`error: …`) and the rest go on. Re-entrant: a consumer may cause a nested `each` on the same
   * fan-out (the HLS muxer flushing audio to the TS branch's other consumers).
   */
  each<A>(fn: (c: C, arg: A) => void, arg: A, except?: C): void {
    this.depth++;
    try {
      for (const c of this.set) {
        if (c === except || c.closed) continue;
        if (this.removed.length > 0 && this.removed.includes(c)) continue;
        try {
          fn(c, arg);
        } catch (e) {
          this.fail(c, e);
        }
      }
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && this.removed.length > 0) this.flushRemoved();
  }

  tick(nowMs: number): void {
    this.each(tickOne, nowMs);
  }

  /** Close every consumer (server shutdown, branch disposal). */
  closeAll(reason: string): void {
    this.each(closeOne, reason);
  }

  private fail(c: C, e: unknown): void {
    this.log.error(`${this.what}: an output failed, closing it: ${errorDetail(e)}`);
    try {
      c.close(`error: ${errorText(e)}`);
    } catch (e2) {
      this.log.error(`${this.what}: closing the failed output failed too: ${errorDetail(e2)}`);
    }
    this.delete(c);
  }

  private flushRemoved(): void {
    const gone = this.removed;
    this.removed = [];
    for (const c of gone) this.set.delete(c);
    if (this.set.size === 0) this.onEmpty?.();
  }
}

function tickOne(c: Consumer, nowMs: number): void {
  c.tick?.(nowMs);
}
function closeOne(c: Consumer, reason: string): void {
  c.close(reason);
}

export class FanoutPacket {
  private memo: Map<string, Uint8Array> | undefined;
  constructor(readonly pkt: AvPacket) {}

  /** The buffer of output format `key`, built by `fn` on first use and shared afterwards. */
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

  /** Payload bytes (the FLV body when there is one), for the GOP cache's byte bound. */
  get byteLength(): number {
    const p = this.pkt;
    if (p.flvBody) return p.flvBody.length;
    let n = 0;
    for (const u of p.units) n += u.length;
    return n;
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
