/**
 * RTSP server sessions (docs/protocols.md §3; docs/behaviour.md §3–§5.5, §12; docs/http-api.md §3.3–§3.4;
 * docs/quirks.md Q-RTSP-*, Q-API-11, Q-TMO-1): binds one control connection's RtspServerConn to the
 * hub, as a publisher (ANNOUNCE/RECORD, RTP in over interleaved TCP or UDP) or a player
 * (DESCRIBE/PLAY, RTP out over interleaved TCP, UDP, or RTSP-over-WebSocket frames).
 * RTSPS is the same over TLS; ws-rtsp (docs/protocols.md §3.7) upgrades an HTTP request first.
 *
 * Ids: the control connection is `RTSPSRVCMD<n>` (internal); ANNOUNCE makes it `RTSPPUB<n>`,
 * DESCRIBE `RTSPSUB<n>`. Byte accounting (docs/http-api.md §3.3): RTSP command text is not counted;
 * publishers count RTP/RTCP received and the RTCP receiver reports they send (docs/quirks.md Q-API-11 FIX);
 * players count RTP packet bytes sent. Errors end this session only, with one log line.
 *
 * Bounds (docs/architecture.md §1.7; every one ends the session with one log line naming it):
 * - Request phase: a connection must reach PLAY or RECORD within `commandTimeoutMs` (10 s,
 *   docs/quirks.md Q-TMO-1) of connecting — a total deadline, not an idle timer, so a client
 *   dribbling a byte a second is cut as surely as a silent one (ws-rtsp: the HTTP upgrade counts
 *   too). The exception is a DESCRIBE held for a stream that has no SDP yet: the client can do
 *   nothing but wait, so the hold is bounded by `idleTimeoutMs` (120 s, docs/behaviour.md §12,
 *   docs/quirks.md Q-TMO-1), and the 10 s deadline starts again when the answer is sent.
 * - Replies: until PLAY, and for publishers throughout, at most MAX_PENDING_REPLY_BYTES of
 *   answers may wait for a client that does not read (pipelined requests are cheap to send);
 *   past that the session closes as slow-consumer. A playing player's connection is under its
 *   RtpOutput's slow-player policy (SinkGuard) instead, answers included.
 * - UDP: at most MAX_UDP_PAIRS_PER_CONNECTION port pairs per connection; a repeated SETUP of a
 *   track reuses the track's pair; a SETUP past the limit is answered 461 (the client may use TCP).
 * - Started sessions: publishers with nothing received and players with nothing sent for
 *   `idleTimeoutMs` close. UDP output has no backpressure.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '../../core/log.ts';
import { errorText, LalError, ParseError } from '../../core/errors.ts';
import { checkStreamName, quoteName } from '../../core/stream-name.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { listenTcp, type ConnHandler, type TcpConn, type TcpListener } from '../../net/tcp.ts';
import type { TcpSink } from '../../net/sink.ts';
import { HttpRequestParser } from '../../protocol/http/request.ts';
import { WsFrameReader, WsOpcode, encodeWsFrame, wsAcceptKey } from '../../protocol/http/ws.ts';
import { RtspServerConn, type RtspDescribeResult, type RtspServerSetup, type RtspStreamInfo, type RtspTracks } from '../../protocol/rtsp/server-conn.ts';
import { RtspAuthMethod } from '../../protocol/rtsp/auth.ts';
import { decodeRtpPacket, type RtpPacket } from '../../protocol/rtp/packet.ts';
import { RtpReceptionStats, decodeRtcpPackets, encodeRtcpPackets, type RtcpPacket } from '../../protocol/rtp/rtcp.ts';
import type { SdpTrack } from '../../format/sdp/types.ts';
import { RtpToAv, type RtpIngestItem } from '../../remux/rtp.ts';
import { parseListenAddr } from '../config.ts';
import { logBoundaryFailure } from './boundary.ts';
import { SessionStat } from '../stat.ts';
import type { Stream, Publisher, Presence, RtpSource } from '../stream.ts';
import { checkSimpleAuth } from '../simple-auth.ts';
import { COMMAND_PHASE_TIMEOUT_MS, PUBLISHER_READ_TIMEOUT_MS, type LiveSession, type ServerContext } from '../context.ts';
import { CloseReason } from '../output.ts';
import { MAX_PENDING_REPLY_BYTES, closeAfterFlush, repliesOverBound } from './reply-bound.ts';
import { RtpOutput, type RtpBranch, type RtpDelivery } from '../rtp-branch.ts';
import { UdpPortAllocator, type UdpPair } from '../udp-ports.ts';

/** Players with nothing sent, publishers with nothing received, for this long are closed (docs/behaviour.md §12). */
export const RTSP_IDLE_TIMEOUT_MS = PUBLISHER_READ_TIMEOUT_MS;
/** Drop counters of a publisher are reported at most this often. */
const DROP_REPORT_INTERVAL_MS = 10_000;
/**
 * UDP port pairs one RTSP connection may hold: one per track of an audio+video stream, with room
 * for a stream of up to four tracks. Each pair is two sockets, so this also bounds the file
 * descriptors one connection can make the server open.
 */
