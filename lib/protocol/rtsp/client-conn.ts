/**
 * Sans-I/O RTSP client connection for pull and push (docs/protocols.md §7.2; RFC 2326; docs/architecture.md
 * §1.2). The caller opens the TCP socket (TLS when `tls` is true: `rtsps://`, docs/quirks.md
 * docs/quirks.md Q-RTSP-6 FIX), calls `start()`, feeds received bytes and enforces the overall timeout:
 *
 *   pull: OPTIONS → DESCRIBE (Accept: application/sdp) → SETUP each track → PLAY (Range: npt=0.000-)
 *   push: OPTIONS → ANNOUNCE (SDP body) → SETUP each track (mode=record) → RECORD (Range: npt=0.000-)
 *
 * - Headers: CSeq 1,2,3…, `User-Agent: lal/<ver>`, then the method's own, `Session` (the
 *   server's SETUP value before any `;`) once known, `Authorization` once a 401 arrived,
 *   `Content-Length` with a body.
 * - 401: the request is re-sent once with credentials from the URL (first usable Basic/Digest
 *   challenge, auth.ts). The digest `uri` is the request URI (RFC 2617 §3.2.2; upstream always
 *   uses the base URL; servers that check it expect the request URI, as ffmpeg sends).
 * - SETUP: track URI = absolute `a=control`, else `<base url>/<control>`; transport TCP
 *   `RTP/AVP/TCP;unicast;interleaved=2k-2k+1` or UDP `RTP/AVP/UDP;unicast;client_port=p-p+1`
 *   (ports from `allocUdpPorts`). `461 Unsupported Transport` switches to the other transport
 *   for that and later tracks (once). A pull tolerates a missing `server_port`; a push does not.
 *   The caller sends the NAT probes (RTP_NAT_PROBE / RTCP_NAT_PROBE) for UDP pulls from
 *   `onSetup`.
 * - Any other status outside 2xx is an error (docs/quirks.md Q-RTSP-6 FIX; upstream accepts anything).
 * - Keep-alive: when the OPTIONS `Public` lists GET_PARAMETER, a GET_PARAMETER every 10 s once
 *   started (timer injected); its answer is ignored.
 * Errors never escape `feed()`: the conn moves to `closed` and calls `handler.onError` once.
 */
import { LalError, ProtocolError } from '../../core/errors.ts';
import type { ByteSink } from '../../core/sink.ts';
import type { Logger } from '../../core/log.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { RtspMessageReader, encodeRtspRequest, encodeRtspResponse, rtspBodyText, type RtspHeaderList, type RtspRequest, type RtspResponse } from './message.ts';
import { encodeInterleavedHeader } from './interleaved.ts';
import { pickRtspAuthChallenge, rtspAuthorization, type RtspAuthChallenge } from './auth.ts';
import { parseRtspTransport, type RtspSetupTrack, type RtspTcpSetup } from './transport.ts';
import { parseRtspUrl, rtspTrackUrl, type RtspUrl } from './url.ts';
import type { RtspDescribeResult, RtspTracks } from './server-conn.ts';

export const RTSP_USER_AGENT = `lal/${LAL_VERSION}`;
export const RTSP_KEEPALIVE_INTERVAL_MS = 10_000;
/** Sent once to each server RTP port after a UDP pull's SETUPs, to open NAT bindings. */
export const RTP_NAT_PROBE: Uint8Array = Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Sent once to each server RTCP port (an empty Receiver Report). */
export const RTCP_NAT_PROBE: Uint8Array = Uint8Array.from([0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 0]);
/** Unanswered keep-alives remembered (their answers are recognised and dropped). */
const MAX_KEEPALIVES_TRACKED = 8;

export type RtspClientSetup =
  | RtspTcpSetup
  | (RtspSetupTrack & {
      transport: 'udp';
      clientRtpPort: number;
      clientRtcpPort: number;
      /** Absent when a pull's server did not say (tolerated). */
      serverRtpPort?: number;
      serverRtcpPort?: number;
    });

