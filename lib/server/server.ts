/**
 * startServer(config) → a running lal server: RTMP(S) listeners, the media HTTP port(s), the HTTP
 * API, the 1-second tick. `close()` stops listening, closes every session and resolves.
 * Failing to bind a plain address rejects (the command exits 1 naming it); TLS listeners that
 * cannot load their certificate are logged and skipped (docs/config.md §3.2, §3.4).
 *
 * Inside: sessions (lib/server/sessions) bind protocol connections to the StreamHub; each Stream
 * fans one packet out to every output through its branches — the picture, from Stream.write to
 * every player, recorder and HLS file, is at the top of lib/server/stream.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { arch, platform } from 'node:os';
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { formatReadableTime } from '../core/time-format.ts';
import { API_VERSION, LAL_VERSION, NOTIFY_VERSION, WEB_UI_VERSION } from '../core/version.ts';
import { listenTcp, type TcpListener, type TlsFiles } from '../net/tcp.ts';
import { serveFetch, type HttpListener } from '../net/http.ts';
import { createApiApp } from '../api/app.ts';
import type { ServerControl } from '../api/control.ts';
import type { LalInfo, StatGroup } from '../api/types.ts';
import { parseListenAddr, type LalConfig } from './config.ts';
import { StreamHub } from './hub.ts';
import { EMPTY_STAT_SESSION, SessionIdGen } from './stat.ts';
import type { Stream } from './stream.ts';
import { CloseReason } from './output.ts';
import type { LiveSession, OutputLimits, ServerContext } from './context.ts';
import { RtmpSession } from './sessions/rtmp.ts';
import { startRtspListeners, type RtspListeners } from './sessions/rtsp.ts';
import { MediaOutputs } from './media-outputs.ts';
import { tsBranchDef } from './ts-branch.ts';
import { rtpBranchDef } from './rtp-branch.ts';
import { HlsSessionTracker } from './sessions/hls.ts';
import { DiskStore, MemoryStore } from '../protocol/hls/store.ts';
import { HlsCleanup } from '../protocol/hls/muxer.ts';
import { HttpMediaConn, type HttpModule, type HttpRoutes } from './sessions/http-media.ts';
import { simpleAuthWarnings } from './simple-auth.ts';

export interface RunningServer {
  /** Bound ports (useful with port 0 in tests). */
  readonly ports: { rtmp?: number; rtmps?: number; http?: number; https?: number; api?: number; rtsp?: number; rtsps?: number; wsRtsp?: number };
  readonly hub: StreamHub;
  readonly control: ServerControl;
  /** The shared server context (for in-process extensions and tests). */
  readonly ctx: ServerContext;
  close(): Promise<void>;
}

/** Bitrates are recomputed on this tick period (docs/http-api.md §3.3). */
const BITRATE_INTERVAL_SEC = 5;

