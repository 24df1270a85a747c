/**
 * One RTSP player for the load generator (`lal bench` over `rtsp://` / `rtsps://`): OPTIONS,
 * DESCRIBE, SETUP every track over interleaved TCP, PLAY (docs/protocols.md §7.2 client flow). It
 * parses RTP only until the first packet that starts a video access point (H.264/H.265: SPS,
 * PPS, IDR/IRAP or the start fragment of one; the first audio packet for audio-only streams),
 * which is the first-frame latency; after that it only counts socket bytes, so the generator
 * costs little next to the server it measures.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { connectTcp, type TcpConn } from '../net/tcp.ts';
import { parseSdp, sdpTracks } from '../format/sdp/index.ts';
import type { SdpTrack } from '../format/sdp/types.ts';
import { RtspClientConn } from '../protocol/rtsp/client-conn.ts';
import { parseRtspUrl } from '../protocol/rtsp/url.ts';
import { decodeRtpPacket } from '../protocol/rtp/packet.ts';
import { h264RtpStartsAccessPoint } from '../protocol/rtp/h264.ts';
import { h265RtpStartsAccessPoint } from '../protocol/rtp/h265.ts';

export interface RtspBenchPlayer {
  /** Resolves when PLAY was answered; rejects when the connection failed before. */
  readonly started: Promise<void>;
  /** Set when the connection failed or the server closed it. */
  readonly error: string | undefined;
  readonly closed: boolean;
  close(): void;
}

/**
 * Start one RTSP player over interleaved TCP. `onFirstFrame` fires once, at the first video
 * access point; `onBytes` with every chunk the socket delivers (RTSP text included).
 */
export async function startRtspPlayer(
  url: string,
  onFirstFrame: () => void,
  onBytes: (n: number) => void,
  opts: { log?: Logger } = {},
): Promise<RtspBenchPlayer> {
  const log = opts.log ?? silentLogger;
  const u = parseRtspUrl(url);
  let client: RtspClientConn | undefined;
  let conn: TcpConn | undefined;
  let error: string | undefined;
  let closed = false;
  let closedByUs = false;
  let first = false;
  /** SETUP order (video first) → interleaved RTP channel 2k. */
  let order: SdpTrack[] = [];
  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => {});
  const fail = (msg: string) => {
    if (!error) error = msg;
    rejectStarted(new Error(msg));
    conn?.sink.close();
  };
  const onRtp = (channel: number, payload: Uint8Array) => {
    if (first || channel % 2 !== 0) return;
    const track = order[channel / 2];
    if (!track) return;
    const video = track.codec === 'h264' || track.codec === 'h265';
    const hasVideo = order.some((t) => t.codec === 'h264' || t.codec === 'h265');
    if (!video && hasVideo) return;
    let starts = !video;
    if (video) {
      try {
        const p = decodeRtpPacket(payload).payload;
        starts = track.codec === 'h264' ? h264RtpStartsAccessPoint(p) : h265RtpStartsAccessPoint(p);
      } catch {
        starts = false;
      }
    }
    if (starts) {
      first = true;
      onFirstFrame();
    }
  };
  conn = await connectTcp({
    host: u.host,
    port: u.port,
    tls: u.scheme === 'rtsps',
    handler: (c) => {
      client = new RtspClientConn({
        sink: c.sink,
        log,
        url,
        mode: 'pull',
        transport: 'tcp',
        keepAliveTimer: () => () => {},
        handler: {
          onSdp: (sdp) => {
            const tracks = sdpTracks(parseSdp(sdp));
            const rank = (t: SdpTrack) => (t.kind === 'video' ? 0 : t.kind === 'audio' ? 1 : 2);
            order = tracks.slice().sort((a, b) => rank(a) - rank(b));
            return { controls: order.map((t) => t.control ?? '') };
          },
          onStarted: () => resolveStarted(),
          onInterleaved: onRtp,
          onError: (e) => fail(e.message),
        },
      });
      return {
        onData: (chunk) => {
          onBytes(chunk.length);
          if (first && client!.state === 'playing') return; // after the first frame we only count bytes
          try {
            client!.feed(chunk);
          } catch (e) {
            fail(errorText(e));
          }
        },
        onClose: (err) => {
          closed = true;
          if (!error && !closedByUs) error = err ? err.message : 'closed by server';
          rejectStarted(new Error(error ?? 'closed'));
        },
      };
    },
  });
  client!.start();
  return {
    started,
    get error() {
      return error;
    },
    get closed() {
      return closed;
    },
    close: () => {
      closed = true;
      closedByUs = true;
      client?.close();
      conn?.sink.close();
    },
  };
}
