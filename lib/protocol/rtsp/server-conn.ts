/**
 * Sans-I/O RTSP server connection (docs/protocols.md §3; docs/urls.md §4; docs/behaviour.md §5.5;
 * docs/quirks.md Q-RTSP-1…5; RFC 2326): bytes in through `feed()`, responses out through the
 * injected ByteSink, decisions through a handler (the server session).
 *
 * Requests are processed strictly in order. ANNOUNCE and DESCRIBE ask the handler, which may
 * answer later (a Promise): a DESCRIBE is held until the stream has an SDP. While an answer is
 * pending, later input is queued (at most MAX_QUEUED_WHILE_WAITING items) and processed after
 * it. Responses use the exact layouts of docs/protocols.md §3.2 (header order included):
 *
 *   OPTIONS   200 | Server: lal<ver> | CSeq | Public: DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN
 *   DESCRIBE  200 | CSeq | Date | Content-Type: application/sdp | Content-Length | <sdp>
 *   SETUP     200 | CSeq | Date | Session: 191201771 | Transport
 *   RECORD    200 | CSeq | Session: 191201771
 *   PLAY      200 | CSeq | Date
 *   ANNOUNCE, TEARDOWN  200 | CSeq
 *   401       401 | CSeq | Date | WWW-Authenticate
 *
 * Decisions and deviations from upstream (documented per docs/quirks.md):
 * - PAUSE, GET_PARAMETER, SET_PARAMETER: `200 OK | CSeq | Session` (docs/quirks.md Q-RTSP-3 FIX; PAUSE does
 *   not pause). Other methods: `501 Not Implemented | CSeq` (upstream: no response).
 * - A request without CSeq gets `RTSP/1.0 400 Bad Request` (no CSeq: there is none to echo;
 *   RFC 2326 §12.17 makes CSeq mandatory) and the connection ends (ProtocolError).
 * - Malformed bytes (ParseError), a failed or refused step, SETUP before ANNOUNCE/DESCRIBE or
 *   for an unknown track, PLAY before DESCRIBE, RECORD before ANNOUNCE (upstream: no check), a
 *   second ANNOUNCE, ANNOUNCE after DESCRIBE (or the reverse), a DESCRIBE of another stream, or
 *   unsupported transports end the connection without a response (§3.1). Authentication: see
 *   auth.ts (Basic works, digest nonces must be ours).
 * - A repeated DESCRIBE of the same stream on one connection is answered again with the SDP this
 *   connection was given (as upstream; some clients re-DESCRIBE before SETUP). It creates no
 *   second player and does not ask the handler again.
 * - A UDP SETUP the handler has no port pair for (`allocUdpPorts` returns undefined: the
 *   connection's pair limit, or none free) is answered `461 Unsupported Transport | CSeq` and the
 *   connection stays open: a client may retry the track over TCP (ffmpeg does).
 * - SETUP `RTP/AVP/TCP` without `interleaved=` gets channels 2i-2i+1 assigned (upstream would
 *   fail); with `interleaved=` the Transport is echoed verbatim.
 * - ws mode (RTSP over WebSocket, §3.7): every response, ANNOUNCE/RECORD included
 *   (docs/quirks.md Q-RTSP-5 FIX), is one binary WebSocket frame.
 *
 * Errors: during `feed()` they are thrown (ParseError/ProtocolError; the caller closes). When
 * processing continues after a Promise settled, failures go to `handler.onError` instead. In
 * both cases the conn is `closed` and ignores further input; it never closes the sink itself,
 * so whatever it wrote is flushed by the caller's close. After TEARDOWN the conn is closed and
 * `onTeardown` tells the session to close.
 */
import { quoteName } from '../../core/stream-name.ts';
import { LalError, ProtocolError } from '../../core/errors.ts';
import type { ByteSink } from '../../core/sink.ts';
import type { Logger } from '../../core/log.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { localZoneAbbr } from '../../core/time-format.ts';
import { encodeWsFrame, WsOpcode } from '../http/ws.ts';
import { RtspMessageReader, encodeRtspResponse, rtspBodyText, type RtspHeaderList, type RtspItem, type RtspRequest } from './message.ts';
import { encodeInterleavedHeader, encodeWsInterleavedHeader } from './interleaved.ts';
import { RtspServerAuth, type RtspAuthMethodValue } from './auth.ts';
import { formatRtspTransport, parseRtspTransport, type RtspSetupTrack, type RtspTcpSetup } from './transport.ts';
import { parseRtspUrl } from './url.ts';

