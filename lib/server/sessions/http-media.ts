/**
 * The media HTTP port (`default_http.http_listen_addr`, docs/urls.md §5–§8, docs/protocols.md
 * §4–§5, docs/hls.md §6): HTTP-FLV, WebSocket-FLV, HTTP-TS, WebSocket-TS and HLS over our own
 * HTTP/1.1 handling on TCP, so a player's response head is LAL's (no chunked encoding,
 * `Connection: close`) and its media bytes are the shared per-packet buffers. Routing is
 * longest-prefix over the modules' url_patterns.
 *
 * One connection, as LAL's Go HTTP server behaves:
 * - A media request (FLV/TS, plain or WebSocket) turns the connection into a player for good:
 *   LAL's exact head, then media until either side ends it. `HEAD` on a stream URL gets the same
 *   head and nothing else (no player is created).
 * - Every other answer (HLS playlists and fragments, their 404/403/302/503, unknown paths) carries
 *   `Date` and `Content-Length`, and the connection is kept alive for the next request (HTTP/1.1
 *   unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`; never for a request
 *   with a body, which is not read). Pipelined requests are answered in order, each one only once
 *   the previous answer has reached the kernel; at most MAX_PIPELINED_BYTES of further requests
 *   wait meanwhile.
 * - Bounds: each request head must be complete within HTTP_REQUEST_TIMEOUT_MS of its first byte
 *   (of connecting, for the first); a kept-alive connection with no new request for
 *   HTTP_KEEPALIVE_IDLE_MS closes; an answer that has not drained for DRAIN_TIMEOUT_MS (since its
 *   backlog began), or too many pipelined bytes behind it, closes as slow-consumer. Players are
 *   under their output's slow-player policy (SinkGuard).
 * - HLS files (docs/hls.md §6): a missing file is `404` with an empty body; any other store
 *   failure is `500`, logged at error. An exception that is not a LalError reaching this
 *   boundary is a bug: logged at error with its stack, answered 500; bad input is logged at warn
 *   and answered 400.
 */
import type { TcpConn, ConnHandler } from '../../net/tcp.ts';
import type { Logger } from '../../core/log.ts';
import { errorDetail, LalError } from '../../core/errors.ts';
import { FLV_HEADER } from '../../format/flv/header.ts';
import { HttpRequestParser, isWebSocketUpgrade, splitUrlPath, type HttpRequest } from '../../protocol/http/request.ts';
import { WsFrameReader, WsOpcode, encodeWsFrame, wsAcceptKey } from '../../protocol/http/ws.ts';
import { checkStreamName, quoteName } from '../../core/stream-name.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { concat } from '../../core/bytes.ts';
import { logBoundaryFailure } from './boundary.ts';
import { SessionStat } from '../stat.ts';
import { CloseReason, DRAIN_TIMEOUT_MS, PacketOutput, type Framer } from '../output.ts';
import { flvFramer, wsFlvFramer } from '../framers.ts';
import type { Presence, Stream } from '../stream.ts';
import { checkSimpleAuth } from '../simple-auth.ts';
import type { LiveSession, ServerContext } from '../context.ts';
import { TsOutput } from '../ts-branch.ts';
import { closeAfterFlush } from './reply-bound.ts';
import { HlsContentType, hlsFilePath, resolveHlsRequest } from '../../protocol/hls/path.ts';
import { rewritePlaylistForSession, sessionIdFromQuery, sessionRedirectBody, sessionRedirectLocation, type HlsSubSession } from '../../protocol/hls/sessions.ts';

export type HttpModule = 'flv' | 'ts' | 'hls';

const SERVER = `lal${LAL_VERSION}`;
const CORS = 'Access-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: Content-Type\r\n';
/** A request head must be complete this long after its first byte (after connecting, for the first). */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;
/**
 * A kept-alive connection closes when no new request begins for this long. HLS players ask for
 * the playlist every target duration (a few seconds), so a live player's connection stays.
 */
