/**
 * The media HTTP port (`default_http.http_listen_addr`): HTTP-FLV and WebSocket-FLV players now,
 * HTTP-TS and HLS later (urls.md §5–§8, protocols.md §4). Our own HTTP/1.1 handling over TCP so
 * the response head is LAL's (no chunked encoding, `Connection: close`) and media bytes are the
 * shared per-packet buffers. Routing is longest-prefix over the modules' url_patterns.
 */
import type { TcpConn, ConnHandler } from '../../net/tcp.ts';
import type { Logger } from '../../core/log.ts';
import { errorText } from '../../core/errors.ts';
import { FLV_HEADER } from '../../format/flv/header.ts';
import { HttpRequestParser, isWebSocketUpgrade, splitUrlPath, type HttpRequest } from '../../protocol/http/request.ts';
import { WsFrameReader, WsOpcode, encodeWsFrame, wsAcceptKey } from '../../protocol/http/ws.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { SessionStat } from '../stat.ts';
import { PacketOutput, type Framer } from '../output.ts';
import { flvFramer, wsFlvFramer } from '../framers.ts';
import type { Presence, Stream } from '../stream.ts';
import { checkSimpleAuth } from '../simple-auth.ts';
import type { LiveSession, ServerContext } from '../context.ts';
import { TsOutput } from '../ts-branch.ts';
import { HlsContentType, hlsFilePath, resolveHlsRequest } from '../../protocol/hls/path.ts';
import { rewritePlaylistForSession, sessionIdFromQuery, sessionRedirectBody, sessionRedirectLocation, type HlsSubSession } from '../../protocol/hls/sessions.ts';

export type HttpModule = 'flv' | 'ts' | 'hls';

const SERVER = `lal${LAL_VERSION}`;
const CORS = 'Access-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: Content-Type\r\n';
/** An idle connection that never completes its request head is closed after this long. */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;

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

