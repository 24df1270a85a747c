/**
 * StreamHub (LAL's GroupManager): stream name → Stream; one publisher per stream, any number of
 * players; players may arrive first and wait; an empty stream is freed (docs/behaviour.md §1–§3).
 */
import { LalError } from '../core/errors.ts';
import { checkStreamName, quoteName } from '../core/stream-name.ts';
import type { Logger } from '../core/log.ts';
import { Stream, type Attachment, type Presence, type Publisher, type StreamHooks } from './stream.ts';

export interface HubOptions {
  /** GOPs kept per stream: the largest gop_num of any output. */
  gopNum: number;
  log: Logger;
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
      s = new Stream(name, appName, this.opts.gopNum, this.opts.log, (st) => {
        if (this.streams.get(st.name) === st) this.streams.delete(st.name);
      }, this.opts.hooks);
      this.streams.set(name, s);
    }
    return s;
  }

  /**
   * Attach a publisher; throws LalError('bad-name') for a name checkStreamName refuses (sessions
   * check first and answer with their protocol's refusal; this is the backstop) and
   * LalError('in-exist') when the stream already has one.
   */
  publish(name: string, appName: string, pub: Publisher): Stream {
    assertStreamName(name);
    const s = this.getOrCreate(name, appName);
    if (s.publisher) {
      if (s.isEmpty) this.streams.delete(name);
      throw new LalError('in-exist', 'lal.logic: in stream already exist at group');
    }
    s.setPublisher(pub);
    return s;
  }

  /** Attach a session to `name` (creating the stream, which then waits for its publisher). */
  join(name: string, appName: string, p: Presence, media?: Attachment): Stream {
    assertStreamName(name);
    const s = this.getOrCreate(name, appName);
    s.join(p, media);
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

/** docs/quirks.md D-2: no stream exists under a name checkStreamName refuses. */
function assertStreamName(name: string): void {
  const bad = checkStreamName(name);
  if (bad !== undefined) throw new LalError('bad-name', `lal.logic: stream name ${quoteName(name)} ${bad}`);
}