export interface RtspClientHandler {
  /** Pull: the DESCRIBE answer. Return the track controls to SETUP, in order (video, then audio). */
  onSdp?(sdpText: string): RtspTracks;
  /** A SETUP was answered (UDP callers bind/probe here). */
  onSetup?(info: RtspClientSetup): void;
  /** PLAY / RECORD answered with success. */
  onStarted(): void;
  /** An interleaved frame from the server (pull RTP/RTCP over TCP, RTCP for a push). A view. */
  onInterleaved(channel: number, payload: Uint8Array): void;
  /** The connection failed (called once; the conn is then closed). */
  onError(err: Error): void;
}

export type RtspClientState = 'idle' | 'options' | 'describe' | 'announce' | 'setup' | 'starting' | 'playing' | 'recording' | 'closed';

export interface RtspClientConnOptions {
  sink: ByteSink;
  log: Logger;
  /** `rtsp[s]://[user:pass@]host[:port]/path[?query]` (docs/urls.md §4). */
  url: string;
  mode: 'pull' | 'push';
  handler: RtspClientHandler;
  /** First transport to try (default tcp). */
  transport?: 'tcp' | 'udp';
  /** Push: the SDP to ANNOUNCE and its track controls in SETUP order. */
  sdp?: RtspDescribeResult;
  /** Local UDP port pair for a UDP SETUP (from the 30000–60000 allocator). */
  allocUdpPorts?: () => { rtp: number; rtcp: number } | undefined;
  /** Run `fn` every `ms`; returns a cancel function. Default: setInterval. */
  keepAliveTimer?: (fn: () => void, ms: number) => () => void;
  /** Digest client nonce (tests); default random. */
  cnonce?: () => string;
}

interface Pending {
  method: string;
  uri: string;
  extra: RtspHeaderList;
  body?: string;
  cseq: number;
  authRetried: boolean;
}

function defaultTimer(fn: () => void, ms: number): () => void {
  const h = setInterval(fn, ms);
  return () => clearInterval(h);
}

export class RtspClientConn {
  /** The parsed URL (credentials, base URL, host, port). */
  readonly target: RtspUrl;
  private _state: RtspClientState = 'idle';
  private readonly reader = new RtspMessageReader();
  private readonly sink: ByteSink;
  private readonly log: Logger;
  private readonly mode: 'pull' | 'push';
  private readonly handler: RtspClientHandler;
  private readonly opts: RtspClientConnOptions;
  private transport: 'tcp' | 'udp';
  private cseq = 0;
  private inflight: Pending | undefined;
  private readonly keepAlives: number[] = [];
  private challenge: RtspAuthChallenge | undefined;
  private nc = 0;
  private _session = '';
  private _public = '';
  private _sdpText = '';
  private controls: string[] = [];
  private trackIndex = 0;
  private switchedTransport = false;
  private pendingPorts: { rtp: number; rtcp: number } | undefined;
  private readonly _setups: RtspClientSetup[] = [];
  private cancelKeepAlive: (() => void) | undefined;
  private _bytesRead = 0;

  /** Throws ParseError for an invalid URL, LalError for inconsistent options. */
  constructor(opts: RtspClientConnOptions) {
    this.target = parseRtspUrl(opts.url);
    this.opts = opts;
    this.sink = opts.sink;
    this.log = opts.log;
    this.mode = opts.mode;
    this.handler = opts.handler;
    this.transport = opts.transport ?? 'tcp';
    if (opts.mode === 'push' && opts.sdp === undefined) throw new LalError('rtsp-client', 'rtsp: push needs the SDP to announce');
    if (opts.mode === 'pull' && opts.handler.onSdp === undefined) throw new LalError('rtsp-client', 'rtsp: pull needs handler.onSdp');
    if (this.transport === 'udp' && opts.allocUdpPorts === undefined) throw new LalError('rtsp-client', 'rtsp: UDP transport needs allocUdpPorts');
  }

