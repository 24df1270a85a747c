/**
 * Stream (LAL's Group, slimmed; design.md §1.4): one publisher, the current headers, one neutral
 * GOP cache and one Set of subscribers. HLS, recorders and relay pushes are ordinary subscribers.
 */
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { bytesEqual } from '../core/bytes.ts';
import { FanoutPacket, StreamHeaders } from './fanout.ts';
import { GopCache } from './gop-cache.ts';
import { PeriodRecord, type SessionStat } from './stat.ts';
import type { Subscriber } from './subscriber.ts';
import type { TsPipeline } from './ts-pipeline.ts';

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

const same = (a?: Uint8Array, b?: Uint8Array) => (a === b ? true : !!a && !!b && bytesEqual(a, b));

export class Stream {
  publisher: Publisher | undefined;
  readonly subs = new Set<Subscriber>();
  headers: StreamHeaders | undefined;
  /** True once the current publisher sent its first media packet: players join from then on. */
  private ready = false;
  readonly gop: GopCache;
  readonly fps = new PeriodRecord();
  // Stats kept from the first publisher for the life of the stream (http-api.md §3.2).
  audioCodec = '';
  videoCodec = '';
  videoWidth = 0;
  videoHeight = 0;
  private iterating = false;
  private toRemove: Subscriber[] = [];
  /** The MPEG-TS branch (HTTP-TS, HLS, TS recording) when any of them is enabled. */
  readonly ts: TsPipeline | undefined;

  constructor(
    readonly name: string,
    public appName: string,
    gopNum: number,
    private readonly log: Logger,
    private readonly onEmpty: (s: Stream) => void,
    ts?: TsPipeline,
    private readonly hooks: StreamHooks = {},
  ) {
    this.gop = new GopCache(gopNum);
    this.ts = ts;
  }

  get isEmpty(): boolean {
    return !this.publisher && this.subs.size === 0;
  }

  // ---- publisher side -------------------------------------------------------------------------

  setPublisher(p: Publisher): void {
    this.publisher = p;
    this.ready = false;
    this.headers = undefined;
    this.gop.clear();
    this.safe('publish-start hook', () => this.hooks.onPublishStart?.(this));
  }

  /** The publisher left: forget headers and caches, keep the players (behaviour.md §3.3). */
  removePublisher(p: Publisher): void {
    if (this.publisher !== p) return;
    this.publisher = undefined;
    this.safe('publish-stop hook', () => this.hooks.onPublishStop?.(this));
    this.headers = undefined;
    this.ready = false;
    this.gop.clear();
    this.each((s) => s.onPublisherGone?.());
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
    if (this.ts) this.safe('ts', () => this.ts!.setTracks(tracks));
    if (!this.ready) return; // joiners get everything at the first media packet
    const h = this.headers;
    this.each((s) => s.onHeaders(h, this.gop));
  }

  write(pkt: AvPacket): void {
    if (pkt.kind === 'video') this.fps.add(Math.floor(Date.now() / 1000));
    if (this.ts && pkt.units.length > 0) this.safe('ts', () => this.ts!.push(pkt));
    const fp = new FanoutPacket(pkt);
    this.gop.feed(fp);
    if (!this.ready) {
      this.ready = true;
      if (!this.headers) this.headers = new StreamHeaders({}, { metadata: false, video: false, audio: false });
      const h = this.headers;
      // Joiners replay the cache, which may already hold this packet; they skip it in onPacket.
      this.each((s) => s.onHeaders(h, this.gop, true));
    }
    this.each((s) => s.onPacket(fp));
  }

  /** Run a stream-level step; a failure is logged and never reaches the publisher's session. */
  private safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error(`stream ${this.name}: ${what} failed: ${errorText(e)}`);
    }
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

  // ---- subscriber side ------------------------------------------------------------------------

  addSubscriber(s: Subscriber): void {
    this.subs.add(s);
    if (this.ready && this.headers) s.onHeaders(this.headers, this.gop);
  }

  removeSubscriber(s: Subscriber): void {
    if (this.iterating) {
      this.toRemove.push(s);
      return;
    }
    this.subs.delete(s);
    this.checkEmpty();
  }

  /** Call fn on each live subscriber; a throwing subscriber is closed, the rest go on. */
  private each(fn: (s: Subscriber) => void): void {
    this.iterating = true;
    try {
      for (const s of this.subs) {
        if (s.closed) continue;
        try {
          fn(s);
        } catch (e) {
          this.log.error(`[${s.stat.sessionId}] output failed, closing it: ${errorText(e)}`);
          try {
            s.close(`error: ${errorText(e)}`);
          } catch {
            /* keep going */
          }
        }
      }
    } finally {
      this.iterating = false;
    }
    if (this.toRemove.length) {
      for (const s of this.toRemove) this.subs.delete(s);
      this.toRemove = [];
      this.checkEmpty();
    }
  }

  tick(nowMs: number): void {
    this.each((s) => s.tick(nowMs));
  }

  private checkEmpty(): void {
    if (this.isEmpty) this.onEmpty(this);
  }

  /** Close everything (server shutdown). */
  dispose(reason: string): void {
    this.publisher?.kick(reason);
    for (const s of [...this.subs]) s.close(reason);
  }
}
