/**
 * Sans-I/O RTMP server connection (docs/protocols.md §2; docs/urls.md §3; docs/architecture.md §1.2): bytes in
 * through `feed()`, replies out through the injected ByteSink, decisions through a handler.
 *
 * Flow: handshake → `connect` (Window Ack Size 5000000, Set Peer Bandwidth 5000000 dynamic,
 * Set Chunk Size 4096, `_result`) → `createStream` (`_result(tid, null, 1)`) → `publish` or
 * `play`. Violations throw ParseError/ProtocolError out of `feed()`; the caller logs and closes.
 *
 * Refusals (docs/quirks.md Q-PUB-1, our choice): when `onPublish` returns false the conn sends
 * `onStatus` level `error`, code `NetStream.Publish.BadName` (for `onPlay`:
 * `NetStream.Play.Failed`) instead of LAL's `…Start`, moves to state `closed` and ignores all
 * further input. It does not close the sink itself: the session, which refused, closes the
 * socket (after the current `feed()` returns), so the status is flushed first.
 */
import { quoteName } from '../../core/stream-name.ts';
import { ProtocolError, ParseError } from '../../core/errors.ts';
import type { ByteSink } from '../../core/sink.ts';
import type { Logger } from '../../core/log.ts';
import { decodeAmf0, type Amf0Value } from '../../format/amf0/index.ts';
import { RtmpServerHandshake } from './handshake.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import {
  ACK_SEQ_WRAP,
  ACK_THRESHOLD,
  CONNECT_RESULT_VERSION,
  FMS_CAPABILITIES,
  FMS_VERSION,
  MSID_STREAM,
  OUT_CHUNK_SIZE,
  PEER_BANDWIDTH,
  PeerBandwidthLimit,
  RtmpCsid,
  RtmpMsgType,
  UserControlEvent,
  WINDOW_ACK_SIZE,
} from './constants.ts';
import {
  acknowledgement,
  command,
  parseCommand,
  parseUserControl,
  pingResponse,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamIsRecorded,
  windowAckSize,
  type RtmpCommand,
} from './messages.ts';

/** What the server session decides; called synchronously from `feed()`. */
export interface RtmpServerHandler {
  /** `connect` arrived (before the replies are written; docs/protocols.md §2.5 on_rtmp_connect). */
  onConnect(info: { app: string; tcUrl: string; object: Record<string, Amf0Value> }): void;
  /** `publish`: return true to accept (onStatus Publish.Start), false to refuse (BadName, closed). */
  onPublish(info: { streamName: string; urlParam: string; url: string; type: string }): boolean;
  /**
   * `play`: return true to accept (Stream Is Recorded, Stream Begin, onStatus Play.Start are
   * then written). Only decide here: bytes written to the socket inside `onPlay` would precede
   * those replies. Attach the player (GOP replay, live media) in `onPlayStarted`.
   */
  onPlay(info: { streamName: string; urlParam: string; url: string }): boolean;
  /** Called right after the Play.Start replies were written: start sending media now. */
  onPlayStarted?(): void;
  /** Audio (8), video (9) and data (18, except `|RtmpSampleAccess`) of a publisher. */
  onMedia(msg: RtmpMessage): void;
  /** `deleteStream` (the session need not end; the TCP close does, docs/protocols.md §2.5). */
  onDeleteStream?(): void;
}

export type RtmpServerState = 'handshake' | 'connected' | 'publishing' | 'playing' | 'closed';

export interface RtmpServerConnOptions {
  sink: ByteSink;
  log: Logger;
  handler: RtmpServerHandler;
  /** Largest message body accepted (default MAX_MESSAGE_LENGTH). */
  maxMessageLength?: number;
  /** S1 time field (tests); default Date.now(). */
  handshakeTime?: number;
}

/**
 * Split `name?query` as LAL does (docs/urls.md §3): stream name up to the first `?`; the query only
 * when there is exactly one `?` (docs/quirks.md Q-RTMP-3: two or more drop it).
 */
export function splitStreamName(nameWithQuery: string): { streamName: string; urlParam: string } {
  const parts = nameWithQuery.split('?');
  return { streamName: parts[0], urlParam: parts.length === 2 ? parts[1] : '' };
}

export class RtmpServerConn {
  private _state: RtmpServerState = 'handshake';
  private readonly hs: RtmpServerHandshake;
  private readonly reader: RtmpChunkReader;
  private readonly sink: ByteSink;
  private readonly log: Logger;
  private readonly handler: RtmpServerHandler;
  private _bytesRead = 0;
  private connected = false;
  private _app = '';
  private _tcUrl = '';
  private _streamName = '';
  private _urlParam = '';
  private _url = '';
  /** Peer's Window Acknowledgement Size (0 = not set: we send no acknowledgements). */
  private peerWindow = 0;
  private lastAckAt = 0;
  private ackBase = 0;