export function simpleResponse(status: number, reason: string, body = '', contentType = 'text/plain; charset=utf-8'): Uint8Array {
  const b = enc.encode(body);
  const head = enc.encode(`HTTP/1.1 ${status} ${reason}\r\nServer: ${SERVER}\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n${CORS}\r\n`);
  const out = new Uint8Array(head.length + b.length);
  out.set(head);
  out.set(b, head.length);
  return out;
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

export class HttpMediaConn implements ConnHandler, LiveSession, Presence {
  stat: SessionStat;
  private log: Logger;
  private parser: HttpRequestParser | undefined = new HttpRequestParser();
  private ws: WsFrameReader | undefined;
  private output: PacketOutput | TsOutput | undefined;
  private stream: Stream | undefined;
  closed = false;
  private readonly openedAt = performance.now();

  constructor(private readonly ctx: ServerContext, private readonly conn: TcpConn, private readonly routes: HttpRoutes) {
    // Replaced by the player's id once the request is known.
    this.stat = new SessionStat('', 'FLV', 'SUB', conn.remoteAddr);
    this.log = ctx.log;
    ctx.sessions.add(this);
  }

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      if (this.parser) {
        const r = this.parser.feed(chunk);
        if (!r) return;
        this.parser = undefined;
        this.handleRequest(r.request);
        if (r.rest.length && !this.closed) this.afterRequest(r.rest);
        return;
      }
      this.afterRequest(chunk);
    } catch (e) {
      this.log.warn(`http ${this.conn.remoteAddr}: ${errorText(e)}`);
      if (!this.output) this.conn.sink.write(simpleResponse(400, 'Bad Request', 'bad request\n'));
      this.close('bad request', true);
    }
  }

  /** Bytes after the request: WebSocket frames, or (plain HTTP) the player is finished (LAL). */
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
      // Text/binary/pong from a player are ignored (quirks.md Q-SUB-4 FIX).
    }
  }

  onClose(): void {
    this.close('peer closed');
  }

  private reply(status: number, reason: string, body?: string): void {
    this.conn.sink.write(simpleResponse(status, reason, body ?? `${status} ${reason.toLowerCase()}\n`));
    this.close(`${status}`, true);
  }

  private handleRequest(req: HttpRequest): void {
    const mod = matchRoute(this.routes, req.path);
    const { dir, last } = splitUrlPath(req.path);
    if (mod === 'flv' || mod === 'ts') {
      if (last.endsWith('.flv') && this.moduleOn('flv')) return this.startFlv(req, dir, last.slice(0, -4));
      if (last.endsWith('.ts') && this.moduleOn('ts')) return this.startTs(req, dir, last.slice(0, -3));
      return this.reply(404, 'Not Found');
    }
    if (mod === 'hls') return this.serveHls(req);
    return this.reply(404, 'Not Found');
  }

  /** HLS playlists and fragments from the segment store (hls.md §6); never outside out_path. */
  private serveHls(req: HttpRequest): void {
    const cfg = this.ctx.config;
    const store = this.ctx.hlsStore;
    const info = resolveHlsRequest(req.target, cfg.hls.url_pattern || '/hls/');
    if ('error' in info || !store) return this.reply(404, 'Not Found');
    if (info.fileType === 'm3u8' && checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.hls_m3u8_enable, info.streamName, req.query)) {
      // quirks.md Q-HLS-2: FIXed to 403 (upstream answers an empty 200).
      return this.reply(403, 'Forbidden');
    }
    // hls.md §7: player sessions when a hash key is configured.
    const tracker = this.ctx.hlsSessions;
    let session: HlsSubSession | undefined;
    if (tracker?.enabled) {
      const hash = sessionIdFromQuery(req.query);
      if (hash) {
        session = tracker.table.touch(hash);
        if (!session) return this.reply(404, 'Not Found');
      } else if (info.fileType === 'm3u8') {
        const host = req.headers.host ?? '';
        const created = tracker.create({ streamName: info.streamName, appName: info.appName, url: `http://${host}${req.target}`, urlParam: req.query, remoteAddr: this.conn.remoteAddr });
        if (!created) return this.reply(503, 'Service Unavailable', 'too many hls sessions\n');
        const q = req.target.indexOf('?');
        const loc = sessionRedirectLocation(q >= 0 ? req.target.slice(0, q) : req.target, req.query, created.hash);
        const b = enc.encode(sessionRedirectBody(loc));
        this.conn.sink.write(enc.encode(`HTTP/1.1 302 Found\r\nServer: ${SERVER}\r\nLocation: ${loc}\r\nCache-Control: no-cache\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${b.length}\r\nConnection: close\r\n${CORS}\r\n`));
        this.conn.sink.write(b);
        return this.close('hls redirect', true);
      }
    }
    let body: Uint8Array | undefined;
    try {
      body = store.readFile(hlsFilePath(cfg.hls.out_path, info.streamName, info.fileName));
    } catch {
      body = undefined;
    }
    if (!body) return this.reply(404, 'Not Found');
    if (session) {
      if (info.fileType === 'm3u8') body = enc.encode(rewritePlaylistForSession(new TextDecoder().decode(body), session.hash));
      tracker!.table.addBytes(session, body.length);
    }
    const head = enc.encode(
      `HTTP/1.1 200 OK\r\nServer: ${SERVER}\r\nCache-Control: no-cache\r\nContent-Type: ${HlsContentType[info.fileType]}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${CORS}\r\n`,
    );
    this.conn.sink.write(head);
    if (req.method !== 'HEAD') this.conn.sink.write(body);
    this.close('hls served', true);
  }

  private startTs(req: HttpRequest, appName: string, streamName: string): void {
    const cfg = this.ctx.config;
    const def = this.ctx.branches.ts;
    if (!streamName || !def) return this.reply(404, 'Not Found');
    if (checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_httpts_enable, streamName, req.query)) {
      this.log.warn(`http-ts ${streamName} from ${this.conn.remoteAddr} refused: simple auth`);
      this.close('auth failed');
      return;
    }
    const isWs = isWebSocketUpgrade(req);
    const sink = this.conn.sink;
    this.stat = new SessionStat(this.ctx.ids.next('TSPUBSUB'), 'TS', 'SUB', this.conn.remoteAddr);
    this.stat.source = { read: () => 0, wrote: () => sink.bytesWritten };
    this.log = this.ctx.log.withTag(this.stat.sessionId);
    if (isWs) {
      const key = req.headers['sec-websocket-key'];
      if (!key) return this.reply(400, 'Bad Request', 'missing Sec-WebSocket-Key\n');
      sink.write(wsUpgradeHead(key));
      this.ws = new WsFrameReader();
    } else {
      sink.write(mediaResponseHead('video/mp2t'));
    }
    const opts = { gopNum: cfg.httpts.gop_num, singleGopMaxFrameNum: cfg.httpts.single_gop_max_frame_num, ...this.ctx.limits };
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
    if (!streamName) return this.reply(404, 'Not Found');
    if (checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_httpflv_enable, streamName, req.query)) {
      // behaviour.md §10: closed without writing any HTTP response.
      this.log.warn(`http-flv ${streamName} from ${this.conn.remoteAddr} refused: simple auth`);
      this.close('auth failed');
      return;
    }
    const isWs = isWebSocketUpgrade(req);
    this.stat = new SessionStat(this.ctx.ids.next('FLVPUBSUB'), 'FLV', 'SUB', this.conn.remoteAddr);
    const sink = this.conn.sink;
    this.stat.source = { read: () => 0, wrote: () => sink.bytesWritten };
    this.log = this.ctx.log.withTag(this.stat.sessionId);
    let framer: Framer;
    if (isWs) {
      const key = req.headers['sec-websocket-key'];
      if (!key) return this.reply(400, 'Bad Request', 'missing Sec-WebSocket-Key\n');
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
    this.output = new PacketOutput(sink, framer, opts, this.log, (reason) => this.close(reason));
    this.stream = this.ctx.hub.join(streamName, appName, this, this.output);
    this.log.info(`${isWs ? 'ws-flv' : 'http-flv'} player ${this.conn.remoteAddr} plays ${streamName}`);
  }

  tick(nowMs: number): void {
    if (!this.output && !this.closed && nowMs - this.openedAt > HTTP_REQUEST_TIMEOUT_MS) this.close('request timeout');
  }

  close(reason: string, flush = false): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.sessions.delete(this);
    if (this.output && this.stream) {
      this.stream.leave(this);
      this.log.info(`stop playing ${this.stream.name} (${reason})`);
    }
    if (flush) this.conn.sink.closeAfterFlush();
    else this.conn.sink.close();
  }
}