export async function startServer(config: LalConfig, opts: { log?: Logger; limits?: OutputLimits } = {}): Promise<RunningServer> {
  const log = opts.log ?? silentLogger;
  for (const w of simpleAuthWarnings(config.simple_auth)) log.warn(w);
  const gopNum = Math.max(config.rtmp.gop_num, config.httpflv.gop_num, config.httpts.gop_num, 0);
  const hlsOn = config.hls.enable || config.hls.enable_https;
  const tsOn = hlsOn || config.httpts.enable || config.httpts.enable_https || config.record.enable_mpegts;
  const hlsStore = hlsOn ? (config.hls.use_memory_as_disk_flag ? new MemoryStore({ log }) : new DiskStore()) : undefined;
  const hlsCleanup = hlsStore ? new HlsCleanup({ store: hlsStore, outPath: config.hls.out_path, log }) : undefined;
  const branches = { ts: tsOn ? tsBranchDef({ gopNum: config.httpts.gop_num, log }) : undefined, rtp: rtpBranchDef({ log }) };
  const media = new MediaOutputs(config, log, branches.ts, hlsStore, hlsCleanup);
  const ctx: ServerContext = {
    config,
    limits: opts.limits ?? {},
    branches,
    hub: new StreamHub({ gopNum, log, hooks: media }),
    ids: new SessionIdGen(),
    log,
    sessions: new Set<LiveSession>(),
    hlsStore,
  };
  media.hub = ctx.hub;
  if (hlsOn && config.hls.sub_session_hash_key) {
    ctx.hlsSessions = new HlsSessionTracker(ctx, log);
    ctx.sessions.add(ctx.hlsSessions);
  }
  for (const [on, dir] of [[config.record.enable_flv, config.record.flv_out_path], [config.record.enable_mpegts, config.record.mpegts_out_path]] as const) {
    if (!on) continue;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      log.error(`record: cannot create ${dir}: ${errorText(e)}`);
    }
  }
  const startTime = formatReadableTime(new Date());
  const tcpListeners: TcpListener[] = [];
  const httpListeners: HttpListener[] = [];
  const ports: RunningServer['ports'] = {};

  let rtsp: RtspListeners | undefined;
  const stopAll = () => {
    rtsp?.stop();
    for (const l of tcpListeners) l.stop(true);
    for (const l of httpListeners) l.stop();
  };

  const tls = (cert: string, key: string, what: string): TlsFiles | undefined => {
    if (!existsSync(cert) || !existsSync(key)) {
      log.warn(`${what}: certificate ${cert} or key ${key} not found, ${what} disabled`);
      return undefined;
    }
    return { certFile: cert, keyFile: key };
  };

  try {
    // RTMP / RTMPS
    const rtmpConn = (conn: Parameters<Parameters<typeof listenTcp>[0]['onConn']>[0]) => new RtmpSession(ctx, conn);
    if (config.rtmp.enable) {
      const a = parseListenAddr(config.rtmp.addr);
      const l = listenTcp({ host: a.host, port: a.port, log, onConn: rtmpConn });
      tcpListeners.push(l);
      ports.rtmp = l.port;
      log.info(`rtmp listening on ${a.host}:${l.port}`);
    }
    if (config.rtmp.rtmps_enable) {
      const files = tls(config.rtmp.rtmps_cert_file, config.rtmp.rtmps_key_file, 'rtmps');
      if (files) {
        try {
          const a = parseListenAddr(config.rtmp.rtmps_addr);
          const l = listenTcp({ host: a.host, port: a.port, log, tls: files, onConn: rtmpConn });
          tcpListeners.push(l);
          ports.rtmps = l.port;
          log.info(`rtmps listening on ${a.host}:${l.port}`);
        } catch (e) {
          log.error(`rtmps disabled: ${errorText(e)}`);
        }
      }
    }

    // Media HTTP: modules with the same address share one listener (docs/urls.md §7).
    const plain = new Map<string, HttpRoutes>();
    const secure = new Map<string, { routes: HttpRoutes; cert: string; key: string }>();
    const mods: [HttpModule, LalConfig['httpflv'] | LalConfig['hls']][] = [['flv', config.httpflv], ['ts', config.httpts], ['hls', config.hls]];
    for (const [m, mc] of mods) {
      const pattern = mc.url_pattern || (m === 'hls' ? '/hls/' : '/');
      if (mc.enable && mc.http_listen_addr) {
        const r = plain.get(mc.http_listen_addr) ?? { patterns: [], https: false };
        r.patterns.push({ prefix: pattern, module: m });
        plain.set(mc.http_listen_addr, r);
      }
      if (mc.enable_https && mc.https_listen_addr) {
        const e = secure.get(mc.https_listen_addr) ?? { routes: { patterns: [], https: true }, cert: mc.https_cert_file, key: mc.https_key_file };
        e.routes.patterns.push({ prefix: pattern, module: m });
        secure.set(mc.https_listen_addr, e);
      }
    }
    for (const [addr, routes] of plain) {
      const a = parseListenAddr(addr);
      const l = listenTcp({ host: a.host, port: a.port, log, onConn: (conn) => new HttpMediaConn(ctx, conn, routes) });
      tcpListeners.push(l);
      ports.http ??= l.port;
      log.info(`http (${routes.patterns.map((p) => `${p.module}:${p.prefix}`).join(' ')}) listening on ${a.host}:${l.port}`);
    }
    for (const [addr, e] of secure) {
      const files = tls(e.cert, e.key, 'https');
      if (!files) continue;
      try {
        const a = parseListenAddr(addr);
        const l = listenTcp({ host: a.host, port: a.port, log, tls: files, onConn: (conn) => new HttpMediaConn(ctx, conn, e.routes) });
        tcpListeners.push(l);
        ports.https ??= l.port;
        log.info(`https listening on ${a.host}:${l.port}`);
      } catch (err) {
        log.error(`https disabled: ${errorText(err)}`);
      }
    }
  } catch (e) {
    stopAll();
    throw e;
  }

  // RTSP, RTSPS and RTSP over WebSocket (docs/config.md §3.8).
  if (config.rtsp.enable || config.rtsp.rtsps_enable || config.rtsp.ws_rtsp_enable) {
    try {
      rtsp = await startRtspListeners(ctx);
    } catch (e) {
      stopAll();
      throw e;
    }
    Object.assign(ports, rtsp.ports);
  }

  const control = createControl(ctx, startTime);
  if (config.http_api.enable) {
    try {
      const a = parseListenAddr(config.http_api.addr);
      const app = createApiApp(control, { log: log.withTag('api') });
      const l = serveFetch({ host: a.host, port: a.port, fetch: (req) => app.fetch(req) });
      httpListeners.push(l);
      ports.api = l.port;
      log.info(`http api listening on ${a.host}:${l.port}`);
    } catch (e) {
      stopAll();
      throw e;
    }
  }
  if (config.pprof.enable) log.debug('pprof is a Go profiler; lal does not serve it (pprof.enable ignored)');
  // Accepted keys whose features are not built yet: say so once instead of silently ignoring them.
  const notYet: [boolean, string][] = [
    [config.relay_push.enable, 'relay_push'],
    [config.static_relay_pull.enable, 'static_relay_pull'],
    [config.http_notify.enable, 'http_notify'],
    [config.in_session.add_dummy_audio_enable, 'in_session.add_dummy_audio_enable'],
    [config.gb28181.enable, 'gb28181'],
    [config.rtmp.merge_write_size > 0, 'rtmp.merge_write_size (each packet is written at once)'],
  ];
  for (const [on, what] of notYet) if (on) log.warn(`${what} is enabled in the config but not implemented in lal ${LAL_VERSION} yet; ignored`);

  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    const now = performance.now();
    try {
      for (const s of [...ctx.sessions]) s.tick(now);
      ctx.hub.tick(now);
      if (ticks % BITRATE_INTERVAL_SEC === 0) {
        for (const s of ctx.sessions) {
          if (s.updateBitrate) s.updateBitrate(BITRATE_INTERVAL_SEC);
          else s.stat.updateBitrate(BITRATE_INTERVAL_SEC);
        }
      }
    } catch (e) {
      log.error(`tick failed: ${errorText(e)}`);
    }
  }, 1000);

  let closed = false;
  return {
    ports,
    hub: ctx.hub,
    control,
    ctx,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // Sessions first, so each logs "server shutdown" rather than the socket close it causes.
      for (const s of [...ctx.sessions]) s.close(CloseReason.Shutdown);
      ctx.hub.dispose(CloseReason.Shutdown);
      stopAll();
      hlsCleanup?.close();
    },
  };
}