export const HTTP_KEEPALIVE_IDLE_MS = 30_000;
/** Bytes of pipelined requests held while an earlier answer is still being sent. */
export const MAX_PIPELINED_BYTES = 64 * 1024;

const enc = new TextEncoder();

export function mediaResponseHead(contentType: string): Uint8Array {
  return enc.encode(
    `HTTP/1.1 200 OK\r\nServer: ${SERVER}\r\nCache-Control: no-cache\r\nContent-Type: ${contentType}\r\nConnection: close\r\nExpires: -1\r\nPragma: no-cache\r\n${CORS}\r\n`,
  );
}

export function wsUpgradeHead(key: string, protocol?: string): Uint8Array {
  return enc.encode(
    `HTTP/1.1 101 Switching Protocols\r\nServer: ${SERVER}\r\nSec-WebSocket-Accept: ${wsAcceptKey(key)}\r\nKeep-Alive: timeout=15, max=100\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${CORS}${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`,
  );
}

/** `Date` as Go's net/http writes it (RFC 9110 §5.6.7 IMF-fixdate). */
export function httpDate(d = new Date()): string {
  return d.toUTCString();
}

/** How a non-media answer ends: the connection stays (`keep`), or closes after it. */
export type ConnMode = { keep: boolean; http10: boolean };

