/**
 * One RTMP client connection (push or pull) over lib/net: connect (TLS for rtmps), run the
 * RtmpClientConn, and report start/end as promises. Shared by `lal push` and `lal pull`.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { LalError } from '../core/errors.ts';
import { connectTcp, type TcpConn } from '../net/tcp.ts';
import { RtmpClientConn } from '../protocol/rtmp/client-conn.ts';
import type { RtmpMessage } from '../protocol/rtmp/chunk-reader.ts';
import { parseRtmpUrl } from '../protocol/rtmp/url.ts';

export interface RtmpClientSession {
  readonly conn: TcpConn;
  readonly client: RtmpClientConn;
  /** The error (or server close) that ended the connection, once it ended. */
  readonly error: Error | undefined;
  readonly closed: boolean;
  /** Resolves when the connection ends, for any reason. */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Connect and start publishing/playing `url`; resolves once the server answered
 * `NetStream.Publish.Start` / `NetStream.Play.Start`, rejects on error, close or `timeoutMs`.
 */
export async function openRtmpClient(opts: {
  url: string;
  mode: 'publish' | 'play';
  log?: Logger;
  timeoutMs?: number;
  onMedia?: (msg: RtmpMessage) => void;
  /** Every chunk the socket delivers (byte counting). */
  onBytes?: (n: number) => void;
  /** The socket drained its pending bytes (publish back-pressure). */
  onDrain?: () => void;
}): Promise<RtmpClientSession> {
  const u = parseRtmpUrl(opts.url);
  const what = opts.mode === 'publish' ? 'push' : 'pull';
  let client: RtmpClientConn | undefined;
  let error: Error | undefined;
  let closed = false;
  let started!: () => void;
  let failed!: (e: Error) => void;
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  const ready = new Promise<void>((res, rej) => {
    started = res;
    failed = rej;
  });
  const conn = await connectTcp({
    host: u.host,
    port: u.port,
    tls: u.scheme === 'rtmps',
    handler: (c) => {
      client = new RtmpClientConn({
        sink: c.sink,
        log: opts.log ?? silentLogger,
        url: opts.url,
        mode: opts.mode,
        handler: {
          onStarted: () => started(),
          onMedia: (m) => opts.onMedia?.(m),
          onError: (e) => {
            error ??= e;
            failed(e);
          },
        },
      });
      if (opts.onDrain) c.sink.onDrain = opts.onDrain;
      return {
        onData: (d) => {
          opts.onBytes?.(d.length);
          client!.feed(d);
        },
        onClose: (err) => {
          closed = true;
          error ??= err ?? new LalError('closed', `${what}: ${opts.url}: connection closed by the server`);
          failed(error);
          opts.onDrain?.();
          endedResolve();
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
        timer = setTimeout(() => rej(new LalError('timeout', `${what}: ${opts.url}: not ${opts.mode === 'publish' ? 'publishing' : 'playing'} after ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (e) {
    conn.sink.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    conn,
    client: client!,
    get error() {
      return error;
    },
    get closed() {
      return closed;
    },
    ended,
    close() {
      client!.close();
      conn.sink.closeAfterFlush();
    },
  };
}
