/**
 * The stream's MPEG-TS branch (behaviour.md §4 step 1, §5.4; hls.md §2): one AvToMpegts per
 * publish session, whose frames are built once and go, in LAL's order, to the HLS muxer, the
 * HTTP-TS players, the TS recorder and the TS GOP cache for HTTP-TS late joiners.
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { AvToMpegts, type TsEvent } from '../remux/mpegts.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import type { HlsMuxer } from '../protocol/hls/muxer.ts';
import { TimestampNormalizer } from '../core/timestamp.ts';

/** Anything that takes the TS byte stream: HTTP-TS/WS-TS players, the TS recorder. */
export interface TsConsumer {
  readonly closed: boolean;
  /** PAT+PMT of a new publish session (sent first, and again when a publisher restarts). */
  onPatPmt(bytes: Uint8Array): void;
  onTsFrame(f: TsFrame): void;
}

/** HTTP-TS GOP cache: frames grouped from each boundary (behaviour.md §5.4), bounded. */
export class TsGopCache {
  private gops: TsFrame[][] = [];
  private bytes = 0;
  constructor(readonly maxGops: number, readonly maxBytes = 32 * 1024 * 1024) {}

  feed(f: TsFrame): void {
    if (this.maxGops <= 0) return;
    if (f.boundary) {
      this.gops.push([f]);
      this.bytes += f.bytes.length;
      while (this.gops.length > this.maxGops || (this.bytes > this.maxBytes && this.gops.length > 1)) {
        for (const x of this.gops.shift()!) this.bytes -= x.bytes.length;
      }
      return;
    }
    const g = this.gops[this.gops.length - 1];
    if (!g || this.bytes + f.bytes.length > this.maxBytes) return;
    g.push(f);
    this.bytes += f.bytes.length;
  }

  replay(gopNum: number, maxFramesPerGop: number): TsFrame[] {
    const out: TsFrame[] = [];
    for (const g of this.gops.slice(Math.max(0, this.gops.length - gopNum))) {
      out.push(...(maxFramesPerGop > 0 ? g.slice(0, maxFramesPerGop + 1) : g));
    }
    return out;
  }

  clear(): void {
    this.gops = [];
    this.bytes = 0;
  }
}

export class TsPipeline {
  private remuxer: AvToMpegts | undefined;
  private hls: HlsMuxer | undefined;
  /** Wrap/jump/non-monotonic corrections before muxing (identity for clean streams). */
  normalizer = new TimestampNormalizer();
  readonly consumers = new Set<TsConsumer>();
  readonly gop: TsGopCache;
  patPmt: Uint8Array | undefined;

  constructor(gopNum: number, private readonly log: Logger) {
    this.gop = new TsGopCache(gopNum);
  }

  /** A publisher started: fresh remuxer (continuity counters, probe), optional HLS muxer. */
  start(hls?: HlsMuxer): void {
    this.remuxer = new AvToMpegts({ log: this.log });
    this.normalizer = new TimestampNormalizer();
    this.hls = hls;
    this.patPmt = undefined;
    this.gop.clear();
  }

  get running(): boolean {
    return !!this.remuxer;
  }

  setTracks(t: TrackInfo): void {
    this.remuxer?.setTracks(t);
  }

  push(pkt: AvPacket): void {
    if (!this.remuxer) return;
    const t = this.normalizer.normalize(pkt.kind, pkt.dts, pkt.pts);
    const p = t.dts === pkt.dts && t.pts === pkt.pts ? pkt : { ...pkt, dts: t.dts, pts: t.pts };
    this.handle(this.remuxer.push(p));
  }

  /** The publisher left: flush pending audio, close the HLS fragment with ENDLIST. */
  end(): HlsMuxer | undefined {
    const r = this.remuxer;
    if (!r) return undefined;
    this.handle(r.end());
    const hls = this.hls;
    if (hls) {
      try {
        hls.end();
      } catch (e) {
        this.log.error(`hls: end failed: ${errorText(e)}`);
      }
    }
    this.remuxer = undefined;
    this.hls = undefined;
    return hls;
  }

  private handle(events: TsEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'patpmt') {
        this.patPmt = ev.bytes;
        this.callHls((h) => h.setPatPmt(ev.bytes));
        for (const c of this.consumers) if (!c.closed) c.onPatPmt(ev.bytes);
      } else {
        const f = ev.frame;
        // HLS first; when it opens a fragment it asks for the buffered audio, which then goes
        // to everyone else before this frame (hls.md §2).
        this.callHls((h) =>
          h.feed(f, () => {
            const flushed = this.remuxer?.flushAudio() ?? [];
            for (const a of flushed) this.others(a);
            return flushed;
          }),
        );
        this.others(f);
      }
    }
  }

  private others(f: TsFrame): void {
    for (const c of this.consumers) {
      if (c.closed) continue;
      try {
        c.onTsFrame(f);
      } catch (e) {
        this.log.error(`ts output failed: ${errorText(e)}`);
      }
    }
    this.gop.feed(f);
  }

  private callHls(fn: (h: HlsMuxer) => void): void {
    if (!this.hls) return;
    try {
      fn(this.hls);
    } catch (e) {
      // A disk error must not stop the stream: HLS is switched off for this publish session.
      this.log.error(`hls disabled for this stream: ${errorText(e)}`);
      this.hls = undefined;
    }
  }
}