/** Does the client let this connection serve another request after `req` (RFC 9112 §9.3)? */
export function keepAliveMode(req: HttpRequest): ConnMode {
  const http10 = req.version === 'HTTP/1.0';
  const tokens = (req.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
  // a body we do not read would be taken for the next request
  const cl = req.headers['content-length'];
  const hasBody = (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
  const keep = !hasBody && (http10 ? tokens.includes('keep-alive') : !tokens.includes('close'));
  return { keep, http10 };
}

const CLOSE: ConnMode = { keep: false, http10: false };

function connectionHeader(m: ConnMode): string {
  if (!m.keep) return 'Connection: close\r\n';
  return m.http10 ? 'Connection: keep-alive\r\n' : '';
}

/**
 * A complete non-media answer: `Server`, `Date`, `Content-Length`, the CORS trio, `extra` header
 * lines, and the body unless `headOnly`. Returns the head and the body (shared, not copied).
 */
export function plainResponse(
  status: number,
  reason: string,
  o: { body?: Uint8Array | string; contentType?: string; mode?: ConnMode; extra?: string; headOnly?: boolean } = {},
): Uint8Array[] {
  const body = typeof o.body === 'string' ? enc.encode(o.body) : (o.body ?? new Uint8Array(0));
  const type = o.contentType ? `Content-Type: ${o.contentType}\r\n` : '';
  const head = enc.encode(
    `HTTP/1.1 ${status} ${reason}\r\nServer: ${SERVER}\r\nDate: ${httpDate()}\r\n${o.extra ?? ''}${type}Content-Length: ${body.length}\r\n${connectionHeader(o.mode ?? CLOSE)}${CORS}\r\n`,
  );
  return o.headOnly || body.length === 0 ? [head] : [head, body];
}

/** A text answer (errors outside HLS), the connection closed after it unless `mode` keeps it. */
export function simpleResponse(status: number, reason: string, body = '', mode: ConnMode = CLOSE): Uint8Array {
  return concat(plainResponse(status, reason, { body, contentType: 'text/plain; charset=utf-8', mode }));
}

/** Route table for one listener: url_pattern → module, matched longest prefix first. */
export interface HttpRoutes {
  patterns: { prefix: string; module: HttpModule }[];
  https: boolean;
}

export function matchRoute(routes: HttpRoutes, path: string): HttpModule | undefined {
  let best: { prefix: string; module: HttpModule } | undefined;
  for (const r of routes.patterns) {
    if (path.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best?.module;
}

/** What a connection is doing: reading a request head, idle between requests, or playing. */
type Phase = 'head' | 'idle' | 'player';

export class HttpMediaConn implements ConnHandler, LiveSession, Presence {
  stat: SessionStat;
  private log: Logger;
  private parser = new HttpRequestParser();
  private ws: WsFrameReader | undefined;
  private output: PacketOutput | TsOutput | undefined;
  private stream: Stream | undefined;
  closed = false;
  private phase: Phase = 'head';
  /** When the current phase began (for a head: its first byte; the connect for the first). */
  private phaseSince = performance.now();
  /** Pipelined bytes that arrived while an earlier answer was still being sent. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private requests = 0;

  constructor(private readonly ctx: ServerContext, private readonly conn: TcpConn, private readonly routes: HttpRoutes) {
    // Replaced by the player's id once the request is known.
    this.stat = new SessionStat('', 'FLV', 'SUB', conn.remoteAddr);
    this.log = ctx.log;
    conn.sink.onDrain = () => this.onDrained();
    ctx.sessions.add(this);
  }

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      if (this.phase === 'player') this.afterRequest(chunk);
      else if (this.conn.sink.pendingBytes > 0 || this.held.length > 0) this.hold(chunk);
      else this.consume(chunk);
    } catch (e) {
      this.failed(e);
    }
  }

  /** Parse and answer requests in `data`, in order, while answers leave at once. */
  private consume(data: Uint8Array): void {
    while (!this.closed && this.phase !== 'player' && data.length > 0) {
      if (this.phase === 'idle') {
        this.phase = 'head';
        this.phaseSince = performance.now();
      }
      const r = this.parser.feed(data);
      if (!r) return;
      this.parser = new HttpRequestParser();
      this.requests++;
      this.handleRequest(r.request);
      data = r.rest;
      if (this.closed) return;
      if (this.isPlayer()) {
        if (data.length > 0) this.afterRequest(data);
        return;
      }
      // answered, the connection stays: the next request waits until this answer is sent
      this.phase = 'idle';
      this.phaseSince = performance.now();
      if (this.conn.sink.pendingBytes > 0) {
        if (data.length > 0) this.hold(data);
        return;
      }
    }
  }

  /** Phase check that TS does not narrow away (handleRequest may start a player). */
  private isPlayer(): boolean {
    return this.phase === 'player';
  }

  private hold(chunk: Uint8Array): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_PIPELINED_BYTES) {
      this.log.warn(`http ${this.conn.remoteAddr}: closing: ${this.heldBytes} bytes of pipelined requests behind an answer it does not read`);
      this.close(CloseReason.SlowConsumer);
    }
  }

  /** An answer reached the kernel: answer the requests that waited behind it. */
  private onDrained(): void {
    if (this.closed || this.phase === 'player' || this.held.length === 0) return;
    const data = this.held.length === 1 ? this.held[0] : concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    try {
      this.consume(data);
    } catch (e) {
      this.failed(e);
    }
  }

  /** An exception reached the connection: a bug is logged with its stack, bad input at warn. */
  private failed(e: unknown): void {
    if (this.closed) return;
    const answer = this.phase !== 'player';
    if (logBoundaryFailure(this.log, e, `http ${this.conn.remoteAddr}: `)) {
      if (answer) this.conn.sink.write(simpleResponse(500, 'Internal Server Error', 'internal server error\n'));
      this.close('internal error', answer);
    } else {
      if (answer) this.conn.sink.write(simpleResponse(400, 'Bad Request', 'bad request\n'));
      this.close('bad request', answer);
    }
  }

  /** Bytes after a media request: WebSocket frames, or (plain HTTP) the player is finished (LAL). */
  private afterRequest(chunk: Uint8Array): void {
    if (!this.ws) {
      this.close('client sent data after request');
      return;
    }
    for (const f of this.ws.feed(chunk)) {
      if (f.opcode === WsOpcode.Close) {
        this.conn.sink.write(encodeWsFrame(WsOpcode.Close, f.payload.subarray(0, 2)));
        this.close('websocket close');
        return;
      }
      if (f.opcode === WsOpcode.Ping) this.conn.sink.write(encodeWsFrame(WsOpcode.Pong, f.payload));
      // Text/binary/pong from a player are ignored (docs/quirks.md Q-SUB-4 FIX).
    }
  }

  onClose(): void {
    this.close(CloseReason.PeerClosed);
  }

  /** Write a complete answer; the connection stays for the next request when `mode.keep`. */
  private answer(parts: Uint8Array[], mode: ConnMode, reason: string): void {
    for (const p of parts) this.conn.sink.write(p);
    if (!mode.keep) this.close(reason, true);
  }

  /** A text answer outside HLS (unknown path, refused upgrade). */
  private reply(status: number, reason: string, mode: ConnMode = CLOSE, body?: string): void {
    this.answer(plainResponse(status, reason, { body: body ?? `${status} ${reason.toLowerCase()}\n`, contentType: 'text/plain; charset=utf-8', mode }), mode, `${status}`);
  }

  private handleRequest(req: HttpRequest): void {
    const mode = keepAliveMode(req);
    const mod = matchRoute(this.routes, req.path);
    const { dir, last } = splitUrlPath(req.path);
    if (mod === 'flv' || mod === 'ts') {
      if (last.endsWith('.flv') && this.moduleOn('flv')) return this.startFlv(req, dir, last.slice(0, -4));
      if (last.endsWith('.ts') && this.moduleOn('ts')) return this.startTs(req, dir, last.slice(0, -3));
      return this.reply(404, 'Not Found', mode);
    }
    if (mod === 'hls') return this.serveHls(req, mode);
    return this.reply(404, 'Not Found', mode);
  }

  /** An HLS answer: `Date`, `Content-Length`, kept alive as the request allows (docs/hls.md §6). */
  private hlsAnswer(status: number, reason: string, mode: ConnMode, o: { body?: Uint8Array | string; contentType?: string; extra?: string; headOnly?: boolean } = {}): void {
    this.answer(plainResponse(status, reason, { ...o, mode }), mode, `hls ${status}`);
  }

  /** HLS playlists and fragments from the segment store (docs/hls.md §6); never outside out_path. */
  private serveHls(req: HttpRequest, mode: ConnMode): void {
    const cfg = this.ctx.config;
    const store = this.ctx.hlsStore;
    const notFound = () => this.hlsAnswer(404, 'Not Found', mode); // docs/hls.md §6: empty body
    const info = resolveHlsRequest(req.target, cfg.hls.url_pattern || '/hls/');
    if ('error' in info || !store) return notFound();
    if (info.fileType === 'm3u8' && checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.hls_m3u8_enable, info.streamName, req.query)) {
      // docs/quirks.md Q-HLS-2: FIXed to 403 (upstream answers an empty 200).
      return this.hlsAnswer(403, 'Forbidden', mode);
    }
    // docs/hls.md §7: player sessions when a hash key is configured.
    const tracker = this.ctx.hlsSessions;
    let session: HlsSubSession | undefined;
    if (tracker?.enabled) {
      const hash = sessionIdFromQuery(req.query);
      if (hash) {
        session = tracker.table.touch(hash);
        if (!session) return notFound();
      } else if (info.fileType === 'm3u8') {
        const host = req.headers.host ?? '';
        const created = tracker.create({ streamName: info.streamName, appName: info.appName, url: `${this.routes.https ? 'https' : 'http'}://${host}${req.target}`, urlParam: req.query, remoteAddr: this.conn.remoteAddr });
        if (!created) return this.hlsAnswer(503, 'Service Unavailable', mode, { body: 'too many hls sessions\n', contentType: 'text/plain; charset=utf-8' });
        const q = req.target.indexOf('?');
        const loc = sessionRedirectLocation(q >= 0 ? req.target.slice(0, q) : req.target, req.query, created.hash);
        return this.hlsAnswer(302, 'Found', mode, {
          body: sessionRedirectBody(loc),
          contentType: 'text/html; charset=utf-8',
          extra: `Location: ${loc}\r\nCache-Control: no-cache\r\n`,
          headOnly: req.method === 'HEAD',
        });
      }
    }
    let path: string;
    try {
      path = hlsFilePath(cfg.hls.out_path, info.streamName, info.fileName);
    } catch (e) {
      if (!(e instanceof LalError)) throw e;
      this.log.warn(`hls ${req.path}: ${e.message}`);
      return notFound();
    }
    let body: Uint8Array | undefined;
    try {
      body = store.readFile(path);
    } catch (e) {
      // a missing file is undefined; anything else is the server's failure, not the client's
      this.log.error(`hls ${req.path}: ${errorDetail(e)}`);
      return this.hlsAnswer(500, 'Internal Server Error', CLOSE);
    }
    if (!body) return notFound();
    if (session) {
      if (info.fileType === 'm3u8') body = enc.encode(rewritePlaylistForSession(new TextDecoder().decode(body), session.hash));
      tracker!.table.addBytes(session, body.length);
    }
    this.hlsAnswer(200, 'OK', mode, { body, contentType: HlsContentType[info.fileType], extra: 'Cache-Control: no-cache\r\n', headOnly: req.method === 'HEAD' });
  }

  /** `HEAD` on a stream URL: the player's head, no body, no player (the connection then closes). */
  private headOnly(contentType: string, what: string): void {
    this.conn.sink.write(mediaResponseHead(contentType));
    this.log.debug(`http ${this.conn.remoteAddr}: HEAD ${what} answered`);
    this.close('head request', true);
  }

  /** docs/quirks.md D-2: a stream name the hub would refuse is a 404, logged once. */
  private badName(what: string, name: string): boolean {
    const bad = checkStreamName(name);
    if (bad === undefined) return false;
    this.log.warn(`${what} ${quoteName(name)} from ${this.conn.remoteAddr} refused: the stream name ${bad}`);
    return true;
  }

  private startTs(req: HttpRequest, appName: string, streamName: string): void {
    const cfg = this.ctx.config;
    const def = this.ctx.branches.ts;
    if (!def || this.badName('http-ts', streamName)) return this.reply(404, 'Not Found', keepAliveMode(req));
    if (checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_httpts_enable, streamName, req.query)) {
      this.log.warn(`http-ts ${streamName} from ${this.conn.remoteAddr} refused: simple auth`);
      this.close('auth failed');
      return;
    }
    if (req.method === 'HEAD') return this.headOnly('video/mp2t', req.path);
    const isWs = isWebSocketUpgrade(req);
    const sink = this.conn.sink;
    this.stat = new SessionStat(this.ctx.ids.next('TSPUBSUB'), 'TS', 'SUB', this.conn.remoteAddr);
    this.stat.source = { read: () => 0, wrote: () => sink.bytesWritten };
    this.log = this.ctx.log.withTag(this.stat.sessionId);
    if (isWs) {
      const key = req.headers['sec-websocket-key'];
      if (!key) return this.reply(400, 'Bad Request', CLOSE, 'missing Sec-WebSocket-Key\n');
      sink.write(wsUpgradeHead(key));
      this.ws = new WsFrameReader();
    } else {
      sink.write(mediaResponseHead('video/mp2t'));
    }
    const opts = { gopNum: cfg.httpts.gop_num, singleGopMaxFrameNum: cfg.httpts.single_gop_max_frame_num, ...this.ctx.limits };
    this.phase = 'player';
    this.output = new TsOutput(sink, isWs, def, opts, this.log, (reason) => this.close(reason));
    this.stream = this.ctx.hub.join(streamName, appName, this, this.output);
    this.log.info(`${isWs ? 'ws-ts' : 'http-ts'} player ${this.conn.remoteAddr} plays ${streamName}`);
  }

  private moduleOn(m: HttpModule): boolean {
    const c = this.ctx.config;
    const mc = m === 'flv' ? c.httpflv : m === 'ts' ? c.httpts : c.hls;
    return this.routes.https ? mc.enable_https : mc.enable;
  }

  private startFlv(req: HttpRequest, appName: string, streamName: string): void {
    const cfg = this.ctx.config;
    if (this.badName('http-flv', streamName)) return this.reply(404, 'Not Found', keepAliveMode(req));
    if (checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_httpflv_enable, streamName, req.query)) {
      // docs/behaviour.md §10: closed without writing any HTTP response.
      this.log.warn(`http-flv ${streamName} from ${this.conn.remoteAddr} refused: simple auth`);
      this.close('auth failed');
      return;
    }
    if (req.method === 'HEAD') return this.headOnly('video/x-flv', req.path);
    const isWs = isWebSocketUpgrade(req);
    this.stat = new SessionStat(this.ctx.ids.next('FLVPUBSUB'), 'FLV', 'SUB', this.conn.remoteAddr);
    const sink = this.conn.sink;
    this.stat.source = { read: () => 0, wrote: () => sink.bytesWritten };
    this.log = this.ctx.log.withTag(this.stat.sessionId);
    let framer: Framer;
    if (isWs) {
      const key = req.headers['sec-websocket-key'];
      if (!key) return this.reply(400, 'Bad Request', CLOSE, 'missing Sec-WebSocket-Key\n');
      sink.write(wsUpgradeHead(key));
      sink.write(encodeWsFrame(WsOpcode.Binary, FLV_HEADER));
      this.ws = new WsFrameReader();
      framer = wsFlvFramer;
    } else {
      sink.write(mediaResponseHead('video/x-flv'));
      sink.write(FLV_HEADER);
      framer = flvFramer;
    }
    const opts = { gopNum: cfg.httpflv.gop_num, singleGopMaxFrameNum: cfg.httpflv.single_gop_max_frame_num, ...this.ctx.limits };
    this.phase = 'player';
    this.output = new PacketOutput(sink, framer, opts, this.log, (reason) => this.close(reason));
    this.stream = this.ctx.hub.join(streamName, appName, this, this.output);
    this.log.info(`${isWs ? 'ws-flv' : 'http-flv'} player ${this.conn.remoteAddr} plays ${streamName}`);
  }

  /** Players are timed by their output (SinkGuard); this bounds the request/answer phases. */
  tick(nowMs: number): void {
    if (this.closed || this.phase === 'player') return;
    const sink = this.conn.sink;
    if (sink.pendingBytes > 0) {
      // an answer the client does not read: the slow-player drain rule, from when it backed up
      const limit = this.ctx.limits.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
      if (nowMs - Math.max(sink.lastProgressAt, sink.backlogSince ?? 0) > limit) {
        this.log.warn(`http ${this.conn.remoteAddr}: closing: ${sink.pendingBytes} bytes of an answer not drained for ${Math.round(limit / 1000)} s`);
        this.close(CloseReason.SlowConsumer);
      }
      return;
    }
    if (this.phase === 'head' && nowMs - this.phaseSince > HTTP_REQUEST_TIMEOUT_MS) {
      this.log.debug(`http ${this.conn.remoteAddr}: closing: request head not complete within ${Math.round(HTTP_REQUEST_TIMEOUT_MS / 1000)} s`);
      this.close('request timeout');
    } else if (this.phase === 'idle' && nowMs - Math.max(this.phaseSince, sink.lastProgressAt) > HTTP_KEEPALIVE_IDLE_MS) {
      this.close('keep-alive idle timeout');
    }
  }

  close(reason: string, flush = false): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.sessions.delete(this);
    this.held = [];
    if (this.output && this.stream) {
      this.stream.leave(this);
      this.log.info(`stop playing ${this.stream.name} (${reason})`);
    } else {
      this.log.debug(`http ${this.conn.remoteAddr}: closed after ${this.requests} request(s) (${reason})`);
    }
    if (flush) closeAfterFlush(this.conn.sink);
    else this.conn.sink.close();
  }
}