  constructor(opts: RtmpServerConnOptions) {
    this.sink = opts.sink;
    this.log = opts.log;
    this.handler = opts.handler;
    this.hs = new RtmpServerHandshake({ time: opts.handshakeTime });
    this.reader = new RtmpChunkReader({ maxMessageLength: opts.maxMessageLength });
  }

  get state(): RtmpServerState {
    return this._state;
  }
  /** `app` of `connect`, verbatim. */
  get app(): string {
    return this._app;
  }
  /** `tcUrl` of `connect` ('' when absent). */
  get tcUrl(): string {
    return this._tcUrl;
  }
  /** Stream name of `publish`/`play`, up to the first `?`. */
  get streamName(): string {
    return this._streamName;
  }
  /** Query of the publish/play name (docs/urls.md §3 `url_param`). */
  get urlParam(): string {
    return this._urlParam;
  }
  /** `<tcUrl>/<name as sent>` (docs/urls.md §3). */
  get url(): string {
    return this._url;
  }
  /** Every byte fed, handshake included. */
  get bytesRead(): number {
    return this._bytesRead;
  }

  /** State check that TS does not narrow away (handlers may close the conn). */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  /** Consume bytes from the peer. Throws ParseError/ProtocolError on violations. */
  feed(chunk: Uint8Array): void {
    if (this._state === 'closed') return;
    this._bytesRead += chunk.length;
    let data: Uint8Array | undefined = chunk;
    if (this._state === 'handshake') {
      const step = this.hs.feed(chunk);
      if (step.out) this.sink.write(step.out);
      if (!step.done) return;
      this.log.debug(`rtmp handshake done (${this.hs.mode})`);
      this._state = 'connected';
      data = step.rest;
    }
    if (data !== undefined && data.length > 0) {
      const msgs = this.reader.feed(data);
      for (let i = 0; i < msgs.length; i++) {
        this.onMessage(msgs[i]);
        if (this.isClosed()) return;
      }
    }
    this.maybeAck();
  }

  private maybeAck(): void {
    if (this.peerWindow === 0 || this._bytesRead - this.lastAckAt < ACK_THRESHOLD) return;
    this.lastAckAt = this._bytesRead;
    let seq = this._bytesRead - this.ackBase;
    if (seq > ACK_SEQ_WRAP) {
      this.ackBase = this._bytesRead;
      seq = 0;
    }
    this.sink.write(acknowledgement(seq));
  }