  get state(): RtspClientState {
    return this._state;
  }
  /** Connect with TLS (`rtsps://`). */
  get tls(): boolean {
    return this.target.scheme === 'rtsps';
  }
  /** Session id from the server's SETUP answer ('' before). */
  get session(): string {
    return this._session;
  }
  /** `Public` of the OPTIONS answer. */
  get publicMethods(): string {
    return this._public;
  }
  /** Pull: the DESCRIBE body; push: the announced SDP. */
  get sdpText(): string {
    return this._sdpText;
  }
  get setups(): readonly RtspClientSetup[] {
    return this._setups;
  }
  get bytesRead(): number {
    return this._bytesRead;
  }

  /** Write OPTIONS. */
  start(): void {
    if (this._state !== 'idle') throw new LalError('state', 'rtsp: client already started');
    this._state = 'options';
    this.send('OPTIONS', this.target.baseUrl, []);
  }

  /** Stop reacting to input and stop the keep-alive timer; no callback fires afterwards. */
  close(): void {
    this._state = 'closed';
    this.stopKeepAlive();
  }

  private isClosed(): boolean {
    return this._state === 'closed';
  }

  /** Consume bytes from the server. Never throws for peer errors: see handler.onError. */
  feed(chunk: Uint8Array): void {
    if (this.isClosed()) return;
    if (this._state === 'idle') throw new LalError('state', 'rtsp: client fed before start()');
    this._bytesRead += chunk.length;
    try {
      const items = this.reader.feed(chunk);
      for (let i = 0; i < items.length; i++) {
        if (this.isClosed()) return;
        const it = items[i];
        if (it.type === 'interleaved') this.handler.onInterleaved(it.channel, it.payload);
        else if (it.type === 'response') this.onResponse(it);
        else this.onServerRequest(it);
      }
    } catch (e) {
      if (!(e instanceof LalError)) throw e;
      this.fail(e);
    }
  }

  /**
   * Push over TCP, after onStarted: one RTP/RTCP packet as `$ ch len` + the packet (two writes,
   * the packet is not copied). Returns the sink's result for the packet.
   */
  sendInterleaved(channel: number, packet: Uint8Array): boolean {
    this.sink.write(encodeInterleavedHeader(channel, packet.length));
    return this.sink.write(packet);
  }

  private fail(err: Error): void {
    if (this.isClosed()) return;
    this._state = 'closed';
    this.stopKeepAlive();
    this.handler.onError(err);
  }

  private stopKeepAlive(): void {
    this.cancelKeepAlive?.();
    this.cancelKeepAlive = undefined;
  }

  private headersFor(method: string, uri: string, cseq: number, extra: RtspHeaderList): [string, string][] {
    const h: [string, string][] = [
      ['CSeq', String(cseq)],
      ['User-Agent', RTSP_USER_AGENT],
    ];
    for (const [n, v] of extra) h.push([n, v]);
    if (this._session !== '') h.push(['Session', this._session]);
    if (this.challenge !== undefined) {
      h.push([
        'Authorization',
        rtspAuthorization(this.challenge, {
          username: this.target.username,
          password: this.target.password,
          method,
          uri,
          nc: ++this.nc,
          cnonce: this.opts.cnonce?.(),
        }),
      ]);
    }
    return h;
  }

  private send(method: string, uri: string, extra: RtspHeaderList, body?: string, authRetried = false): void {
    const cseq = ++this.cseq;
    this.inflight = { method, uri, extra, body, cseq, authRetried };
    this.log.debug(`rtsp > ${method} ${uri} CSeq=${cseq}`);
    this.sink.write(encodeRtspRequest({ method, uri, headers: this.headersFor(method, uri, cseq, extra), body }));
  }