/** The session id of every session (docs/quirks.md Q-RTSP-4 KEEP). */
export const RTSP_SESSION_ID = '191201771';
/** `Public` of the OPTIONS answer, as upstream. */
export const RTSP_PUBLIC_METHODS = 'DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN';
/** `Server` of the OPTIONS answer (docs/protocols.md §1). */
export const RTSP_SERVER_NAME = `lal${LAL_VERSION}`;
/**
 * Items (requests or interleaved frames) queued while ANNOUNCE/DESCRIBE waits for the
 * handler. A well-behaved client sends nothing until it has the answer; a few pipelined
 * requests are fine, a flood is not.
 */
export const MAX_QUEUED_WHILE_WAITING = 64;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * RFC 1123 date in Go's layout `Mon, 02 Jan 2006 15:04:05 MST` at `offsetMinutes` east of UTC
 * labelled `abbr` (default: the process's local zone, as upstream).
 */
export function formatRtspDate(d: Date, offsetMinutes = -d.getTimezoneOffset(), abbr = localZoneAbbr(d)): string {
  const w = new Date(d.getTime() + offsetMinutes * 60_000);
  return `${DAYS[w.getUTCDay()]}, ${p2(w.getUTCDate())} ${MONTHS[w.getUTCMonth()]} ${w.getUTCFullYear()} ${p2(w.getUTCHours())}:${p2(w.getUTCMinutes())}:${p2(w.getUTCSeconds())} ${abbr}`;
}

/** What ANNOUNCE and DESCRIBE identify (docs/urls.md §4). */
export interface RtspStreamInfo {
  /** The request URI as sent. */
  url: string;
  appName: string;
  streamName: string;
  urlParam: string;
}

/**
 * Track controls (`a=control` values) of the stream's SDP, in the order a SETUP URI is matched
 * against them (LAL: audio first, then video). A SETUP URI selects the first control it ends with.
 */
export interface RtspTracks {
  controls: string[];
}

export interface RtspDescribeResult extends RtspTracks {
  sdpText: string;
}

export type RtspServerSetup =
  | RtspTcpSetup
  | (RtspSetupTrack & {
      transport: 'udp';
      /** Where to send RTP/RTCP: the control connection's address (docs/protocols.md §3.3). */
      clientIp: string;
      clientRtpPort: number;
      clientRtcpPort: number;
      serverRtpPort: number;
      serverRtcpPort: number;
    });

type Awaitable<T> = T | Promise<T>;

/** The server session implements this. */
export interface RtspServerHandler {
  /** ANNOUNCE (publisher): parse the SDP, join the hub. Tracks to accept, or false to refuse (→ close). */
  onAnnounce(info: RtspStreamInfo & { sdpText: string }): Awaitable<RtspTracks | false | undefined>;
  /**
   * DESCRIBE (player, after authentication): join the hub; resolve with the SDP once the stream
   * has one (may stay pending, docs/behaviour.md §5.5); undefined = refuse (→ close).
   */
  onDescribe(info: RtspStreamInfo): Awaitable<RtspDescribeResult | undefined>;
  /** SETUP accepted for a track; called before the response is written (throw to refuse). */
  onSetup(info: RtspServerSetup): void;
  /** First PLAY; called after the response was written, so media may flow at once. */
  onPlay(): void;
  /** First RECORD; called after the response was written. */
  onRecord(): void;
  /** TEARDOWN answered; the session closes the connection. */
  onTeardown(): void;
  /** An interleaved frame (publisher RTP/RTCP; players' RTCP). The payload is a view. */
  onInterleaved(channel: number, payload: Uint8Array): void;
  /** Processing that resumed after a Promise failed or was refused; the session closes. */
  onError(err: Error): void;
}

export interface RtspServerConnOptions {
  sink: ByteSink;
  log: Logger;
  handler: RtspServerHandler;
  /** `rtsp.auth_enable`: challenge DESCRIBE (docs/protocols.md §3.5). */
  auth?: { method: RtspAuthMethodValue; username: string; password: string };
  /**
   * A server-side UDP port pair for the SETUP of track `trackIndex` (an index into the controls);
   * undefined = none for this connection (its limit, or none free) → `461`, the connection stays.
   */
  allocUdpPorts: (trackIndex: number) => { rtp: number; rtcp: number } | undefined;
  /** IP of the control connection's peer (UDP media goes there). */
  clientIp: string;
  /** RTSP over WebSocket: wrap every response in a binary WS frame (the caller un-frames input). */
  ws?: boolean;
  /** `Date` header value (tests); default `formatRtspDate(new Date())`. */
  date?: () => string;
  /** Randomness for digest nonces (tests). */
  random?: (n: number) => Uint8Array;
}

export type RtspServerState = 'init' | 'announced' | 'described' | 'recording' | 'playing' | 'closed';

function isThenable<T>(v: Awaitable<T>): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class RtspServerConn {
  private _state: RtspServerState = 'init';
  private readonly reader = new RtspMessageReader();
  private readonly sink: ByteSink;
  private readonly log: Logger;
  private readonly handler: RtspServerHandler;
  private readonly auth: RtspServerAuth | undefined;
  private readonly allocUdpPorts: RtspServerConnOptions['allocUdpPorts'];
  private readonly clientIp: string;
  private readonly ws: boolean;
  private readonly date: () => string;
  private _role: 'pub' | 'sub' | undefined;
  private _info: RtspStreamInfo | undefined;
  private _sdpText = '';
  private _controls: string[] | undefined;
  private _bytesRead = 0;
  private waiting = false;
  private queue: RtspItem[] = [];

  constructor(opts: RtspServerConnOptions) {
    this.sink = opts.sink;
    this.log = opts.log;
    this.handler = opts.handler;
    this.auth = opts.auth ? new RtspServerAuth({ ...opts.auth, random: opts.random }) : undefined;
    this.allocUdpPorts = opts.allocUdpPorts;
    this.clientIp = opts.clientIp;
    this.ws = opts.ws ?? false;
    this.date = opts.date ?? (() => formatRtspDate(new Date()));
  }

  get state(): RtspServerState {
    return this._state;
  }
  /** `pub` after ANNOUNCE, `sub` after DESCRIBE. */
  get role(): 'pub' | 'sub' | undefined {
    return this._role;
  }
  /** Stream identity from the ANNOUNCE/DESCRIBE URI (undefined before). */
  get info(): RtspStreamInfo | undefined {
    return this._info;
  }
  /** The SDP announced by the publisher or sent to the player ('' before). */
  get sdpText(): string {
    return this._sdpText;
  }
  get controls(): readonly string[] {
    return this._controls ?? [];
  }
  get bytesRead(): number {
    return this._bytesRead;
  }
  /** An ANNOUNCE/DESCRIBE answer is pending (input is being queued). */
  get isWaiting(): boolean {
    return this.waiting;
  }

  /** Stop: ignore further input and late handler answers. */
  close(): void {
    this._state = 'closed';
    this.queue = [];
  }

  /** State check that TS does not narrow away (handlers may close the conn). */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  /** Consume bytes from the peer. Throws ParseError/ProtocolError on violations. */
  feed(chunk: Uint8Array): void {
    if (this.isClosed()) return;
    this._bytesRead += chunk.length;
    try {
      const items = this.reader.feed(chunk);
      for (let i = 0; i < items.length; i++) {
        if (this.isClosed()) return;
        if (this.waiting) {
          if (this.queue.length + items.length - i > MAX_QUEUED_WHILE_WAITING) {
            throw new ProtocolError(`rtsp: more than ${MAX_QUEUED_WHILE_WAITING} messages while waiting for the stream`, 'queue-full');
          }
          for (let j = i; j < items.length; j++) this.queue.push(items[j]);
          return;
        }
        this.process(items[i]);
      }
    } catch (e) {
      this._state = 'closed';
      this.queue = [];
      throw e;
    }
  }

  /**
   * Send one RTP/RTCP packet to a player over TCP (or WebSocket): the `$ ch len` prefix (with
   * the WS frame header in ws mode) and then the shared packet as a second write, never copied.
   * Returns the sink's result for the packet.
   */
  sendInterleaved(channel: number, packet: Uint8Array): boolean {
    const head = this.ws ? encodeWsInterleavedHeader(channel, packet.length) : encodeInterleavedHeader(channel, packet.length);
    this.sink.write(head);
    return this.sink.write(packet);
  }

  private fail(err: unknown): void {
    if (this.isClosed()) return;
    this._state = 'closed';
    this.queue = [];
    this.handler.onError(err instanceof Error ? err : new LalError('rtsp', `rtsp: ${String(err)}`));
  }

  /** Run `then` with the handler's answer now, or once its Promise settles (queueing input meanwhile). */
  private settle<T>(v: Awaitable<T>, then: (r: T) => void): void {
    if (!isThenable(v)) {
      then(v);
      return;
    }
    this.waiting = true;
    v.then(
      (r) => {
        if (this.isClosed()) return;
        this.waiting = false;
        try {
          then(r);
          while (!this.waiting && !this.isClosed() && this.queue.length > 0) this.process(this.queue.shift() as RtspItem);
        } catch (e) {
          this.fail(e);
        }
      },
      (e: unknown) => this.fail(e),
    );
  }

  private reply(headers: RtspHeaderList, status = 200, body?: string): void {
    const bytes = encodeRtspResponse({ status, headers, body });
    this.sink.write(this.ws ? encodeWsFrame(WsOpcode.Binary, bytes) : bytes);
  }

  private process(item: RtspItem): void {
    if (item.type === 'interleaved') {
      this.handler.onInterleaved(item.channel, item.payload);
      return;
    }
    if (item.type === 'response') {
      this.log.debug(`rtsp < unexpected response ${item.status} ignored`);
      return;
    }
    this.onRequest(item);
  }

  private onRequest(req: RtspRequest): void {
    const cseq = req.headers.get('CSeq');
    this.log.debug(`rtsp < ${req.method} ${quoteName(req.uri, 200)} CSeq=${cseq ?? '(none)'}`);
    if (cseq === undefined) {
      this.reply([], 400);
      throw new ProtocolError(`rtsp: ${req.method} without CSeq`, 'bad-request');
    }
    switch (req.method) {
      case 'OPTIONS':
        this.reply([
          ['Server', RTSP_SERVER_NAME],
          ['CSeq', cseq],
          ['Public', RTSP_PUBLIC_METHODS],
        ]);
        return;
      case 'ANNOUNCE':
        this.onAnnounce(req, cseq);
        return;
      case 'DESCRIBE':
        this.onDescribe(req, cseq);
        return;
      case 'SETUP':
        this.onSetup(req, cseq);
        return;
      case 'PLAY':
        if (this._role !== 'sub' || (this._state !== 'described' && this._state !== 'playing')) {
          throw new ProtocolError('rtsp: PLAY before DESCRIBE', 'sequence');
        }
        this.reply([
          ['CSeq', cseq],
          ['Date', this.date()],
        ]);
        if (this._state === 'described') {
          this._state = 'playing';
          this.log.info(`rtsp play ${this._info?.streamName ?? ''} started`);
          this.handler.onPlay();
        }
        return;
      case 'RECORD':
        if (this._role !== 'pub' || (this._state !== 'announced' && this._state !== 'recording')) {
          throw new ProtocolError('rtsp: RECORD before ANNOUNCE', 'sequence');
        }
        this.reply([
          ['CSeq', cseq],
          ['Session', RTSP_SESSION_ID],
        ]);
        if (this._state === 'announced') {
          this._state = 'recording';
          this.log.info(`rtsp record ${this._info?.streamName ?? ''} started`);
          this.handler.onRecord();
        }
        return;
      case 'TEARDOWN':
        this.reply([['CSeq', cseq]]);
        this._state = 'closed';
        this.queue = [];
        this.log.info('rtsp < TEARDOWN');
        this.handler.onTeardown();
        return;
      case 'PAUSE':
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        this.reply([
          ['CSeq', cseq],
          ['Session', RTSP_SESSION_ID],
        ]);
        return;
      default:
        this.log.debug(`rtsp < ${req.method} not implemented`);
        this.reply([['CSeq', cseq]], 501);
    }
  }

  private streamInfo(uri: string): RtspStreamInfo {
    const u = parseRtspUrl(uri);
    return { url: uri, appName: u.appName, streamName: u.streamName, urlParam: u.query };
  }

  private requireFresh(method: string): void {
    if (this._role !== undefined) throw new ProtocolError(`rtsp: ${method} after ${this._role === 'pub' ? 'ANNOUNCE' : 'DESCRIBE'} on one connection`, 'sequence');
  }

  private onAnnounce(req: RtspRequest, cseq: string): void {
    this.requireFresh('ANNOUNCE');
    const info = this.streamInfo(req.uri);
    const sdpText = rtspBodyText(req);
    this._role = 'pub';
    this._info = info;
    this.log.info(`rtsp < ANNOUNCE ${quoteName(req.uri, 200)}`);
    this.settle(this.handler.onAnnounce({ ...info, sdpText }), (r) => {
      if (!r) throw new ProtocolError(`rtsp: ANNOUNCE ${info.streamName} refused`, 'refused');
      this._controls = r.controls.slice();
      this._sdpText = sdpText;
      this._state = 'announced';
      this.reply([['CSeq', cseq]]);
    });
  }

  private onDescribe(req: RtspRequest, cseq: string): void {
    if (this._role !== 'sub') this.requireFresh('DESCRIBE');
    if (this.auth !== undefined) {
      const r = this.auth.verify('DESCRIBE', req.headers.get('Authorization'));
      if (r === 'missing') {
        this.reply([
          ['CSeq', cseq],
          ['Date', this.date()],
          ['WWW-Authenticate', this.auth.challenge()],
        ], 401);
        return;
      }
      if (r !== 'ok') throw new ProtocolError(`rtsp: DESCRIBE authentication failed (${r})`, 'auth');
    }
    const info = this.streamInfo(req.uri);
    if (this._role === 'sub') {
      // Requests are processed in order, so the first DESCRIBE was answered (or refused, which
      // closed the connection) before this one is looked at.
      const first = this._info;
      if (!first || first.appName !== info.appName || first.streamName !== info.streamName) {
        throw new ProtocolError(`rtsp: DESCRIBE of ${info.streamName} after DESCRIBE of ${first?.streamName ?? '?'} on one connection`, 'sequence');
      }
      this.log.debug(`rtsp < DESCRIBE ${quoteName(req.uri, 200)} again`);
      this.replySdp(cseq, this._sdpText);
      return;
    }
    this._role = 'sub';
    this._info = info;
    this.log.info(`rtsp < DESCRIBE ${quoteName(req.uri, 200)}`);
    this.settle(this.handler.onDescribe(info), (r) => {
      if (!r) throw new ProtocolError(`rtsp: DESCRIBE ${info.streamName} refused`, 'refused');
      this._controls = r.controls.slice();
      this._sdpText = r.sdpText;
      this._state = 'described';
      this.replySdp(cseq, r.sdpText);
    });
  }

  private replySdp(cseq: string, sdpText: string): void {
    this.reply(
      [
        ['CSeq', cseq],
        ['Date', this.date()],
        ['Content-Type', 'application/sdp'],
        ['Content-Length', String(Buffer.byteLength(sdpText, 'utf8'))],
      ],
      200,
      sdpText,
    );
  }

  private onSetup(req: RtspRequest, cseq: string): void {
    const controls = this._controls;
    if (controls === undefined || this._state === 'init') throw new ProtocolError('rtsp: SETUP before ANNOUNCE/DESCRIBE', 'sequence');
    const trackIndex = controls.findIndex((c) => req.uri.endsWith(c));
    if (trackIndex < 0) throw new ProtocolError(`rtsp: SETUP ${req.uri} matches no track control`, 'unknown-track');
    const control = controls[trackIndex];
    const header = req.headers.get('Transport');
    if (header === undefined) throw new ProtocolError('rtsp: SETUP without Transport', 'bad-transport');
    const specs = parseRtspTransport(header);
    const tcp = specs.find((s) => s.interleaved !== undefined || s.lower === 'tcp');
    const udp = specs.find((s) => s.lower === 'udp' && s.delivery !== 'multicast' && s.clientPort !== undefined);
    const spec = specs.find((s) => s === tcp || s === udp);
    if (spec === undefined) throw new ProtocolError(`rtsp: unsupported Transport ${header.slice(0, 120)}`, 'bad-transport');
    let answer: string;
    if (spec === tcp) {
      const channels = spec.interleaved ?? ([trackIndex * 2, trackIndex * 2 + 1] as [number, number]);
      answer = spec.interleaved !== undefined ? spec.raw : formatRtspTransport({ protocol: spec.protocol, delivery: 'unicast', interleaved: channels, mode: spec.mode });
      this.handler.onSetup({ trackIndex, control, uri: req.uri, transport: 'tcp', rtpChannel: channels[0], rtcpChannel: channels[1] });
    } else {
      const client = spec.clientPort as [number, number];
      const ports = this.allocUdpPorts(trackIndex);
      if (ports === undefined) {
        this.log.debug(`rtsp < SETUP ${req.uri} over UDP: no port pair for this connection, 461`);
        this.reply([['CSeq', cseq]], 461);
        return;
      }
      answer = formatRtspTransport({
        protocol: 'RTP/AVP/UDP',
        delivery: 'unicast',
        clientPort: client,
        serverPort: [ports.rtp, ports.rtcp],
        mode: this._role === 'pub' ? 'record' : undefined,
      });
      this.handler.onSetup({
        trackIndex,
        control,
        uri: req.uri,
        transport: 'udp',
        clientIp: this.clientIp,
        clientRtpPort: client[0],
        clientRtcpPort: client[1],
        serverRtpPort: ports.rtp,
        serverRtcpPort: ports.rtcp,
      });
    }
    this.reply([
      ['CSeq', cseq],
      ['Date', this.date()],
      ['Session', RTSP_SESSION_ID],
      ['Transport', answer],
    ]);
  }
}
