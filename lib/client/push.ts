/**
 * Push an FLV file to an RTMP server (library form of `lal push`): connect, publish, then send the
 * file's tags, paced at their timestamps (`realtime`) or as fast as the socket takes them.
 * Back-pressure: never more than MAX_PUSH_PENDING bytes queued; we wait for the socket to drain.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { LalError, errorText } from '../core/errors.ts';
import { openRtmpClient } from './rtmp-session.ts';
import { isFlvSequenceHeader, type FlvTag } from '../format/flv/tag.ts';

/** Stop reading ahead while this much is queued on the socket. */
export const MAX_PUSH_PENDING = 2 * 1024 * 1024;

export interface PushOptions {
  url: string;
  tags: FlvTag[];
  /** Pace tags at their timestamps (ffmpeg's -re). */
  realtime?: boolean;
  /** Repeat the tag list this many extra times (timestamps continue). */
  loops?: number;
  /** Connect + publish must finish within this (ms). */
  timeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
  onProgress?: (sentTags: number) => void;
}

export interface PushResult {
  sentTags: number;
  sentBytes: number;
}

export async function pushFlvTags(opts: PushOptions): Promise<PushResult> {
  const log = opts.log ?? silentLogger;
  let drainWaiter: (() => void) | undefined;
  const session = await openRtmpClient({ url: opts.url, mode: 'publish', log, timeoutMs: opts.timeoutMs, onDrain: () => drainWaiter?.() });
  const { conn, client } = session;

  let sentTags = 0;
  const t0 = performance.now();
  const loops = (opts.loops ?? 0) + 1;
  let base = 0;
  let lastTs = 0;
  for (let l = 0; l < loops; l++) {
    const first = opts.tags[0]?.timestamp ?? 0;
    for (const tag of opts.tags) {
      if (opts.signal?.aborted || session.closed) break;
      if (l > 0 && (tag.type === 18 || isFlvSequenceHeader(tag.type, tag.body))) continue; // headers once
      const ts = base + (tag.timestamp - first);
      lastTs = Math.max(lastTs, ts);
      if (opts.realtime) {
        const wait = t0 + ts - performance.now();
        if (wait > 1) await Bun.sleep(wait);
      }
      while (conn.sink.pendingBytes > MAX_PUSH_PENDING && !session.closed) {
        await new Promise<void>((r) => (drainWaiter = r));
        drainWaiter = undefined;
      }
      if (session.closed) break;
      client.writeMedia(tag.type as 8 | 9 | 18, ts >>> 0, tag.body);
      sentTags++;
      opts.onProgress?.(sentTags);
    }
    base = lastTs + 40;
  }
  // Let the queue drain before closing (bounded).
  const end = performance.now() + 5000;
  while (conn.sink.pendingBytes > 0 && !session.closed && performance.now() < end) await Bun.sleep(10);
  const sentBytes = conn.sink.bytesWritten;
  const cutShort = session.closed || !!session.error;
  session.close();
  if (cutShort && !opts.signal?.aborted) {
    throw new LalError('closed', `push: ${opts.url}: stopped after ${sentTags} tags: ${session.error ? errorText(session.error) : 'connection closed'}`);
  }
  return { sentTags, sentBytes };
}

