/**
 * One RTMP client session (push or pull) over lib/net: connect (TLS for rtmps), run the
 * RtmpClientConn until `NetStream.Publish.Start` / `NetStream.Play.Start` within one start
 * deadline, then report how the session ends as a promise. Shared by `lal push`, `lal pull`,
 * `lal remux rtmp://…` and the relay (which pulls from and pushes to remote servers: both
 * directions, an abort signal, and an end reason it can decide a reconnect on).
 *
 * Errors before the start reject `openRtmpClient` with a LalError whose message starts with the
 * caller's tag (`pull: cannot connect to 127.0.0.1:1935: …`, `remux: rtmp://…: not playing
 * after 10000 ms`); codes `connect`, `timeout`, `closed`, `aborted`, or the RtmpClientConn's own
 * (`protocol` …) for an error the server answered with. An invalid URL throws parseRtmpUrl's
 * ParseError before anything is opened.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { LalError, errorText, type LalErrorCode } from '../core/errors.ts';
import { connectTcp, type TcpConn } from '../net/tcp.ts';
import { RtmpClientConn } from '../protocol/rtmp/client-conn.ts';
import type { RtmpMessage } from '../protocol/rtmp/chunk-reader.ts';
import { parseRtmpUrl } from '../protocol/rtmp/url.ts';

/** Connect, handshake and publish/play must finish within this by default (LAL's 10 s). */
export const RTMP_CLIENT_START_TIMEOUT_MS = 10_000;

export interface RtmpClientOptions {
  url: string;
  mode: 'publish' | 'play';
  log?: Logger;
  /** Connect + handshake + publish/play deadline, ms (default RTMP_CLIENT_START_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Once started: end the session (reason `read-timeout`) after this long without a byte from the server. */
  readTimeoutMs?: number;
  /** Aborts a start in progress (rejects, code `aborted`) or ends a started session (reason `aborted`). */
  signal?: AbortSignal;
  /** First word of error messages; default `push` (publish) / `pull` (play). */
  tag?: string;
  /** Play: every audio, video and data message. A throw ends the session (reason `error`). */
  onMedia?: (msg: RtmpMessage) => void;
  /** Every chunk the socket delivers (byte counting). */
  onBytes?: (n: number) => void;
  /** The socket drained its pending bytes (publish back-pressure); also called once at the end. */
  onDrain?: () => void;
}

/**
 * Why a started session ended: the server closed the connection, an error (the server's, or a
 * throw from `onMedia`), the read timeout, the signal, or `close()`.
 */
export type RtmpSessionEndReason = 'closed' | 'error' | 'read-timeout' | 'aborted' | 'local';

export interface RtmpSessionEnd {
  reason: RtmpSessionEndReason;
  /** For `closed`, `error` and `read-timeout`. */
  error?: Error;
}

export interface RtmpClientSession {
  readonly conn: TcpConn;
  readonly client: RtmpClientConn;
  /** Why the session ended (for `closed`, `error`, `read-timeout`), once it ended. */
  readonly error: Error | undefined;
  readonly closed: boolean;
  /** Resolves when the session ends, for any reason (never rejects). */
  readonly ended: Promise<RtmpSessionEnd>;
  /** Bytes received from the server. */
  readonly bytesIn: number;
  /** Close the connection (after flushing what is queued); `ended` resolves with `local`. */
  close(): void;
}

/**
 * Connect and start publishing/playing `url`; resolves once the server answered
 * `NetStream.Publish.Start` / `NetStream.Play.Start`, rejects on error, close, abort or timeout.
 */