export const MAX_UDP_PAIRS_PER_CONNECTION = 4;

export interface RtspListenerOptions {
  /** Silence allowed before PLAY/RECORD (docs/quirks.md Q-TMO-1); default 10 s. */
  commandTimeoutMs?: number;
  /** No media for this long closes a started session; default 120 s. */
  idleTimeoutMs?: number;
  /** UDP port-pair range (default 30000–60000, docs/protocols.md §3.3). */
  udpPorts?: { min: number; max: number };
}

export interface RtspListeners {
  stop(): void;
  ports: { rtsp?: number; rtsps?: number; wsRtsp?: number };
  /** The UDP port-pair allocator shared by every RTSP session of this server. */
  readonly udpPorts: UdpPortAllocator;
}

/** What every RTSP session of one server shares. */
export interface RtspShared {
  ctx: ServerContext;
  udp: UdpPortAllocator;
  commandTimeoutMs: number;
  idleTimeoutMs: number;
  sessions: Set<RtspSession>;
}

const SERVER = `lal${LAL_VERSION}`;
const enc = new TextEncoder();

/** docs/protocols.md §3.7: upstream's 101 answer, byte for byte (sic "Protocol", no space after two colons). */
export function wsRtspUpgradeHead(key: string): Uint8Array {
  return enc.encode(
    `HTTP/1.1 101 Switching Protocol\r\nServer: ${SERVER}\r\nSec-WebSocket-Accept:${wsAcceptKey(key)}\r\nKeep-Alive: timeout=15, max=100\r\n` +
      `Connection: Upgrade\r\nUpgrade: websocket\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: *\r\n` +
      `Access-Control-Allow-Headers: Content-Type\r\nSec-WebSocket-Protocol:rtsp\r\n\r\n`,
  );
}

