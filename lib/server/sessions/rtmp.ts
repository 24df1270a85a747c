/**
 * RTMP server session: binds one TCP connection's RtmpServerConn to the hub (publisher or player).
 * Session id `RTMPPUBSUB<n>`; base type PUBSUB until publish/play (docs/http-api.md §3.4).
 * Errors end this session only, with one log line naming it.
 *
 * Bounds: publish or play within COMMAND_PHASE_TIMEOUT_MS of connecting (a total deadline);
 * publishers that send nothing for PUBLISHER_READ_TIMEOUT_MS close; replies (handshake, command
 * results, pings, acknowledgements) waiting for a client that does not read are bounded by
 * MAX_PENDING_REPLY_BYTES until it plays, and for publishers throughout (reply-bound.ts); a
 * player's connection is under its output's slow-player policy (SinkGuard) instead.
 */
import type { TcpConn, ConnHandler } from '../../net/tcp.ts';
import type { Logger } from '../../core/log.ts';
import { LalError } from '../../core/errors.ts';
import { checkStreamName, quoteName } from '../../core/stream-name.ts';
import { RtmpServerConn } from '../../protocol/rtmp/server-conn.ts';
import type { RtmpMessage } from '../../protocol/rtmp/chunk-reader.ts';
import { RtmpToAv } from '../../remux/rtmp.ts';
import { logBoundaryFailure } from './boundary.ts';
import { SessionStat } from '../stat.ts';
import { CloseReason, PacketOutput } from '../output.ts';
import { MAX_PENDING_REPLY_BYTES, repliesOverBound } from './reply-bound.ts';
import { rtmpFramer } from '../framers.ts';
import type { Stream, Publisher, Presence } from '../stream.ts';
import { COMMAND_PHASE_TIMEOUT_MS, PUBLISHER_READ_TIMEOUT_MS, type LiveSession, type ServerContext } from '../context.ts';
import { checkSimpleAuth } from '../simple-auth.ts';

export class RtmpSession implements LiveSession, Publisher, Presence, ConnHandler {
  readonly stat: SessionStat;
  private readonly log: Logger;
  private readonly rtmp: RtmpServerConn;
  private stream: Stream | undefined;
  private output: PacketOutput | undefined;
  private ingest: RtmpToAv | undefined;
  closed = false;
  private playName = '';
  private readonly openedAt = performance.now();
  private lastReadAt = performance.now();

