/**
 * Load generator: N players of one stream over RTMP or HTTP-FLV (library form of `lal bench`).
 * Each player parses the stream only until its first video key frame (that is the first-frame
 * latency), then just counts bytes, so the generator costs little next to the server it measures.
 * Bounded: `duration` seconds after the last player started, then every socket is closed.
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { connectTcp, type TcpConn } from '../net/tcp.ts';
import { FlvReader } from '../format/flv/reader.ts';
import { RtmpClientConn } from '../protocol/rtmp/client-conn.ts';
import { parseRtmpUrl } from '../protocol/rtmp/url.ts';
import { startRtspPlayer } from './bench-rtsp.ts';

export interface BenchOptions {
  url: string;
  n: number;
  /** Seconds to hold all players after the last one connected. */
  durationSec: number;
  /** New players per second. */
  rampPerSec: number;
  log?: Logger;
  /** The stream's bitrate (bits/s) players are held to (≥ 95%); default: 90th percentile of players. */
  referenceBitsPerSec?: number;
  /** Called once per second with the live figures. */
  onSecond?: (s: BenchSecond) => void;
  /** Called when the measured hold window starts and ends (after the ramp and first frames). */
  onHold?: (phase: 'start' | 'end') => void;
  signal?: AbortSignal;
}

export interface BenchSecond {
  elapsedSec: number;
  started: number;
  alive: number;
  playing: number;
  failed: number;
  /** Aggregate received bitrate over the last second, bits/s. */
  bitsPerSec: number;
}

export interface BenchResult {
  n: number;
  started: number;
  failed: number;
  failures: string[];
  firstFrameMs: { median: number; p95: number; max: number; count: number };
  /** Reference stream bitrate (bits/s): given, or the 90th percentile of per-player rates. */
  streamBitsPerSec: number;
  /** Players whose rate over the hold window was below 95% of the reference. */
  slowPlayers: number;
  aggregateBitsPerSec: number;
  /** The slowest playing player's rate over the hold window. */
  minPlayerBitsPerSec: number;
  perPlayerBitsPerSec: number[];
}

interface Player {
  id: number;
  conn?: TcpConn;
  startedAt: number;
  firstFrameAt: number;
  bytes: number;
  windowStartBytes: number;
  closed: boolean;
  error?: string;
  /** Non-TCP-conn players (RTSP) close through this. */
  closer?: { close(): void; readonly closed: boolean; readonly error?: string };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function isKeyVideoTagBody(type: number, body: Uint8Array): boolean {
  if (type !== 9 || body.length < 2) return false;
  const enhanced = (body[0] & 0x80) !== 0;
  const frameType = (body[0] >> 4) & 0x07;
  if (enhanced) return frameType === 1 && ((body[0] & 0x0f) === 1 || (body[0] & 0x0f) === 3);
  return frameType === 1 && body[1] === 1;
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i - 3;
  return -1;
}

function splitHttpUrl(url: string): { host: string; port: number; path: string; hostHeader: string } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path: `${u.pathname}${u.search}`, hostHeader: u.host };
}

