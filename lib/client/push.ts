/**
 * Push an FLV file to an RTMP server (library form of `lal push`): connect, publish, then send the
 * file's tags, paced at their timestamps (`realtime`) or as fast as the socket takes them.
 * Back-pressure: never more than MAX_PUSH_PENDING bytes queued; we wait for the socket to drain.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { LalError, errorText } from '../core/errors.ts';
import { connectTcp } from '../net/tcp.ts';
import { RtmpClientConn } from '../protocol/rtmp/client-conn.ts';
import { parseRtmpUrl } from '../protocol/rtmp/url.ts';
import type { FlvTag } from '../format/flv/tag.ts';

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
  const u = parseRtmpUrl(opts.url);
  let client: RtmpClientConn | undefined;
  let started!: () => void;
  let failed!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    started = res;
    failed = rej;
  });
  let error: Error | undefined;
  let closed = false;
  let drainWaiter: (() => void) | undefined;
  const conn = await connectTcp({
    host: u.host,
    port: u.port,
    tls: u.scheme === 'rtmps',
    handler: (c) => {
      client = new RtmpClientConn({
        sink: c.sink,
        log,
        url: opts.url,
        mode: 'publish',
        handler: {
          onStarted: () => started(),
          onMedia: () => {},
          onError: (e) => {
            error = e;
            failed(e);
          },
        },
      });
      c.sink.onDrain = () => drainWaiter?.();
      return {
        onData: (d) => client!.feed(d),
        onClose: (err) => {
          closed = true;
          const e = err ?? new LalError('closed', `push: ${opts.url}: connection closed by the server`);
          error ??= e;
          failed(e);
          drainWaiter?.();
        },
      };
    },
  });
  client!.start();
  const timeout = opts.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new LalError('timeout', `push: ${opts.url}: not publishing after ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (e) {
    conn.sink.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }

  let sentTags = 0;
  const t0 = performance.now();
  const loops = (opts.loops ?? 0) + 1;
  let base = 0;
  let lastTs = 0;
  for (let l = 0; l < loops; l++) {
    const first = opts.tags[0]?.timestamp ?? 0;
    for (const tag of opts.tags) {
      if (opts.signal?.aborted || closed) break;
      if (l > 0 && (tag.type === 18 || isSeqHeader(tag))) continue; // headers once
      const ts = base + (tag.timestamp - first);
      lastTs = Math.max(lastTs, ts);
      if (opts.realtime) {
        const wait = t0 + ts - performance.now();
        if (wait > 1) await Bun.sleep(wait);
      }
      while (conn.sink.pendingBytes > MAX_PUSH_PENDING && !closed) {
        await new Promise<void>((r) => (drainWaiter = r));
        drainWaiter = undefined;
      }
      if (closed) break;
      client!.writeMedia(tag.type as 8 | 9 | 18, ts >>> 0, tag.body);
      sentTags++;
      opts.onProgress?.(sentTags);
    }
    base = lastTs + 40;
  }
  // Let the queue drain before closing (bounded).
  const end = performance.now() + 5000;
  while (conn.sink.pendingBytes > 0 && !closed && performance.now() < end) await Bun.sleep(10);
  const sentBytes = conn.sink.bytesWritten;
  const cutShort = closed || !!error;
  client!.close();
  conn.sink.closeAfterFlush();
  if (cutShort && !opts.signal?.aborted) {
    throw new LalError('closed', `push: ${opts.url}: stopped after ${sentTags} tags: ${error ? errorText(error) : 'connection closed'}`);
  }
  return { sentTags, sentBytes };
}

function isSeqHeader(t: FlvTag): boolean {
  if (t.type === 9) return (t.body[0] & 0x80) !== 0 ? (t.body[0] & 0x0f) === 0 : t.body[1] === 0;
  if (t.type === 8) return t.body[0] >> 4 === 10 && t.body[1] === 0;
  return false;
}