export async function openRtmpClient(opts: RtmpClientOptions): Promise<RtmpClientSession> {
  const u = parseRtmpUrl(opts.url);
  const tag = opts.tag ?? (opts.mode === 'publish' ? 'push' : 'pull');
  const action = opts.mode === 'publish' ? 'publish' : 'play';
  const fail = (code: LalErrorCode, why: string, cause?: unknown) => new LalError(code, `${tag}: ${opts.url}: ${why}`, { cause });
  const signal = opts.signal;
  if (signal?.aborted) throw fail('aborted', `stopped before ${action} started`);

  let client: RtmpClientConn | undefined;
  let started = false;
  let end: RtmpSessionEnd | undefined;
  let bytesIn = 0;
  let lastDataAt = performance.now();
  let startResolve!: () => void;
  let startReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    startResolve = res;
    startReject = rej;
  });
  ready.catch(() => {});
  let endedResolve!: (e: RtmpSessionEnd) => void;
  const ended = new Promise<RtmpSessionEnd>((r) => (endedResolve = r));
  let conn: TcpConn | undefined;
  let readTimer: ReturnType<typeof setInterval> | undefined;

  /** The session is over: report it once (a start in progress rejects instead), then let go of the socket. */
  const finish = (e: RtmpSessionEnd, startError?: Error): void => {
    if (end) return;
    end = !started && startError && !e.error ? { ...e, error: startError } : e;
    client?.close();
    clearInterval(readTimer);
    signal?.removeEventListener('abort', onAbort);
    if (!started) startReject(end.error ?? fail('closed', `connection closed before ${action} started`));
    if (e.reason === 'closed') conn?.sink.close();
    else conn?.sink.closeAfterFlush();
    opts.onDrain?.();
    endedResolve(end);
  };
  const onAbort = (): void => finish({ reason: 'aborted' }, fail('aborted', `stopped before ${action} started`));
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    conn = await connectTcp({
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
            onStarted: () => {
              started = true;
              startResolve();
            },
            onMedia: (m) => {
              if (end || !opts.onMedia) return;
              try {
                opts.onMedia(m);
              } catch (e) {
                finish({ reason: 'error', error: e instanceof Error ? e : new Error(String(e)) });
              }
            },
            onError: (e) => {
              const err = e instanceof LalError ? new LalError(e.code, `${tag}: ${opts.url}: ${e.message}`, { cause: e }) : fail('protocol', e.message, e);
              finish({ reason: 'error', error: err });
            },
          },
        });
        if (opts.onDrain) c.sink.onDrain = opts.onDrain;
        return {
          onData: (d) => {
            bytesIn += d.length;
            lastDataAt = performance.now();
            opts.onBytes?.(d.length);
            client!.feed(d);
          },
          onClose: (err) => {
            const why = started ? 'connection closed by the server' : `connection closed before ${action} started${err ? ` (${err.message})` : ''}`;
            finish({ reason: 'closed', error: fail('closed', why, err) });
          },
        };
      },
    });
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    if (end?.reason === 'aborted') throw fail('aborted', `stopped before ${action} started`);
    throw new LalError('connect-failed', `${tag}: cannot connect to ${u.host}:${u.port}: ${errorText(e)}`, { cause: e });
  }
  if (end) {
    // aborted while connecting
    conn.sink.close();
    await ready; // rejects with the reason
  }
  client!.start();

  const timeout = opts.timeoutMs ?? RTMP_CLIENT_START_TIMEOUT_MS;
  const timer = setTimeout(() => finish({ reason: 'error' }, fail('timeout', `not ${opts.mode === 'publish' ? 'publishing' : 'playing'} after ${timeout} ms`)), timeout);
  try {
    await ready;
  } finally {
    clearTimeout(timer);
  }

  const readTimeout = opts.readTimeoutMs;
  if (readTimeout !== undefined && readTimeout > 0) {
    lastDataAt = performance.now();
    readTimer = setInterval(
      () => {
        if (performance.now() - lastDataAt > readTimeout) finish({ reason: 'read-timeout', error: fail('timeout', `no data for ${readTimeout} ms`) });
      },
      Math.max(20, Math.min(1000, readTimeout / 10)),
    );
  }

  const c = conn;
  return {
    conn: c,
    client: client!,
    get error() {
      return end?.error;
    },
    get closed() {
      return end !== undefined;
    },
    ended,
    get bytesIn() {
      return bytesIn;
    },
    close() {
      finish({ reason: 'local' });
    },
  };
}