/** `ip:port` / `[v6]:port` → the IP to send UDP to (IPv4-mapped IPv6 unwrapped). */
function ipOf(remoteAddr: string): string {
  let ip = remoteAddr.startsWith('[') ? remoteAddr.slice(1, remoteAddr.indexOf(']')) : remoteAddr.slice(0, remoteAddr.lastIndexOf(':'));
  if (ip.toLowerCase().startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  return ip;
}

/** Conn track order for SETUP matching: audio first, then video, then the rest (docs/protocols.md §3.3). */
function setupOrder(tracks: readonly SdpTrack[]): number[] {
  const idx = tracks.map((_, i) => i);
  const rank = (t: SdpTrack) => (t.kind === 'audio' ? 0 : t.kind === 'video' ? 1 : 2);
  return idx.sort((a, b) => rank(tracks[a]) - rank(tracks[b]) || a - b);
}

/** A track's control for SETUP matching; a lone track without `a=control` matches any URI. */
function controlOf(t: SdpTrack, i: number, n: number): string {
  return t.control ?? (n === 1 ? '' : `trackID=${i}`);
}

interface PubTrack {
  sdp: SdpTrack;
  stats: RtpReceptionStats;
  ssrc: number | undefined;
  /** TCP: where RRs go. */
  rtcpChannel?: number;
  /** UDP: the pair receiving this track. */
  pair?: UdpPair;
}

type OutTrack = { kind: 'tcp'; channel: number } | { kind: 'udp'; pair: UdpPair; host: string; port: number };

export class RtspSession implements LiveSession, ConnHandler, Publisher, Presence {
  stat: SessionStat;
  private log: Logger;
  private readonly rtsp: RtspServerConn;
  private readonly sink: TcpSink;
  closed = false;
  private role: 'pub' | 'sub' | undefined;
  private stream: Stream | undefined;
  private sdp: RtpSource | undefined;
  private order: number[] = [];
  private started = false;
  private teardown = false;
  /** Live UDP pairs by SDP track index (at most MAX_UDP_PAIRS_PER_CONNECTION). */
  private readonly pairs = new Map<number, UdpPair>();
  /** The pair offered to the SETUP being answered (new, or the track's own on a re-SETUP). */
  private pendingPair: { track: number; pair: UdpPair } | undefined;
  /** When the request phase (the 10 s deadline) began: connect, or the answer of a held DESCRIBE. */
  private phaseSince = performance.now();
  /** When the DESCRIBE now held for the stream's SDP was received. */
  private heldSince = 0;
  private warnedPairLimit = false;
  private mediaRead = 0;
  private mediaWrote = 0;
  private lastActivityAt = performance.now();
  private lastActivityBytes = -1;
  // ws mode
  private http: HttpRequestParser | undefined;
  private wsReader: WsFrameReader | undefined;
  // publisher
  private ingest: RtpToAv | undefined;
  private pubTracks: PubTrack[] = [];
  private readonly chanMap = new Map<number, { track: number; rtcp: boolean }>();
  private readonly rrSsrc = crypto.getRandomValues(new Uint32Array(1))[0];
  private badPackets = 0;
  private unknownChannels = 0;
  private lastDropReport = 0;
  private lastDropCount = 0;
  // player
  private output: RtpOutput | undefined;
  private cancelWait: (() => void) | undefined;
  private readonly outTracks = new Map<number, OutTrack>();
  private playerUdpIn = 0;

  constructor(private readonly shared: RtspShared, private readonly conn: TcpConn, private readonly ws: boolean) {
    const ctx = shared.ctx;
    this.sink = conn.sink;
    this.stat = new SessionStat(ctx.ids.next('RTSPSRVCMD'), 'RTSP', 'PUBSUB', conn.remoteAddr);
    this.stat.source = { read: () => this.mediaRead, wrote: () => this.mediaWrote };
    this.log = ctx.log.withTag(this.stat.sessionId);
    this.log.debug(`accept ${ws ? 'ws-rtsp' : 'rtsp'} connection from ${conn.remoteAddr}`);
    const cfg = ctx.config.rtsp;
    const authOk = cfg.auth_method === RtspAuthMethod.Basic || cfg.auth_method === RtspAuthMethod.Digest;
    this.rtsp = new RtspServerConn({
      sink: conn.sink,
      log: this.followingLog(),
      ws,
      clientIp: ipOf(conn.remoteAddr),
      auth: cfg.auth_enable && authOk ? { method: cfg.auth_method as 0 | 1, username: cfg.username, password: cfg.password } : undefined,
      allocUdpPorts: (trackIndex) => this.allocUdpPorts(trackIndex),
      handler: {
        onAnnounce: (info) => this.onAnnounce(info),
        onDescribe: (info) => this.onDescribe(info),
        onSetup: (info) => this.onSetup(info),
        onPlay: () => this.onPlay(),
        onRecord: () => this.onRecord(),
        onTeardown: () => {
          this.teardown = true;
          this.close('teardown');
        },
        onInterleaved: (ch, payload) => this.onInterleaved(ch, payload),
        onError: (err) => {
          this.log.warn(`closing: ${err.message}`);
          this.close('protocol error');
        },
      },
    });
    if (ws) {
      this.http = new HttpRequestParser();
      this.wsReader = new WsFrameReader();
    }
    shared.sessions.add(this);
    ctx.sessions.add(this);
  }

  /** A logger for the conn that always uses this session's current tag (it changes at ANNOUNCE/DESCRIBE). */
  private followingLog(): Logger {
    const self = this;
    const fwd =
      (level: 'trace' | 'debug' | 'info' | 'warn' | 'error') =>
      (...args: unknown[]) =>
        (self.log[level] as (...a: unknown[]) => void)(...args);
    return { trace: fwd('trace'), debug: fwd('debug'), info: fwd('info'), warn: fwd('warn'), error: fwd('error'), withTag: (t: string) => self.log.withTag(t) } as unknown as Logger;
  }

  // ---- bytes in -----------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      if (this.ws) this.onWsData(chunk);
      else this.rtsp.feed(chunk);
    } catch (e) {
      this.failed(e);
      return;
    }
    this.checkReplies();
  }

  /**
   * Answers waiting for a client that does not read are bounded: by the player's SinkGuard once
   * it plays, by MAX_PENDING_REPLY_BYTES before that and for publishers (reply-bound.ts).
   */
  private checkReplies(): void {
    if (this.closed) return;
    if (this.started && this.output) {
      this.output.guard.checkPending();
      return;
    }
    if (repliesOverBound(this.sink)) {
      this.log.warn(`closing: ${this.sink.pendingBytes} bytes of answers unread (limit ${MAX_PENDING_REPLY_BYTES}), the client does not read`);
      this.close(CloseReason.SlowConsumer);
    }
  }

  /** An exception reached the session boundary: a bug is logged with its stack, bad input at warn. */
  private failed(e: unknown): void {
    this.close(logBoundaryFailure(this.log, e) ? 'internal error' : 'protocol error');
  }

  private onWsData(chunk: Uint8Array): void {
    let data = chunk;
    if (this.http) {
      const r = this.http.feed(chunk);
      if (!r) return;
      this.http = undefined;
      // docs/protocols.md §3.7: any request is upgraded, even without the upgrade headers
      this.sink.write(wsRtspUpgradeHead(r.request.headers['sec-websocket-key'] ?? ''));
      data = r.rest;
      if (data.length === 0) return;
    }
    for (const f of this.wsReader!.feed(data)) {
      if (this.closed) return;
      if (f.opcode === WsOpcode.Close) {
        this.sink.write(encodeWsFrame(WsOpcode.Close, f.payload.subarray(0, 2)));
        this.teardown = true;
        this.close('websocket close');
        return;
      }
      if (f.opcode === WsOpcode.Ping) {
        this.sink.write(encodeWsFrame(WsOpcode.Pong, f.payload));
        continue;
      }
      if (f.opcode === WsOpcode.Pong) continue;
      // one RTSP request per frame (interleaved data from the client is not supported)
      this.rtsp.feed(f.payload);
    }
  }

  onClose(err?: Error): void {
    if (err) this.log.debug(`socket error: ${err.message}`);
    this.close(CloseReason.PeerClosed);
  }

  // ---- RTSP handler -------------------------------------------------------------------------

  /**
   * The port pair for a UDP SETUP of `trackIndex`: the track's own on a repeated SETUP, else a
   * new one while the connection holds fewer than MAX_UDP_PAIRS_PER_CONNECTION.
   */
  private allocUdpPorts(trackIndex: number): { rtp: number; rtcp: number } | undefined {
    if (this.ws) return undefined; // ws-rtsp players must use interleaved transport
    const track = this.order[trackIndex];
    if (track === undefined) return undefined;
    this.dropPendingPair();
    let pair = this.pairs.get(track);
    if (!pair) {
      if (this.pairs.size >= MAX_UDP_PAIRS_PER_CONNECTION) {
        if (!this.warnedPairLimit) this.log.warn(`UDP SETUP of track ${track} answered 461: the connection already holds ${this.pairs.size} port pairs (limit ${MAX_UDP_PAIRS_PER_CONNECTION})`);
        this.warnedPairLimit = true;
        return undefined;
      }
      pair = this.shared.udp.alloc();
      if (!pair) return undefined;
    }
    this.pendingPair = { track, pair };
    return { rtp: pair.rtpPort, rtcp: pair.rtcpPort };
  }

  /** A pair offered to a SETUP that was not completed: released unless its track owns it. */
  private dropPendingPair(): void {
    const p = this.pendingPair;
    this.pendingPair = undefined;
    if (p && this.pairs.get(p.track) !== p.pair) p.pair.close();
  }

  /** The track is set up again (over TCP, or UDP with another pair): its old pair goes. */
  private releaseTrackPair(track: number, keep?: UdpPair): void {
    const old = this.pairs.get(track);
    if (!old || old === keep) return;
    this.pairs.delete(track);
    old.close();
  }

  private becomeStat(prefix: 'RTSPPUB' | 'RTSPSUB'): void {
    const ctx = this.shared.ctx;
    this.stat = new SessionStat(ctx.ids.next(prefix), 'RTSP', prefix === 'RTSPPUB' ? 'PUB' : 'SUB', this.conn.remoteAddr);
    this.stat.source = { read: () => this.mediaRead, wrote: () => this.mediaWrote };
    this.log = ctx.log.withTag(this.stat.sessionId);
  }

  private tracksAnswer(sdp: RtpSource): RtspTracks {
    this.sdp = sdp;
    this.order = setupOrder(sdp.tracks);
    return { controls: this.order.map((i) => controlOf(sdp.tracks[i], i, sdp.tracks.length)) };
  }

  /** docs/quirks.md D-2: a name the hub would refuse gets the method's refusal, logged once. */
  private refuseBadName(what: 'publish' | 'play', name: string): boolean {
    const bad = checkStreamName(name);
    if (bad === undefined) return false;
    this.log.warn(`${what} ${quoteName(name)} refused: the stream name ${bad}`);
    return true;
  }

  private onAnnounce(info: RtspStreamInfo & { sdpText: string }): RtspTracks | false {
    const ctx = this.shared.ctx;
    this.becomeStat('RTSPPUB');
    this.role = 'pub';
    if (this.refuseBadName('publish', info.streamName)) return false;
    const auth = checkSimpleAuth(ctx.config.simple_auth, ctx.config.simple_auth.pub_rtsp_enable, info.streamName, info.urlParam);
    if (auth) {
      this.log.warn(`publish ${info.streamName} refused: ${auth}`);
      return false;
    }
    let ingest: RtpToAv;
    try {
      ingest = new RtpToAv(info.sdpText);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.log.warn(`publish ${info.streamName} refused: ${e.message}`);
      return false;
    }
    try {
      this.stream = ctx.hub.publish(info.streamName, info.appName, this);
    } catch (e) {
      if (e instanceof LalError && e.code === 'in-exist') {
        this.log.warn(`publish ${info.streamName} refused: stream already has an input`);
        return false;
      }
      throw e;
    }
    this.ingest = ingest;
    this.pubTracks = ingest.tracks.map((sdp) => ({ sdp, stats: new RtpReceptionStats(sdp.clockRate), ssrc: undefined }));
    const sdp: RtpSource = { text: info.sdpText, tracks: ingest.tracks };
    this.stream.setRtpSource(sdp);
    const t = ingest.trackInfo;
    if (t.video || t.audio) this.stream.setTracks(t);
    this.log.info(`start publishing ${info.streamName} over rtsp (${ingest.tracks.map((x) => x.encoding || x.codec).join(', ')})`);
    return this.tracksAnswer(sdp);
  }

  private onDescribe(info: RtspStreamInfo): RtspDescribeResult | undefined | Promise<RtspDescribeResult | undefined> {
    const ctx = this.shared.ctx;
    const cfg = ctx.config;
    this.becomeStat('RTSPSUB');
    this.role = 'sub';
    if (this.refuseBadName('play', info.streamName)) return undefined;
    if (cfg.rtsp.auth_enable && cfg.rtsp.auth_method !== RtspAuthMethod.Basic && cfg.rtsp.auth_method !== RtspAuthMethod.Digest) {
      this.log.warn(`play ${info.streamName} refused: rtsp.auth_method ${cfg.rtsp.auth_method} is neither 0 (Basic) nor 1 (Digest)`);
      return undefined;
    }
    const auth = checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_rtsp_enable, info.streamName, info.urlParam);
    if (auth) {
      this.log.warn(`play ${info.streamName} refused: ${auth}`);
      return undefined;
    }
    const output = new RtpOutput(ctx.branches.rtp, this.sink, ctx.limits, this.log, (d) => this.emit(d), (reason) => this.close(reason));
    this.output = output;
    this.stream = ctx.hub.join(info.streamName, info.appName, this, output);
    const branch = output.branch!;
    const answer = (sdp: RtpSource): RtspDescribeResult => ({ sdpText: sdp.text, ...this.tracksAnswer(sdp) });
    if (branch.sdp) {
      this.log.info(`play ${info.streamName}: described`);
      return answer(branch.sdp);
    }
    this.log.info(`play ${info.streamName}: DESCRIBE held until the stream has an SDP`);
    this.heldSince = performance.now();
    return new Promise((resolve) => {
      this.cancelWait = branch.whenSdp((sdp) => {
        this.cancelWait = undefined;
        if (this.closed) return;
        this.log.info(`play ${info.streamName}: described`);
        // The client could do nothing while held: its request phase starts again now.
        this.phaseSince = performance.now();
        resolve(answer(sdp));
      });
    });
  }

  private onSetup(info: RtspServerSetup): void {
    const track = this.order[info.trackIndex];
    const sdp = this.sdp?.tracks[track];
    if (track === undefined || !sdp) throw new LalError('rtsp-setup', `rtsp: SETUP for unknown track ${info.trackIndex}`);
    if (info.transport === 'tcp') {
      this.releaseTrackPair(track);
      if (this.role === 'pub') {
        delete this.pubTracks[track].pair;
        this.chanMap.set(info.rtpChannel, { track, rtcp: false });
        this.chanMap.set(info.rtcpChannel, { track, rtcp: true });
        this.pubTracks[track].rtcpChannel = info.rtcpChannel;
      } else {
        this.outTracks.set(track, { kind: 'tcp', channel: info.rtpChannel });
      }
      this.log.debug(`setup ${sdp.control ?? track} over tcp, channels ${info.rtpChannel}-${info.rtcpChannel}`);
      return;
    }
    const pending = this.pendingPair;
    if (!pending || pending.track !== track) throw new LalError('rtsp-setup', 'rtsp: UDP SETUP without a port pair');
    this.pendingPair = undefined;
    const pair = pending.pair;
    this.releaseTrackPair(track, pair);
    this.pairs.set(track, pair);
    if (this.role === 'pub') {
      const pt = this.pubTracks[track];
      pt.pair = pair;
      this.ingest!.setReorder(track, true);
      pair.onRtp = (d) => this.onUdpMedia(track, d, false);
      pair.onRtcp = (d, port, addr) => this.onUdpMedia(track, d, true, port, addr);
    } else {
      this.outTracks.set(track, { kind: 'udp', pair, host: info.clientIp, port: info.clientRtpPort });
      // players' RTCP and NAT probes are not used (docs/protocols.md §3.4)
      pair.onRtp = () => this.playerUdpIn++;
      pair.onRtcp = () => this.playerUdpIn++;
    }
    this.log.debug(`setup ${sdp.control ?? track} over udp, server ${info.serverRtpPort}-${info.serverRtcpPort}, client ${info.clientIp}:${info.clientRtpPort}-${info.clientRtcpPort}`);
  }

  private onPlay(): void {
    const branch: RtpBranch | undefined = this.output?.branch;
    if (!branch || this.closed) return;
    this.started = true;
    const cfg = this.shared.ctx.config.rtsp;
    this.output!.play(cfg.out_wait_key_frame_flag && branch.hasVideo);
    this.log.info(`start playing ${this.stream?.name ?? ''} (${[...this.outTracks.values()].map((t) => t.kind).join('+') || 'no tracks'})`);
  }

  private onRecord(): void {
    this.started = true;
  }

  private onInterleaved(channel: number, payload: Uint8Array): void {
    if (this.role !== 'pub') return; // players' RTCP receiver reports are accepted and dropped
    this.mediaRead += payload.length;
    const m = this.chanMap.get(channel);
    if (!m) {
      this.unknownChannels++;
      return;
    }
    if (m.rtcp) {
      this.onRtcp(m.track, payload, (rr) => {
        this.rtsp.sendInterleaved(channel, rr);
      });
    } else {
      this.onRtp(m.track, payload);
    }
  }

  private onUdpMedia(track: number, data: Uint8Array, rtcp: boolean, port = 0, addr = ''): void {
    if (this.closed) return;
    this.mediaRead += data.length;
    try {
      if (rtcp) {
        const pair = this.pubTracks[track].pair!;
        this.onRtcp(track, data, (rr) => pair.rtcp.send(rr, port, addr));
      } else {
        this.onRtp(track, data);
      }
    } catch (e) {
      this.failed(e);
    }
  }

  // ---- publisher media ----------------------------------------------------------------------

  private onRtp(track: number, buf: Uint8Array): void {
    const pt = this.pubTracks[track];
    let pkt: RtpPacket;
    try {
      pkt = decodeRtpPacket(buf);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.badPackets++;
      return;
    }
    if (pkt.header.payloadType !== pt.sdp.payloadType) {
      this.badPackets++;
      return;
    }
    pt.stats.update(pkt.header, performance.now());
    pt.ssrc = pkt.header.ssrc;
    const stream = this.stream;
    if (!stream || stream.publisher !== this) return;
    stream.writeRtp({ track, packet: buf, rtp: pkt, codec: pt.sdp.codec });
    if (this.ingest) this.apply(this.ingest.push(track, pkt));
  }

  private apply(items: RtpIngestItem[]): void {
    const stream = this.stream;
    if (!stream || stream.publisher !== this) return;
    for (const it of items) {
      if (it.kind === 'tracks') stream.setTracks(it.tracks);
      else stream.write(it.packet);
    }
  }

  /** RTCP from the publisher: answer each Sender Report of a known source with a Receiver Report. */
  private onRtcp(track: number, buf: Uint8Array, reply: (rr: Uint8Array) => void): void {
    let packets: RtcpPacket[];
    try {
      packets = decodeRtcpPackets(buf);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.badPackets++;
      return;
    }
    const now = performance.now();
    for (const p of packets) {
      if (p.kind !== 'sr') continue;
      const src = this.pubTracks.find((t) => t.ssrc === p.ssrc) ?? undefined;
      if (!src || !src.stats.hasData) {
        this.log.debug(`rtcp SR from unknown ssrc ${p.ssrc} on track ${track} ignored`);
        continue;
      }
      const rr = encodeRtcpPackets([{ kind: 'rr', ssrc: this.rrSsrc, reports: [src.stats.reportBlock(now, { ntp: p.ntp, arrivalMs: now })] }]);
      reply(rr);
      this.mediaWrote += rr.length;
    }
  }

  // ---- player media -------------------------------------------------------------------------

  /** Write one shared delivery of the RTP branch to this player's transport (RtpOutput's emit). */
  private emit(d: RtpDelivery): void {
    if (this.closed) return;
    const out = this.outTracks.get(d.track);
    if (!out) return;
    if (out.kind === 'tcp') {
      if (!this.ws && out.channel === d.channel) {
        this.sink.write(d.framed());
      } else {
        for (const p of d.packets) this.rtsp.sendInterleaved(out.channel, p);
      }
    } else {
      for (const p of d.packets) out.pair.rtp.send(p, out.port, out.host);
    }
    this.mediaWrote += d.bytes;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  tick(nowMs: number): void {
    if (this.closed) return;
    this.checkReplies();
    if (this.closed) return;
    const bytes = this.role === 'pub' ? this.mediaRead : this.mediaWrote;
    if (bytes !== this.lastActivityBytes) {
      this.lastActivityBytes = bytes;
      this.lastActivityAt = nowMs;
    }
    if (!this.started) {
      if (this.rtsp.isWaiting) {
        if (nowMs - this.heldSince > this.shared.idleTimeoutMs) {
          this.log.warn(`closing: the stream had no SDP for ${Math.round(this.shared.idleTimeoutMs / 1000)} s`);
          this.close('describe timeout');
        }
      } else if (nowMs - this.phaseSince > this.shared.commandTimeoutMs) {
        this.log.warn(`closing: no PLAY/RECORD within ${Math.round(this.shared.commandTimeoutMs / 1000)} s`);
        this.close('command timeout');
      }
      return;
    }
    if (nowMs - this.lastActivityAt > this.shared.idleTimeoutMs) {
      this.log.warn(`closing: nothing ${this.role === 'pub' ? 'received' : 'sent'} for ${Math.round(this.shared.idleTimeoutMs / 1000)} s`);
      this.close(this.role === 'pub' ? 'read timeout' : 'write timeout');
      return;
    }
    if (nowMs - this.lastDropReport >= DROP_REPORT_INTERVAL_MS) this.reportDrops(nowMs);
  }

  /** Input drops (publisher) or failed UDP sends (player), at most once per interval (docs/architecture.md §1.7 rule 9). */
  private reportDrops(nowMs: number): void {
    let drops: number;
    let what: string;
    if (this.role === 'pub') {
      drops = (this.ingest?.dropCount ?? 0) + this.badPackets + this.unknownChannels;
      what = 'rtp input: packets dropped';
    } else {
      drops = 0;
      for (const t of this.outTracks.values()) if (t.kind === 'udp') drops += t.pair.rtp.failed;
      what = 'udp output: sends failed';
    }
    if (drops !== this.lastDropCount) {
      this.log.warn(`${what}: ${drops - this.lastDropCount} in the last ${Math.round((nowMs - this.lastDropReport) / 1000)} s (total ${drops})`);
      this.lastDropCount = drops;
    }
    this.lastDropReport = nowMs;
  }

  /** Publisher.kick / API kick. */
  kick(reason: string): void {
    this.close(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.shared.ctx.sessions.delete(this);
    this.shared.sessions.delete(this);
    this.rtsp.close();
    this.cancelWait?.();
    this.cancelWait = undefined;
    const stream = this.stream;
    if (this.role === 'pub' && stream && stream.publisher === this) {
      try {
        if (this.ingest) this.apply(this.ingest.flush());
      } catch (e) {
        this.log.debug(`flush on close failed: ${errorText(e)}`);
      }
      stream.removePublisher(this);
      this.log.info(`stop publishing ${stream.name} (${reason})`);
    } else if (this.role === 'sub' && stream && this.output) {
      this.reportDrops(performance.now());
      if (this.playerUdpIn > 0) this.log.debug(`${this.playerUdpIn} datagrams from the player (RTCP, NAT probes) ignored`);
      stream.leave(this);
      this.log.info(`stop playing ${stream.name} (${reason})`);
    } else {
      this.log.debug(`closed (${reason})`);
    }
    this.dropPendingPair();
    for (const p of this.pairs.values()) p.close();
    this.pairs.clear();
    if (this.teardown) closeAfterFlush(this.sink);
    else this.sink.close();
  }
}

/** The per-server state of the RTSP sessions (port allocator, stream views, timeouts). */
export function createRtspShared(ctx: ServerContext, opts: RtspListenerOptions = {}): RtspShared {
  const cfg = ctx.config.rtsp;
  const bindHost = parseListenAddr(cfg.enable ? cfg.addr : cfg.rtsps_addr).host;
  return {
    ctx,
    udp: new UdpPortAllocator({ host: bindHost, log: ctx.log, min: opts.udpPorts?.min, max: opts.udpPorts?.max }),
    commandTimeoutMs: opts.commandTimeoutMs ?? COMMAND_PHASE_TIMEOUT_MS,
    idleTimeoutMs: opts.idleTimeoutMs ?? RTSP_IDLE_TIMEOUT_MS,
    sessions: new Set(),
  };
}

/**
 * Start the RTSP (`rtsp.addr`), RTSPS (`rtsps_addr`) and RTSP-over-WebSocket (`ws_rtsp_addr`)
 * listeners of a running server. Failing to bind `rtsp.addr` rejects; RTSPS and ws-rtsp failures
 * (and missing certificates) are logged and skipped (docs/config.md §3.8).
 */
export async function startRtspListeners(ctx: ServerContext, opts: RtspListenerOptions = {}): Promise<RtspListeners> {
  const cfg = ctx.config.rtsp;
  const log = ctx.log;
  const listeners: TcpListener[] = [];
  const ports: RtspListeners['ports'] = {};
  const shared = createRtspShared(ctx, opts);
  const stop = () => {
    for (const s of [...shared.sessions]) s.close(CloseReason.Shutdown);
    for (const l of listeners) l.stop(true);
    shared.udp.closeAll();
  };
  const session = (ws: boolean) => (conn: TcpConn): ConnHandler => new RtspSession(shared, conn, ws);
  try {
    if (cfg.enable) {
      const a = parseListenAddr(cfg.addr);
      const l = listenTcp({ host: a.host, port: a.port, log, onConn: session(false) });
      listeners.push(l);
      ports.rtsp = l.port;
      log.info(`rtsp listening on ${a.host}:${l.port}`);
    }
  } catch (e) {
    stop();
    throw e;
  }
  if (cfg.rtsps_enable) {
    if (!existsSync(cfg.rtsps_cert_file) || !existsSync(cfg.rtsps_key_file)) {
      log.warn(`rtsps: certificate ${cfg.rtsps_cert_file} or key ${cfg.rtsps_key_file} not found, rtsps disabled`);
    } else {
      try {
        const a = parseListenAddr(cfg.rtsps_addr);
        const l = listenTcp({ host: a.host, port: a.port, log, tls: { certFile: cfg.rtsps_cert_file, keyFile: cfg.rtsps_key_file }, onConn: session(false) });
        listeners.push(l);
        ports.rtsps = l.port;
        log.info(`rtsps listening on ${a.host}:${l.port}`);
      } catch (e) {
        log.error(`rtsps disabled: ${errorText(e)}`);
      }
    }
  }
  if (cfg.ws_rtsp_enable) {
    try {
      const a = parseListenAddr(cfg.ws_rtsp_addr);
      const l = listenTcp({ host: a.host, port: a.port, log, onConn: session(true) });
      listeners.push(l);
      ports.wsRtsp = l.port;
      log.info(`ws-rtsp listening on ${a.host}:${l.port}`);
    } catch (e) {
      log.error(`ws-rtsp disabled: ${errorText(e)}`);
    }
  }
  return { stop, ports, udpPorts: shared.udp };
}