function statGroup(s: Stream): StatGroup {
  // docs/http-api.md §3.2: RTMP, FLV, TS, RTSP, HLS players in that order (recorders and
  // branches are outputs, not sessions, so they are not listed).
  const order: Record<string, number> = { RTMP: 0, FLV: 1, TS: 2, RTSP: 3, HLS: 4 };
  const subs = s
    .sessions()
    .sort((a, b) => (order[a.stat.protocol] ?? 9) - (order[b.stat.protocol] ?? 9))
    .map((x) => x.stat.toJSON());
  return {
    stream_name: s.name,
    app_name: s.appName,
    audio_codec: s.audioCodec,
    video_codec: s.videoCodec,
    video_width: s.videoWidth,
    video_height: s.videoHeight,
    pub: s.publisher ? s.publisher.stat.toJSON() : { ...EMPTY_STAT_SESSION },
    subs: subs.length ? subs : null,
    pull: { ...EMPTY_STAT_SESSION },
    in_frame_per_sec: s.fps.list(Math.floor(Date.now() / 1000)),
  } as StatGroup;
}

function createControl(ctx: ServerContext, startTime: string): ServerControl {
  const binInfo = `GitTag=${LAL_VERSION}. GitCommitLog=unknown. GitStatus=unknown. BuildTime=unknown. GoVersion=bun ${process.versions.bun ?? "unknown"}. runtime=${platform()}/${arch()}.`;
  return {
    lalInfo: (): LalInfo =>
      ({
        server_id: ctx.config.server_id,
        bin_info: binInfo,
        lal_version: `v${LAL_VERSION}`,
        api_version: API_VERSION,
        notify_version: NOTIFY_VERSION,
        WebUiVersion: WEB_UI_VERSION,
        start_time: startTime,
      }) as LalInfo,
    statGroup: (name) => {
      const s = ctx.hub.get(name);
      return s ? statGroup(s) : undefined;
    },
    statAllGroups: () => [...ctx.hub.streams.values()].map(statGroup),
    kickSession: (name, id) => {
      const s = ctx.hub.get(name);
      if (!s) return 'group-not-found';
      return s.kick(id, CloseReason.Kicked) ? 'ok' : 'session-not-found';
    },
  };
}