async function startHttpFlv(p: Player, url: string, onFirstFrame: () => void): Promise<void> {
  const { host, port, path, hostHeader } = splitHttpUrl(url);
  let headDone = false;
  let headBuf: Uint8Array = new Uint8Array(0);
  const reader = new FlvReader();
  p.conn = await connectTcp({
    host,
    port,
    handler: () => ({
      onData: (chunk) => {
        p.bytes += chunk.length;
        if (p.firstFrameAt || p.error) return;
        let body = chunk;
        if (!headDone) {
          headBuf = concat([headBuf, chunk]);
          const i = indexOfHeadEnd(headBuf);
          if (i < 0) {
            if (headBuf.length > 16384) fail('http: response head too large');
            return;
          }
          const statusLine = new TextDecoder('latin1').decode(headBuf.subarray(0, Math.min(i, 200))).split('\r\n')[0];
          if (!/^HTTP\/1\.[01] 200/.test(statusLine)) return fail(`http: ${statusLine}`);
          headDone = true;
          body = headBuf.subarray(i + 4);
        }
        for (const t of reader.feed(body)) {
          if (isKeyVideoTagBody(t.type, t.body)) {
            p.firstFrameAt = performance.now();
            onFirstFrame();
            break;
          }
        }
      },
      onClose: (err) => {
        p.closed = true;
        if (err && !p.error) p.error = err.message;
      },
    }),
  });
  function fail(msg: string): void {
    p.error = msg;
    p.conn?.sink.close();
  }
  p.conn.sink.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: lal-bench\r\nAccept: */*\r\n\r\n`));
}

async function startRtmp(p: Player, url: string, log: Logger, onFirstFrame: () => void): Promise<void> {
  const u = parseRtmpUrl(url);
  let client: RtmpClientConn | undefined;
  p.conn = await connectTcp({
    host: u.host,
    port: u.port,
    handler: (conn) => {
      client = new RtmpClientConn({
        sink: conn.sink,
        log,
        url,
        mode: 'play',
        handler: {
          onStarted: () => {},
          onMedia: (msg) => {
            if (!p.firstFrameAt && isKeyVideoTagBody(msg.type, msg.body)) {
              p.firstFrameAt = performance.now();
              onFirstFrame();
            }
          },
          onError: (err) => {
            p.error = err.message;
            conn.sink.close();
          },
        },
      });
      return {
        onData: (chunk) => {
          p.bytes += chunk.length;
          if (p.firstFrameAt) return; // after the first frame we only count bytes
          try {
            client!.feed(chunk);
          } catch (e) {
            p.error = errorText(e);
            conn.sink.close();
          }
        },
        onClose: (err) => {
          p.closed = true;
          if (err && !p.error) p.error = err.message;
        },
      };
    },
  });
  client!.start();
}

/** Fold an RTSP player's own state into the shared fields. */
function syncCloser(p: Player): void {
  if (!p.closer) return;
  if (p.closer.error && !p.error) p.error = p.closer.error;
  if (p.closer.closed) p.closed = true;
}

async function startRtsp(p: Player, url: string, onFirstFrame: () => void): Promise<void> {
  const pl = await startRtspPlayer(
    url,
    () => {
      p.firstFrameAt = performance.now();
      onFirstFrame();
    },
    (n) => (p.bytes += n),
  );
  p.closer = pl;
  await pl.started;
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? silentLogger;
  const isRtmp = /^rtmps?:\/\//i.test(opts.url);
  const isRtsp = /^rtsps?:\/\//i.test(opts.url);
  if (!isRtmp && !isRtsp && !/^http:\/\/.+\.flv(\?.*)?$/i.test(opts.url)) {
    throw new Error(`bench: unsupported url ${opts.url} (rtmp://…/app/stream, rtsp://…/app/stream or http://…/app/stream.flv)`);
  }
  const players: Player[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  let lastBytes = 0;
  let lastTick = t0;
  let firstFrames = 0;
  const aborted = () => opts.signal?.aborted === true;

  const ticker = setInterval(() => {
    const now = performance.now();
    let bytes = 0;
    let alive = 0;
    let playing = 0;
    let failed = 0;
    for (const p of players) {
      syncCloser(p);
      bytes += p.bytes;
      if (!p.closed && !p.error) alive++;
      if (p.firstFrameAt && !p.closed) playing++;
      if (p.error || p.closed) failed++;
    }
    const bps = ((bytes - lastBytes) * 8 * 1000) / (now - lastTick);
    lastBytes = bytes;
    lastTick = now;
    opts.onSecond?.({ elapsedSec: Math.round((now - t0) / 1000), started: players.length, alive, playing, failed, bitsPerSec: bps });
  }, 1000);

  try {
    // Ramp.
    const interval = 1000 / Math.max(1, opts.rampPerSec);
    for (let i = 0; i < opts.n && !aborted(); i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      const p: Player = { id: i, startedAt: performance.now(), firstFrameAt: 0, bytes: 0, windowStartBytes: 0, closed: false };
      players.push(p);
      const onFirst = () => firstFrames++;
      (isRtmp ? startRtmp(p, opts.url, log, onFirst) : isRtsp ? startRtsp(p, opts.url, onFirst) : startHttpFlv(p, opts.url, onFirst)).catch((e) => {
        p.error = `connect: ${errorText(e)}`;
        p.closed = true;
      });
    }
    // Let the last players reach their first frame (bounded), then measure the hold window.
    const settleEnd = performance.now() + 5000;
    while (!aborted() && performance.now() < settleEnd && firstFrames < players.filter((p) => !p.error).length) await Bun.sleep(50);
    for (const p of players) p.windowStartBytes = p.bytes;
    opts.onHold?.('start');
    const wStart = performance.now();
    const holdEnd = wStart + opts.durationSec * 1000;
    while (!aborted() && performance.now() < holdEnd) await Bun.sleep(100);
    const wSec = (performance.now() - wStart) / 1000;
    opts.onHold?.('end');

    const rates = players.map((p) => ((p.bytes - p.windowStartBytes) * 8) / Math.max(0.001, wSec));
    const sortedRates = [...rates].sort((a, b) => a - b);
    const ref = opts.referenceBitsPerSec ?? percentile(sortedRates, 90);
    const ff = players.filter((p) => p.firstFrameAt).map((p) => p.firstFrameAt - p.startedAt).sort((a, b) => a - b);
    let failed = 0;
    for (const p of players) {
      syncCloser(p);
      if (p.error || (p.closed && !aborted())) {
        failed++;
        if (failures.length < 20) failures.push(`player ${p.id}: ${p.error ?? 'closed by server'}`);
      } else if (!p.firstFrameAt) {
        failed++;
        if (failures.length < 20) failures.push(`player ${p.id}: no video key frame received`);
      }
    }
    return {
      n: opts.n,
      started: players.length,
      failed,
      failures,
      firstFrameMs: { median: percentile(ff, 50), p95: percentile(ff, 95), max: ff[ff.length - 1] ?? 0, count: ff.length },
      streamBitsPerSec: ref,
      slowPlayers: rates.filter((r) => r < 0.95 * ref).length,
      aggregateBitsPerSec: rates.reduce((a, b) => a + b, 0),
      minPlayerBitsPerSec: sortedRates[0] ?? 0,
      perPlayerBitsPerSec: rates,
    };
  } finally {
    clearInterval(ticker);
    for (const p of players) {
      p.conn?.sink.close();
      p.closer?.close();
    }
  }
}