  private onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case RtmpMsgType.SetChunkSize:
      case RtmpMsgType.Abort:
        return; // applied by the chunk reader
      case RtmpMsgType.Ack:
        this.log.trace(`rtmp < acknowledgement ${msg.body.length >= 4 ? new DataView(msg.body.buffer, msg.body.byteOffset, 4).getUint32(0) : '?'}`);
        return;
      case RtmpMsgType.WindowAckSize:
        if (msg.body.length >= 4) {
          this.peerWindow = new DataView(msg.body.buffer, msg.body.byteOffset, 4).getUint32(0);
          this.log.debug(`rtmp < window ack size ${this.peerWindow}`);
        }
        return;
      case RtmpMsgType.UserControl: {
        const uc = parseUserControl(msg.body);
        if (uc && uc.event === UserControlEvent.PingRequest) this.sink.write(pingResponse(uc.value));
        return;
      }
      case RtmpMsgType.Audio:
      case RtmpMsgType.Video:
        if (this._state !== 'publishing') throw this.notPublishing(msg);
        this.handler.onMedia(msg);
        return;
      case RtmpMsgType.DataAmf0:
        if (this._state !== 'publishing') throw this.notPublishing(msg);
        this.onData(msg);
        return;
      case RtmpMsgType.CommandAmf0:
      case RtmpMsgType.CommandAmf3:
        this.onCommand(parseCommand(msg.body, msg.type));
        return;
      default:
        this.log.debug(`rtmp < message type ${msg.type} (${msg.body.length} bytes) ignored`);
    }
  }

  private notPublishing(msg: RtmpMessage): ProtocolError {
    // docs/quirks.md Q-RTMP-4: upstream crashes here; we close this connection only.
    return new ProtocolError(`rtmp: message type ${msg.type} from a connection that is not publishing (state ${this._state})`, 'not-publishing');
  }

  private onData(msg: RtmpMessage): void {
    if (msg.body.length === 0 || msg.body[0] !== 0x02) {
      throw new ParseError('rtmp: data message does not start with an AMF0 string');
    }
    const first = decodeAmf0(msg.body).value;
    if (first === '|RtmpSampleAccess') {
      this.log.debug('rtmp < |RtmpSampleAccess ignored');
      return;
    }
    this.handler.onMedia(msg);
  }

  private onCommand(cmd: RtmpCommand): void {
    switch (cmd.name) {
      case 'connect':
        this.onConnect(cmd);
        return;
      case 'createStream':
        this.requireConnect(cmd.name);
        this.log.debug('rtmp < createStream');
        this.sink.write(command(RtmpCsid.Command, 0, '_result', cmd.tid, null, MSID_STREAM));
        return;
      case 'publish':
        this.onPublish(cmd);
        return;
      case 'play':
        this.onPlay(cmd);
        return;
      case 'deleteStream':
        this.log.debug('rtmp < deleteStream');
        this.handler.onDeleteStream?.();
        return;
      case 'releaseStream':
      case 'FCPublish':
      case 'FCUnpublish':
      case 'getStreamLength':
      case 'closeStream':
        this.log.debug(`rtmp < ${cmd.name} (no reply)`);
        return;
      default:
        this.log.debug(`rtmp < unknown command ${cmd.name} ignored`);
    }
  }

  private requireConnect(what: string): void {
    if (!this.connected) throw new ProtocolError(`rtmp: ${what} before connect`, 'sequence');
  }

  private onConnect(cmd: RtmpCommand): void {
    if (this.connected) throw new ProtocolError('rtmp: second connect on one connection', 'sequence');
    const obj = cmd.args[0];
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || obj instanceof Date) {
      throw new ProtocolError('rtmp: connect without a command object', 'bad-command');
    }
    const object = obj as Record<string, Amf0Value>;
    if (typeof object.app !== 'string') throw new ProtocolError('rtmp: connect without an app string', 'bad-command');
    this._app = object.app;
    if (typeof object.tcUrl === 'string') this._tcUrl = object.tcUrl;
    else this.log.warn('rtmp: connect has no tcUrl');
    this.connected = true;
    this.log.info(`rtmp < connect app=${quoteName(this._app)} tcUrl=${quoteName(this._tcUrl, 200)}`);
    this.handler.onConnect({ app: this._app, tcUrl: this._tcUrl, object });
    const oe = object.objectEncoding === 3 ? 3 : 0;
    this.sink.write(windowAckSize(WINDOW_ACK_SIZE));
    this.sink.write(setPeerBandwidth(PEER_BANDWIDTH, PeerBandwidthLimit.Dynamic));
    this.sink.write(setChunkSize(OUT_CHUNK_SIZE));
    this.sink.write(
      command(
        RtmpCsid.Command,
        0,
        '_result',
        cmd.tid,
        { fmsVer: FMS_VERSION, capabilities: FMS_CAPABILITIES },
        {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding: oe,
          version: CONNECT_RESULT_VERSION,
        },
      ),
    );
  }

  /** name argument (after the null command object) of publish/play. */
  private streamArgs(cmd: RtmpCommand): void {
    this.requireConnect(cmd.name);
    if (this._state !== 'connected') throw new ProtocolError(`rtmp: ${cmd.name} while ${this._state}`, 'sequence');
    const name = cmd.args[1];
    if (typeof name !== 'string') throw new ProtocolError(`rtmp: ${cmd.name} without a stream name`, 'bad-command');
    const s = splitStreamName(name);
    this._streamName = s.streamName;
    this._urlParam = s.urlParam;
    this._url = `${this._tcUrl}/${name}`;
  }

  private onStatus(level: 'status' | 'error', code: string, description: string): void {
    this.sink.write(command(RtmpCsid.Stream, MSID_STREAM, 'onStatus', 0, null, { level, code, description }));
  }

  private onPublish(cmd: RtmpCommand): void {
    this.streamArgs(cmd);
    const type = typeof cmd.args[2] === 'string' ? (cmd.args[2] as string) : ''; // optional (LAL issue #280)
    this.log.info(`rtmp < publish ${quoteName(this._streamName)}${this._urlParam ? ` query ${quoteName(this._urlParam)}` : ''} type=${quoteName(type)}`);
    const ok = this.handler.onPublish({ streamName: this._streamName, urlParam: this._urlParam, url: this._url, type });
    if (!ok) {
      this.onStatus('error', 'NetStream.Publish.BadName', 'Publish refused');
      this._state = 'closed';
      return;
    }
    this.onStatus('status', 'NetStream.Publish.Start', 'Start publishing');
    this._state = 'publishing';
  }

  private onPlay(cmd: RtmpCommand): void {
    this.streamArgs(cmd);
    this.log.info(`rtmp < play ${quoteName(this._streamName)}${this._urlParam ? ` query ${quoteName(this._urlParam)}` : ''}`);
    const ok = this.handler.onPlay({ streamName: this._streamName, urlParam: this._urlParam, url: this._url });
    if (!ok) {
      this.onStatus('error', 'NetStream.Play.Failed', 'Play refused');
      this._state = 'closed';
      return;
    }
    this.sink.write(streamIsRecorded(MSID_STREAM));
    this.sink.write(streamBegin(MSID_STREAM));
    this.onStatus('status', 'NetStream.Play.Start', 'Start live');
    this._state = 'playing';
    this.handler.onPlayStarted?.();
  }
}
