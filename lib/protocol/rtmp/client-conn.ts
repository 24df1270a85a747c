/**
 * Sans-I/O RTMP client connection for push (publish) and pull (play) (docs/protocols.md §7.1;
 * docs/architecture.md §1.2). The caller opens the TCP/TLS socket, calls `start()`, feeds received
 * bytes and enforces the 10 s start timeout; this object speaks the protocol:
 *
 *   C0C1 → S0S1S2 → C2, Set Chunk Size 4096, connect(tid 1) on csid 3
 *   _result(NetConnection.Connect.Success) → createStream(tid 2)
 *   _result(stream id) → publish(null, name[?query], "live") | play(null, name[?query]) (tid 3, csid 5)
 *   onStatus NetStream.Publish.Start | NetStream.Play.Start → handler.onStarted()
 *
 * Also answers Ping Requests and sends Acknowledgements once the server set a window (every
 * half window). Unknown message types and commands are ignored (docs/quirks.md Q-RTMP-2).
 * Errors never escape `feed()`: a parse error, `_error` or an error-level onStatus moves the
 * conn to `closed` and calls `handler.onError` once; the caller then closes the socket.
 * Not implemented: Adobe auth retries on `_error` (the error message carries the server's
 * description so a relay can implement the reconnect).
 */
import { LalError, ProtocolError } from '../../core/errors.ts';
import type { ByteSink } from '../../core/sink.ts';
import type { Logger } from '../../core/log.ts';
import type { Amf0Value } from '../../format/amf0/index.ts';
import { RtmpClientHandshake } from './handshake.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import {
  FLASH_VER_PULL,
  FLASH_VER_PUSH,
  OUT_CHUNK_SIZE,
  RtmpCsid,
  RtmpMsgType,
  UserControlEvent,
} from './constants.ts';
import { acknowledgement, command, parseCommand, parseUserControl, pingResponse, setChunkSize, type RtmpCommand } from './messages.ts';
import { parseRtmpUrl, type RtmpUrl } from './url.ts';

export interface RtmpClientHandler {
  /** NetStream.Publish.Start / NetStream.Play.Start arrived. */
  onStarted(): void;
  /** Play mode: audio (8), video (9) and data (18, except `|RtmpSampleAccess`) messages. */
  onMedia(msg: RtmpMessage): void;
  /** The connection failed (called once; the conn is then closed). */
  onError(err: Error): void;
}

export type RtmpClientState = 'idle' | 'handshake' | 'connecting' | 'creating-stream' | 'starting' | 'publishing' | 'playing' | 'closed';

export interface RtmpClientConnOptions {
  sink: ByteSink;
  log: Logger;
  /** `rtmp[s]://host[:port]/app/stream[?query]` (docs/urls.md §3 client rules). */
  url: string;
  mode: 'publish' | 'play';
  handler: RtmpClientHandler;
  /** Use the complex (digest) handshake; default simple (docs/protocols.md §7.1). */
  complexHandshake?: boolean;
  maxMessageLength?: number;
  /** C1 time field (tests); default Date.now(). */
  handshakeTime?: number;
}

const TID_CONNECT = 1;
const TID_CREATE_STREAM = 2;
const TID_START = 3;

/** AMF0 string `|RtmpSampleAccess` as it starts a data message body. */
const SAMPLE_ACCESS = Uint8Array.from([0x02, 0x00, 0x11, ...Array.from('|RtmpSampleAccess', (c) => c.charCodeAt(0))]);

function startsWith(b: Uint8Array, p: Uint8Array): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

function infoOf(v: Amf0Value): Record<string, Amf0Value> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? (v as Record<string, Amf0Value>) : {};
}

export class RtmpClientConn {
  /** The parsed URL (app, stream name with query, tcUrl, host, port). */
  readonly target: RtmpUrl;
  private _state: RtmpClientState = 'idle';
  private readonly hs: RtmpClientHandshake;
  private readonly reader: RtmpChunkReader;
  private readonly sink: ByteSink;
  private readonly log: Logger;
  private readonly mode: 'publish' | 'play';
  private readonly handler: RtmpClientHandler;
  private _streamId = 0;
  private _bytesRead = 0;
  private peerWindow = 0;
  private lastAckAt = 0;

  /** Throws ParseError for an invalid URL. */
  constructor(opts: RtmpClientConnOptions) {
    this.target = parseRtmpUrl(opts.url);
    this.sink = opts.sink;
    this.log = opts.log;
    this.mode = opts.mode;
    this.handler = opts.handler;
    this.hs = new RtmpClientHandshake({ complex: opts.complexHandshake, time: opts.handshakeTime });
    this.reader = new RtmpChunkReader({ maxMessageLength: opts.maxMessageLength });
  }

  get state(): RtmpClientState {
    return this._state;
  }
  /** Message stream id returned by createStream (0 before). */
  get streamId(): number {
    return this._streamId;
  }
  get bytesRead(): number {
    return this._bytesRead;
  }

  /** Write C0C1. */
  start(): void {
    if (this._state !== 'idle') throw new LalError('state', 'rtmp: client already started');
    this._state = 'handshake';
    this.sink.write(this.hs.start());
  }

  /** Stop reacting to input (e.g. after a timeout); no callback fires afterwards. */
  close(): void {
    this._state = 'closed';
  }