  private sendKeepAlive(): void {
    if (this._state !== 'playing' && this._state !== 'recording') return;
    const cseq = ++this.cseq;
    this.keepAlives.push(cseq);
    if (this.keepAlives.length > MAX_KEEPALIVES_TRACKED) this.keepAlives.shift();
    const uri = this.target.baseUrl;
    this.log.trace(`rtsp > GET_PARAMETER keep-alive CSeq=${cseq}`);
    this.sink.write(encodeRtspRequest({ method: 'GET_PARAMETER', uri, headers: this.headersFor('GET_PARAMETER', uri, cseq, []) }));
  }

  /** Requests from the server (rare): OPTIONS/GET_PARAMETER get 200, anything else 501. */
  private onServerRequest(req: RtspRequest): void {
    const cseq = req.headers.get('CSeq') ?? '';
    const ok = req.method === 'OPTIONS' || req.method === 'GET_PARAMETER';
    this.log.debug(`rtsp < server request ${req.method} answered ${ok ? 200 : 501}`);
    this.sink.write(encodeRtspResponse({ status: ok ? 200 : 501, headers: [['CSeq', cseq]] }));
  }

  private onResponse(res: RtspResponse): void {
    const cseqText = res.headers.get('CSeq');
    const cseq = cseqText !== undefined && /^\d+$/.test(cseqText) ? Number(cseqText) : undefined;
    if (cseq !== undefined) {
      const k = this.keepAlives.indexOf(cseq);
      if (k >= 0) {
        this.keepAlives.splice(k, 1);
        this.log.trace(`rtsp < keep-alive answered ${res.status}`);
        return;
      }
    }
    const req = this.inflight;
    if (req === undefined || (cseq !== undefined && cseq !== req.cseq)) {
      this.log.debug(`rtsp < unexpected response ${res.status} CSeq=${cseqText ?? '(none)'} ignored`);
      return;
    }
    this.inflight = undefined;
    this.log.debug(`rtsp < ${res.status} ${res.reason} for ${req.method}`);
    if (res.status === 401) {
      this.onUnauthorized(req, res);
      return;
    }
    if (res.status === 461 && req.method === 'SETUP') {
      this.onUnsupportedTransport();
      return;
    }
    if (res.status < 200 || res.status > 299) {
      throw new ProtocolError(`rtsp: ${req.method} ${req.uri} answered ${res.status} ${res.reason}`.trim(), 'status');
    }
    switch (req.method) {
      case 'OPTIONS':
        this._public = res.headers.get('Public') ?? '';
        if (this.mode === 'pull') {
          this._state = 'describe';
          this.send('DESCRIBE', this.target.baseUrl, [['Accept', 'application/sdp']]);
        } else {
          const sdp = this.opts.sdp as RtspDescribeResult;
          this._state = 'announce';
          this._sdpText = sdp.sdpText;
          this.send('ANNOUNCE', this.target.baseUrl, [['Content-Type', 'application/sdp']], sdp.sdpText);
        }
        return;
      case 'DESCRIBE': {
        this._sdpText = rtspBodyText(res);
        const onSdp = this.handler.onSdp as (sdp: string) => RtspTracks;
        this.beginSetup(onSdp(this._sdpText).controls);
        return;
      }
      case 'ANNOUNCE':
        this.beginSetup((this.opts.sdp as RtspDescribeResult).controls);
        return;
      case 'SETUP':
        this.onSetupAnswer(req, res);
        return;
      case 'PLAY':
      case 'RECORD':
        this._state = req.method === 'PLAY' ? 'playing' : 'recording';
        this.log.info(`rtsp ${this.mode} started: ${this.target.baseUrl}`);
        if (/\bGET_PARAMETER\b/.test(this._public)) {
          const timer = this.opts.keepAliveTimer ?? defaultTimer;
          this.cancelKeepAlive = timer(() => this.sendKeepAlive(), RTSP_KEEPALIVE_INTERVAL_MS);
        }
        this.handler.onStarted();
        return;
      default:
        return;
    }
  }