  constructor(private readonly ctx: ServerContext, private readonly conn: TcpConn) {
    this.stat = new SessionStat(ctx.ids.next('RTMPPUBSUB'), 'RTMP', 'PUBSUB', conn.remoteAddr);
    this.stat.source = { read: () => this.rtmp.bytesRead, wrote: () => conn.sink.bytesWritten };
    this.log = ctx.log.withTag(this.stat.sessionId);
    this.log.info(`accept rtmp connection from ${conn.remoteAddr}`);
    this.rtmp = new RtmpServerConn({
      sink: conn.sink,
      log: this.log,
      maxMessageLength: undefined,
      handler: {
        onConnect: (info) => this.log.debug(`connect app=${quoteName(info.app)} tcUrl=${quoteName(info.tcUrl, 200)}`),
        onPublish: (info) => this.onPublish(info),
        onPlay: (info) => this.onPlay(info),
        onMedia: (msg) => this.onMedia(msg),
        onPlayStarted: () => this.onPlayStarted(),
      },
    });
    ctx.sessions.add(this);
  }

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.lastReadAt = performance.now();
    try {
      this.rtmp.feed(chunk);
    } catch (e) {
      this.close(logBoundaryFailure(this.log, e) ? 'internal error' : 'protocol error');
      return;
    }
    this.checkReplies();
  }

  /** Replies waiting for a client that does not read: the player's SinkGuard, else reply-bound.ts. */
  private checkReplies(): void {
    if (this.closed) return;
    if (this.output) {
      this.output.guard.checkPending();
      return;
    }
    const sink = this.conn.sink;
    if (repliesOverBound(sink)) {
      this.log.warn(`closing: ${sink.pendingBytes} bytes of replies unread (limit ${MAX_PENDING_REPLY_BYTES}), the client does not read`);
      this.close(CloseReason.SlowConsumer);
    }
  }

  onClose(err?: Error): void {
    if (err) this.log.debug(`socket error: ${err.message}`);
    this.close(CloseReason.PeerClosed);
  }

  /** docs/quirks.md D-2: a name the hub would refuse is answered like any refusal, logged once. */
  private refuseBadName(what: 'publish' | 'play', name: string): boolean {
    const bad = checkStreamName(name);
    if (bad === undefined) return false;
    this.log.warn(`${what} ${quoteName(name)} refused: the stream name ${bad}`);
    queueMicrotask(() => this.close('bad stream name'));
    return true;
  }

  private onPublish(info: { streamName: string; urlParam: string; url: string }): boolean {
    if (this.refuseBadName('publish', info.streamName)) return false;
    const cfg = this.ctx.config;
    const auth = checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.pub_rtmp_enable, info.streamName, info.urlParam);
    if (auth) {
      this.log.warn(`publish ${info.streamName} refused: ${auth}`);
      queueMicrotask(() => this.close('auth failed'));
      return false;
    }
    try {
      this.stream = this.ctx.hub.publish(info.streamName, this.rtmp.app, this);
    } catch (e) {
      if (e instanceof LalError && e.code === 'in-exist') {
        this.log.warn(`publish ${info.streamName} refused: stream already has a publisher`);
        queueMicrotask(() => this.close('duplicate publisher'));
        return false;
      }
      throw e;
    }
    this.stat.baseType = 'PUB';
    this.ingest = new RtmpToAv();
    this.log.info(`start publishing ${info.streamName} (url=${info.url})`);
    return true;
  }

  private onPlay(info: { streamName: string; urlParam: string; url: string }): boolean {
    if (this.refuseBadName('play', info.streamName)) return false;
    const cfg = this.ctx.config;
    const auth = checkSimpleAuth(cfg.simple_auth, cfg.simple_auth.sub_rtmp_enable, info.streamName, info.urlParam);
    if (auth) {
      this.log.warn(`play ${info.streamName} refused: ${auth}`);
      queueMicrotask(() => this.close('auth failed'));
      return false;
    }
    this.stat.baseType = 'SUB';
    const opts = { gopNum: cfg.rtmp.gop_num, singleGopMaxFrameNum: cfg.rtmp.single_gop_max_frame_num, ...this.ctx.limits };
    this.output = new PacketOutput(this.conn.sink, rtmpFramer, opts, this.log, (reason) => this.close(reason));
    this.playName = info.streamName;
    return true;
  }

  /** The play replies are out: only now may media (headers, GOP replay) follow. */
  private onPlayStarted(): void {
    if (!this.output || this.closed) return;
    this.stream = this.ctx.hub.join(this.playName, this.rtmp.app, this, this.output);
    this.log.info(`start playing ${this.playName}`);
  }

  private onMedia(msg: RtmpMessage): void {
    const stream = this.stream;
    const ingest = this.ingest;
    if (!stream || !ingest) return;
    const r = ingest.push(msg);
    if (r.kind === 'tracks') {
      if (msg.type === 9) stream.countVideoMessage();
      stream.setTracks(r.tracks);
    } else if (r.kind === 'packet') {
      if (r.tracksChanged) stream.setTracks(r.tracksChanged);
      stream.write(r.packet);
    } else if (msg.type === 9) {
      stream.countVideoMessage();
    }
  }

  tick(nowMs: number): void {
    if (this.closed) return;
    this.checkReplies();
    if (this.closed) return;
    if (this.stat.baseType === 'PUBSUB' && nowMs - this.openedAt > COMMAND_PHASE_TIMEOUT_MS) {
      this.log.warn('closing: no publish/play within 10 s');
      this.close('command timeout');
    } else if (this.stat.baseType === 'PUB' && nowMs - this.lastReadAt > PUBLISHER_READ_TIMEOUT_MS) {
      this.log.warn('closing: publisher sent nothing for 120 s');
      this.close('read timeout');
    }
  }

  /** Publisher.kick / API kick. */
  kick(reason: string): void {
    this.close(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.sessions.delete(this);
    if (this.stream) {
      if (this.stat.baseType === 'PUB') {
        this.stream.removePublisher(this);
        this.log.info(`stop publishing ${this.stream.name} (${reason})`);
      } else {
        this.stream.leave(this);
        this.log.info(`stop playing ${this.stream.name} (${reason})`);
      }
    } else {
      this.log.debug(`closed (${reason})`);
    }
    this.conn.sink.close();
  }
}