  /** State check that TS does not narrow away (handlers may close the conn). */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  /** Consume bytes from the server. Never throws for peer errors: see handler.onError. */
  feed(chunk: Uint8Array): void {
    if (this._state === 'closed') return;
    if (this._state === 'idle') throw new LalError('state', 'rtmp: client fed before start()');
    this._bytesRead += chunk.length;
    try {
      let data: Uint8Array | undefined = chunk;
      if (this._state === 'handshake') {
        const step = this.hs.feed(chunk);
        if (!step.done) return;
        if (step.out) this.sink.write(step.out);
        this.log.debug(`rtmp handshake done (${this.hs.mode})`);
        this.sendConnect();
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
    } catch (e) {
      if (!(e instanceof LalError)) throw e;
      this.fail(e);
    }
  }

  /**
   * Publish mode, after onStarted: send one media/data message (csid 6 audio, 7 video,
   * 5 data; the stream id createStream returned). Returns the sink's write result.
   */
  writeMedia(type: 8 | 9 | 18, timestamp: number, body: Uint8Array): boolean {
    if (this._state !== 'publishing') throw new LalError('state', `rtmp: writeMedia while ${this._state}`);
    const csid = type === RtmpMsgType.Video ? RtmpCsid.Video : type === RtmpMsgType.Audio ? RtmpCsid.Audio : RtmpCsid.Stream;
    return this.sink.write(encodeRtmpMessage({ csid, type, timestamp, streamId: this._streamId, body }, OUT_CHUNK_SIZE));
  }

  private fail(err: Error): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.handler.onError(err);
  }

  private sendConnect(): void {
    this._state = 'connecting';
    const t = this.target;
    this.sink.write(setChunkSize(OUT_CHUNK_SIZE));
    this.log.debug(`rtmp > connect app=${t.app} tcUrl=${t.tcUrl}`);
    this.sink.write(
      command(RtmpCsid.Command, 0, 'connect', TID_CONNECT, {
        app: t.app,
        type: 'nonprivate',
        flashVer: this.mode === 'publish' ? FLASH_VER_PUSH : FLASH_VER_PULL,
        fpad: false,
        tcUrl: t.tcUrl,
      }),
    );
  }

  private maybeAck(): void {
    if (this.peerWindow === 0 || this._bytesRead - this.lastAckAt < this.peerWindow / 2) return;
    this.lastAckAt = this._bytesRead;
    this.sink.write(acknowledgement(this._bytesRead >>> 0));
  }

  private onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case RtmpMsgType.WindowAckSize:
        if (msg.body.length >= 4) this.peerWindow = new DataView(msg.body.buffer, msg.body.byteOffset, 4).getUint32(0);
        return;
      case RtmpMsgType.UserControl: {
        const uc = parseUserControl(msg.body);
        if (uc && uc.event === UserControlEvent.PingRequest) this.sink.write(pingResponse(uc.value));
        return;
      }
      case RtmpMsgType.CommandAmf0:
      case RtmpMsgType.CommandAmf3:
        this.onCommand(parseCommand(msg.body, msg.type));
        return;
      case RtmpMsgType.Audio:
      case RtmpMsgType.Video:
      case RtmpMsgType.DataAmf0:
        if (this.mode !== 'play' || this._streamId === 0) {
          this.log.debug(`rtmp < media type ${msg.type} ignored in state ${this._state}`);
          return;
        }
        if (msg.type === RtmpMsgType.DataAmf0 && startsWith(msg.body, SAMPLE_ACCESS)) return;
        this.handler.onMedia(msg);
        return;
      default:
        // Set Chunk Size / Abort (applied by the reader), Ack, Set Peer Bandwidth, AMF3 data…
        this.log.trace(`rtmp < message type ${msg.type} ignored`);
    }
  }

  private onCommand(cmd: RtmpCommand): void {
    switch (cmd.name) {
      case '_result':
        if (this._state === 'connecting' && cmd.tid === TID_CONNECT) {
          const info = infoOf(cmd.args[1]);
          if (info.code !== 'NetConnection.Connect.Success') {
            throw new ProtocolError(`rtmp: connect failed: ${String(info.code)} ${String(info.description ?? '')}`, 'connect-failed');
          }
          this._state = 'creating-stream';
          this.sink.write(command(RtmpCsid.Command, 0, 'createStream', TID_CREATE_STREAM, null));
        } else if (this._state === 'creating-stream' && cmd.tid === TID_CREATE_STREAM) {
          const id = cmd.args[1];
          if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
            throw new ProtocolError(`rtmp: createStream returned no stream id`, 'bad-reply');
          }
          this._streamId = id;
          this._state = 'starting';
          const name = this.target.streamName;
          this.log.debug(`rtmp > ${this.mode} ${name} on stream ${id}`);
          this.sink.write(
            this.mode === 'publish'
              ? command(RtmpCsid.Stream, id, 'publish', TID_START, null, name, 'live')
              : command(RtmpCsid.Stream, id, 'play', TID_START, null, name),
          );
        } else {
          this.log.debug(`rtmp < _result tid=${cmd.tid} ignored`);
        }
        return;
      case '_error': {
        const info = infoOf(cmd.args[1]);
        throw new ProtocolError(`rtmp: server error (tid ${cmd.tid}): ${String(info.code ?? '')} ${String(info.description ?? '')}`.trim(), 'server-error');
      }
      case 'onStatus': {
        const info = infoOf(cmd.args[1]);
        const want = this.mode === 'publish' ? 'NetStream.Publish.Start' : 'NetStream.Play.Start';
        if (info.code === want && this._state === 'starting') {
          this._state = this.mode === 'publish' ? 'publishing' : 'playing';
          this.log.info(`rtmp ${this.mode} started: ${this.target.tcUrl}/${this.target.streamName}`);
          this.handler.onStarted();
        } else if (info.level === 'error') {
          throw new ProtocolError(`rtmp: ${String(info.code)} ${String(info.description ?? '')}`.trim(), 'status-error');
        } else {
          this.log.debug(`rtmp < onStatus ${String(info.code)}`);
        }
        return;
      }
      default:
        this.log.debug(`rtmp < command ${cmd.name} ignored`);
    }
  }
}