  private onUnauthorized(req: Pending, res: RtspResponse): void {
    if (req.authRetried) throw new ProtocolError(`rtsp: ${req.method} still 401 Unauthorized with credentials`, 'auth');
    if (this.target.username === '') throw new ProtocolError(`rtsp: ${req.method} needs authentication and the url has no credentials`, 'auth');
    const ch = pickRtspAuthChallenge(res.headers.getAll('WWW-Authenticate'));
    if (ch === undefined) throw new ProtocolError('rtsp: 401 without a usable Basic/Digest challenge', 'auth');
    this.challenge = ch;
    this.nc = 0;
    this.send(req.method, req.uri, req.extra, req.body, true);
  }

  private onUnsupportedTransport(): void {
    if (this.switchedTransport) throw new ProtocolError('rtsp: SETUP refused both TCP and UDP transports (461)', 'transport');
    this.switchedTransport = true;
    this.transport = this.transport === 'tcp' ? 'udp' : 'tcp';
    this.log.info(`rtsp: 461 Unsupported Transport, switching to ${this.transport}`);
    this.sendSetup();
  }

  private beginSetup(controls: string[]): void {
    if (controls.length === 0) throw new ProtocolError('rtsp: the SDP has no usable track', 'no-track');
    this.controls = controls.slice();
    this.trackIndex = 0;
    this._state = 'setup';
    this.sendSetup();
  }

  private sendSetup(): void {
    const i = this.trackIndex;
    const control = this.controls[i];
    const uri = rtspTrackUrl(this.target.baseUrl, control);
    const record = this.mode === 'push' ? ';mode=record' : '';
    let t: string;
    if (this.transport === 'tcp') {
      t = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}${record}`;
    } else {
      const ports = this.opts.allocUdpPorts?.();
      if (ports === undefined) throw new ProtocolError('rtsp: no local UDP port pair for SETUP', 'no-port');
      this.pendingPorts = ports;
      t = `RTP/AVP/UDP;unicast;client_port=${ports.rtp}-${ports.rtcp}${record}`;
    }
    this.send('SETUP', uri, [['Transport', t]]);
  }

  private onSetupAnswer(req: Pending, res: RtspResponse): void {
    const s = res.headers.get('Session');
    if (s !== undefined && s.trim() !== '') this._session = s.split(';')[0].trim();
    const th = res.headers.get('Transport');
    const spec = th !== undefined ? parseRtspTransport(th)[0] : undefined;
    const i = this.trackIndex;
    const control = this.controls[i];
    let info: RtspClientSetup;
    if (this.transport === 'tcp') {
      const ch = spec?.interleaved ?? [2 * i, 2 * i + 1];
      info = { trackIndex: i, control, uri: req.uri, transport: 'tcp', rtpChannel: ch[0], rtcpChannel: ch[1] };
    } else {
      const ports = this.pendingPorts as { rtp: number; rtcp: number };
      const sp = spec?.serverPort;
      if (sp === undefined && this.mode === 'push') throw new ProtocolError('rtsp: SETUP answer has no server_port', 'transport');
      info = { trackIndex: i, control, uri: req.uri, transport: 'udp', clientRtpPort: ports.rtp, clientRtcpPort: ports.rtcp, serverRtpPort: sp?.[0], serverRtcpPort: sp?.[1] };
    }
    this._setups.push(info);
    this.handler.onSetup?.(info);
    if (this.isClosed()) return;
    this.trackIndex++;
    if (this.trackIndex < this.controls.length) {
      this.sendSetup();
      return;
    }
    this._state = 'starting';
    this.send(this.mode === 'pull' ? 'PLAY' : 'RECORD', this.target.baseUrl, [['Range', 'npt=0.000-']]);
  }
}
