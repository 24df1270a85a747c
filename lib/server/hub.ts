/**
 * StreamHub (LAL's GroupManager): stream name → Stream; one publisher per stream, any number of
 * players; players may arrive first and wait; an empty stream is freed (behaviour.md §1–§3).
 */
import { LalError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { Stream, type Publisher, type StreamHooks } from './stream.ts';
import { TsPipeline } from './ts-pipeline.ts';
import type { Subscriber } from './subscriber.ts';

export interface HubOptions {
  /** GOPs kept per stream: the largest gop_num of any output. */
  gopNum: number;
  log: Logger;
  /** Build the MPEG-TS branch (HTTP-TS, HLS, TS record enabled) with this many TS GOPs cached. */
  ts?: { gopNum: number };
  hooks?: StreamHooks;
}

export class StreamHub {
  readonly streams = new Map<string, Stream>();
  constructor(private readonly opts: HubOptions) {}

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  private getOrCreate(name: string, appName: string): Stream {
    let s = this.streams.get(name);
    if (!s) {
      const log = this.opts.log;
      const ts = this.opts.ts ? new TsPipeline(this.opts.ts.gopNum, log) : undefined;
      s = new Stream(name, appName, this.opts.gopNum, log, (st) => {
        if (this.streams.get(st.name) === st) this.streams.delete(st.name);
      }, ts, this.opts.hooks);
      this.streams.set(name, s);
    }
    return s;
  }

  /** Attach a publisher; throws LalError('in-exist') when the stream already has one. */
  publish(name: string, appName: string, pub: Publisher): Stream {
    const s = this.getOrCreate(name, appName);
    if (s.publisher) {
      if (s.isEmpty) this.streams.delete(name);
      throw new LalError('in-exist', 'lal.logic: in stream already exist at group');
    }
    s.setPublisher(pub);
    return s;
  }

  subscribe(name: string, appName: string, sub: Subscriber): Stream {
    const s = this.getOrCreate(name, appName);
    s.addSubscriber(sub);
    return s;
  }

  tick(nowMs: number): void {
    for (const s of [...this.streams.values()]) {
      if (s.isEmpty) {
        this.streams.delete(s.name);
        continue;
      }
      s.tick(nowMs);
    }
  }

  dispose(reason: string): void {
    for (const s of [...this.streams.values()]) s.dispose(reason);
    this.streams.clear();
  }
}
