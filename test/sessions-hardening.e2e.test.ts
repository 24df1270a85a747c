/**
 * Session-level attacks, each written as the attack it prevents (issue #9), with a healthy
 * publisher and player beside it whose frame count must keep growing (test/helpers/healthy-stream.ts),
 * and the differences from LAL found side by side (issue #8).
 *
 * The attacks that measure what they cost run against the server as a child process
 * (`bun bin/lal.ts serve`), whose RSS and open file descriptors are read from /proc/<pid>: the
 * test process's own buffers (it sends 60 MB) never count. The slow-player tests need the
 * server's view of one player's backlog, so they run it in this process.
 *
 * Figures on the code before this work (same machine): 60 MB of pipelined OPTIONS grew the
 * server by ~445 MB and the connection was never cut; 1,000 UDP SETUPs on one connection held
 * ~2,000 file descriptors; a one-byte-a-second client stayed connected.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'bun';
import { createConsola } from 'consola';
import { ffmpegPath } from './helpers/ffmpeg.ts';
import { run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startHealthyStream, type HealthyStream } from './helpers/healthy-stream.ts';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';
import { testConfig } from './helpers/server.ts';
import { startServer, type RunningServer } from '../lib/server/server.ts';
import type { Logger } from '../lib/core/log.ts';
import { FlvReader } from '../lib/format/flv/reader.ts';
import { RtspMessageReader, type RtspResponse } from '../lib/protocol/rtsp/message.ts';
import type { PacketOutput } from '../lib/server/output.ts';
import { MAX_UDP_PAIRS_PER_CONNECTION } from '../lib/server/sessions/rtsp.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-hardening-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

const enc = new TextEncoder();
const MB = 1024 * 1024;

// ---- raw clients -----------------------------------------------------------------------------

interface RawConn {
  sock: Socket;
  closed: () => boolean;
  closedAt: () => number;
  received: () => number;
  /** Every byte received (only when `keep`). */
  bytes: () => Uint8Array;
  /** Send all of `data`, waiting for the socket to drain as needed; false once the server closed it. */
  sendAll(data: Uint8Array, deadline: number): Promise<boolean>;
}

async function rawConnect(port: number, opts: { keep?: boolean; onData?: (d: Uint8Array) => void } = {}): Promise<RawConn> {
  let closed = false;
  let closedAt = 0;
  let received = 0;
  const chunks: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  const end = () => {
    if (!closed) closedAt = performance.now();
    closed = true;
    wake?.();
  };
  const sock = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, d) {
        received += d.length;
        if (opts.keep) chunks.push(new Uint8Array(d));
        opts.onData?.(d);
      },
      drain: () => wake?.(),
      close: end,
      error: end,
    },
  });
  return {
    sock,
    closed: () => closed,
    closedAt: () => closedAt,
    received: () => received,
    bytes: () => Buffer.concat(chunks),
    async sendAll(data, deadline) {
      let b = data;
      while (b.length > 0) {
        if (closed || performance.now() > deadline) return !closed;
        const n = sock.write(b);
        if (n < 0) return false;
        b = b.subarray(n);
        if (b.length > 0) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
      }
      return !closed;
    },
  };
}

/** `unit` repeated to about 64 KiB. */
function repeat(unit: Uint8Array, size = 64 * 1024): Uint8Array {
  const n = Math.max(1, Math.floor(size / unit.length));
  const out = new Uint8Array(n * unit.length);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
  return out;
}

/** Sample `fn` every 50 ms until stopped; the maximum seen. */
function sampleMax(fn: () => number) {
  let max = fn();
  const t = setInterval(() => {
    try {
      max = Math.max(max, fn());
    } catch {
      /* the process is gone */
    }
  }, 50);
  return { stop: () => (clearInterval(t), max), get max() { return max; } };
}

/** RTSP requests and their answers on one raw connection. */
async function rtspClient(port: number) {
  const reader = new RtspMessageReader();
  const answers: RtspResponse[] = [];
  const c = await rawConnect(port, {
    onData: (d) => {
      for (const it of reader.feed(d)) if (it.type === 'response') answers.push(it);
    },
  });
  let cseq = 0;
  const text = (method: string, uri: string, headers: Record<string, string> = {}, body = '') => {
    let t = `${method} ${uri} RTSP/1.0\r\nCSeq: ${++cseq}\r\n`;
    for (const [k, v] of Object.entries(headers)) t += `${k}: ${v}\r\n`;
    if (body) t += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    return `${t}\r\n${body}`;
  };
  return {
    ...c,
    answers,
    text,
    /** Send one request and wait for its answer. */
    async request(method: string, uri: string, headers: Record<string, string> = {}, body = ''): Promise<RtspResponse> {
      const n = answers.length;
      c.sock.write(text(method, uri, headers, body));
      await waitFor(() => answers.length > n || c.closed(), 5_000, `${method} answer`);
      if (answers.length === n) throw new Error(`${method}: closed without an answer`);
      return answers[n];
    },
  };
}

// ---- the server process ----------------------------------------------------------------------

describe('attacks on a server process, a healthy stream beside each (issue #9)', () => {
  let srv: ServerProcess;
  let healthy: HealthyStream;

  beforeAll(async () => {
    srv = await startServerProcess({
      rtsp: { enable: true, addr: '127.0.0.1:0', ws_rtsp_enable: true, ws_rtsp_addr: '127.0.0.1:0', out_wait_key_frame_flag: true },
      hls: { enable: true, url_pattern: '/hls/', out_path: join(tmp, 'hls'), fragment_duration_ms: 1000, fragment_num: 4, use_memory_as_disk_flag: true },
    }, 'file');
    healthy = await startHealthyStream({ rtmpPort: srv.ports.rtmp!, httpPort: srv.ports.http!, lifetime: 'file' });
  }, 40_000);

  afterAll(async () => {
    await healthy?.stop();
    await srv?.stop();
  });

  test('60 MB of pipelined RTSP OPTIONS (and RTMP pings) without reading: cut at the reply bound, the server\'s RSS stays bounded', async () => {
    const rss0 = srv.rss();
    const rss = sampleMax(() => srv.rss());
    // RTSP: OPTIONS as fast as the server takes them, never reading an answer
    const rtsp = await rawConnect(srv.ports.rtsp!);
    rtsp.sock.pause();
    const options = repeat(enc.encode(`OPTIONS rtsp://127.0.0.1:${srv.ports.rtsp}/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`));
    const t0 = performance.now();
    let sent = 0;
    while (sent < 60 * 1000 * 1000 && (await rtsp.sendAll(options, t0 + 20_000))) sent += options.length;
    await waitFor(() => rtsp.closed(), 5_000, 'the server to cut the flooding connection');
    const cutAfterMs = rtsp.closedAt() - t0;
    // RTMP: handshake, then ping requests (each answered) before any publish/play, never reading
    const rtmp = await rawConnect(srv.ports.rtmp!);
    rtmp.sock.pause();
    const c0c1c2 = new Uint8Array(1 + 1536 + 1536);
    c0c1c2[0] = 3;
    await rtmp.sendAll(c0c1c2, performance.now() + 5_000);
    // user control message (type 4) on chunk stream 2: event 6 (ping request), 4-byte value
    const ping = Uint8Array.of(0x02, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1);
    const pings = repeat(ping);
    const t1 = performance.now();
    let pingBytes = 0;
    while (pingBytes < 60 * 1000 * 1000 && (await rtmp.sendAll(pings, t1 + 20_000))) pingBytes += pings.length;
    await waitFor(() => rtmp.closed(), 5_000, 'the server to cut the pinging connection');
    const grew = rss.stop() - rss0;
    console.log(`OPTIONS flood cut after ${(sent / MB).toFixed(1)} MiB sent, ${Math.round(cutAfterMs)} ms; ping flood cut after ${(pingBytes / MB).toFixed(1)} MiB; server RSS +${(grew / MB).toFixed(1)} MiB at most`);
    expect(sent).toBeLessThan(30 * MB); // cut long before the 60 MB (the kernel's buffers hold a few MiB)
    expect(pingBytes).toBeLessThan(30 * MB);
    expect(grew).toBeLessThan(128 * MB); // ~445 MB before the bound
    const log = srv.log();
    expect(log).toMatch(/\[RTSPSRVCMD\d+\].*closing: \d+ bytes of answers unread/);
    expect(log).toMatch(/\[RTMPPUBSUB\d+\].*closing: \d+ bytes of replies unread/);
    await healthy.assertStillFlowing();
  }, 60_000);

  test('RTSP and ws-rtsp clients sending one byte per second are cut at the 10 s request deadline', async () => {
    const rtsp = await rawConnect(srv.ports.rtsp!);
    const ws = await rawConnect(srv.ports.wsRtsp!);
    const t0 = performance.now();
    const rtspText = enc.encode(`OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ${'x'.repeat(64)}`);
    const wsText = enc.encode(`GET /live/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: ${'x'.repeat(64)}`);
    for (let i = 0; i < 20 && !(rtsp.closed() && ws.closed()); i++) {
      if (!rtsp.closed()) rtsp.sock.write(rtspText.subarray(i, i + 1));
      if (!ws.closed()) ws.sock.write(wsText.subarray(i, i + 1));
      await Bun.sleep(1000);
    }
    expect(rtsp.closed()).toBe(true);
    expect(ws.closed()).toBe(true);
    for (const c of [rtsp, ws]) {
      const s = (c.closedAt() - t0) / 1000;
      expect(s).toBeGreaterThan(9);
      expect(s).toBeLessThan(14); // 10 s + the 1 s tick, with room for a loaded machine
    }
    expect(srv.log()).toMatch(/closing: no PLAY\/RECORD within 10 s/);
    await healthy.assertStillFlowing();
  }, 30_000);

  test(`1,000 SETUPs on one connection hold at most ${MAX_UDP_PAIRS_PER_CONNECTION} UDP port pairs; a repeated DESCRIBE is answered again`, async () => {
    const fds0 = srv.fds();
    const fds = sampleMax(() => srv.fds());
    const url = `rtsp://127.0.0.1:${srv.ports.rtsp}/live/${healthy.name}`;
    // a player: DESCRIBE twice (issue #8: answered again, one player), then 1,000 UDP SETUPs
    const player = await rtspClient(srv.ports.rtsp!);
    const d1 = await player.request('DESCRIBE', url);
    const d2 = await player.request('DESCRIBE', url);
    expect([d1.status, d2.status]).toEqual([200, 200]);
    expect(Buffer.from(d2.body).toString()).toBe(Buffer.from(d1.body).toString());
    const api = `http://127.0.0.1:${srv.ports.api}/api/stat/group?stream_name=${healthy.name}`;
    const rtspSubs = async () => ((await (await fetch(api)).json()) as { data: { subs: { protocol: string }[] } }).data.subs.filter((s) => s.protocol === 'RTSP').length;
    expect(await rtspSubs()).toBe(1);
    let burst = '';
    for (let i = 0; i < 1000; i++) burst += player.text('SETUP', `${url}/streamid=${i % 2}`, { Transport: `RTP/AVP/UDP;unicast;client_port=${42000 + 2 * (i % 50)}-${42001 + 2 * (i % 50)}` });
    player.sock.write(burst);
    await waitFor(() => player.answers.length >= 1002 || player.closed(), 10_000, '1,000 SETUP answers');
    expect(player.answers.slice(2).filter((a) => a.status === 200).length).toBe(1000);
    // a publisher announcing 8 tracks, then 1,000 UDP SETUPs over them: 4 pairs, the rest 461
    const pub = await rtspClient(srv.ports.rtsp!);
    let sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n';
    for (let i = 0; i < 8; i++) sdp += `m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=${i}\r\n`;
    const purl = `rtsp://127.0.0.1:${srv.ports.rtsp}/live/many`;
    expect((await pub.request('ANNOUNCE', purl, { 'Content-Type': 'application/sdp' }, sdp)).status).toBe(200);
    burst = '';
    for (let i = 0; i < 1000; i++) burst += pub.text('SETUP', `${purl}/streamid=${i % 8}`, { Transport: `RTP/AVP/UDP;unicast;client_port=${43000 + 2 * (i % 8)}-${43001 + 2 * (i % 8)};mode=record` });
    pub.sock.write(burst);
    await waitFor(() => pub.answers.length >= 1001 || pub.closed(), 10_000, '1,000 SETUP answers');
    const statuses = pub.answers.slice(1).map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBe(500); // tracks 0–3, set up again and again
    expect(statuses.filter((s) => s === 461).length).toBe(500); // tracks 4–7: over the limit
    const peak = fds.stop();
    console.log(`file descriptors: ${fds0} before, ${peak} at most during 2,000 SETUPs on two connections`);
    // two connections, 2 + 4 pairs of two sockets each (~2,000 before the limit)
    expect(peak - fds0).toBeLessThanOrEqual(2 + 2 * (2 + MAX_UDP_PAIRS_PER_CONNECTION) + 10); // + the stats request, slack
    expect(player.closed() || pub.closed()).toBe(false);
    player.sock.end();
    pub.sock.end();
    await waitFor(() => srv.fds() <= fds0 + 1, 5_000, 'descriptors released');
    await healthy.assertStillFlowing();
  }, 40_000);

  test('HLS connections stay alive: pipelined playlist, fragment, 404 (empty) and HEAD on one connection, with Date; HEAD on a stream URL is the head only (issue #8, #9)', async () => {
    const base = `/hls/${healthy.name}`;
    const playlist = await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${srv.ports.http}${base}/playlist.m3u8`);
      const t = await r.text();
      return r.status === 200 && t.includes('.ts') ? t : undefined;
    }, 15_000, 'a live playlist');
    const fragment = playlist.split('\n').find((l) => l.endsWith('.ts'))!;
    const c = await rawConnect(srv.ports.http!, { keep: true });
    const get = (path: string, method = 'GET') => `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    c.sock.write(get(`${base}/playlist.m3u8`) + get(`${base}/${fragment}`) + get(`${base}/nope.ts`) + get(`${base}/playlist.m3u8`, 'HEAD'));
    const parse = () => {
      const text = Buffer.from(c.bytes()).toString('latin1');
      const out: { head: string; length: number }[] = [];
      let at = 0;
      while (at < text.length) {
        const end = text.indexOf('\r\n\r\n', at);
        if (end < 0) break;
        const head = text.slice(at, end + 4);
        const length = Number(/\r\nContent-Length: (\d+)\r\n/i.exec(head)?.[1] ?? -1);
        const isHead = out.length === 3;
        if (!isHead && text.length < end + 4 + length) break;
        out.push({ head, length });
        at = end + 4 + (isHead ? 0 : length);
      }
      return out;
    };
    const answers = await waitFor(() => (parse().length === 4 ? parse() : undefined), 5_000, 'four answers on one connection');
    expect(answers.map((a) => a.head.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200 OK']);
    for (const a of answers) {
      expect(a.head).toMatch(/\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
      expect(a.head).not.toContain('Connection: close');
    }
    expect(answers[1].head).toContain('Content-Type: video/mp2t');
    expect(answers[1].length).toBeGreaterThan(10_000);
    expect(answers[2].length).toBe(0); // docs/hls.md §6: empty body
    await Bun.sleep(300);
    expect(c.closed()).toBe(false);
    // the same connection serves another request later
    const before = c.received();
    c.sock.write(get(`${base}/playlist.m3u8`));
    await waitFor(() => c.received() > before, 5_000, 'a fifth answer');
    expect(c.closed()).toBe(false);
    c.sock.end();

    // HEAD on a stream URL: LAL's player head, no body, no player
    const h = await rawConnect(srv.ports.http!, { keep: true });
    h.sock.write(get(`/live/${healthy.name}.flv`, 'HEAD'));
    await waitFor(() => h.closed(), 5_000, 'HEAD answered and closed');
    const text = Buffer.from(h.bytes()).toString('latin1');
    expect(text).toStartWith('HTTP/1.1 200 OK\r\n');
    expect(text).toContain('Content-Type: video/x-flv\r\nConnection: close\r\n');
    expect(text.endsWith('\r\n\r\n')).toBe(true); // nothing after the head
    await healthy.assertStillFlowing();
  }, 40_000);

  test('a shutdown closes every session with its real reason', async () => {
    await srv.stop();
    const log = srv.log();
    expect(log).toMatch(/\[FLVPUBSUB\d+\].*stop playing healthy \(server shutdown\)/);
    expect(log).toMatch(/\[RTMPPUBSUB\d+\].*stop publishing healthy \(server shutdown\)/);
    expect(log).not.toContain('(connection closed)');
  }, 20_000);
});

// ---- slow players (in process: the server's view of one player's backlog) ---------------------

/** A logger that keeps its lines (for the close reasons). */
function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createConsola({ level: 3, reporters: [{ log: (o) => lines.push(`${o.tag ? `[${o.tag}] ` : ''}${o.args.map(String).join(' ')}`) }] });
  return { log, lines };
}

/** An FLV file of the fixture's picture at `kbps` (CBR with filler), 4 s, for `-stream_loop`. */
async function cbrFile(kbps: number): Promise<string> {
  const file = join(tmp, `cbr-${kbps}k.flv`);
  const r = await run([
    ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps / 4}k`,
    '-x264-params', 'nal-hrd=cbr:threads=1', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file,
  ], 30_000);
  if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return file;
}

/** An HTTP-FLV player on a raw socket that can stop reading; counts video frames and checks their timestamps never jump back. */
async function pausablePlayer(port: number, name: string) {
  const flv = new FlvReader();
  let head: Uint8Array | undefined = new Uint8Array(0);
  let video = 0;
  let lastTs = -1;
  let backwards = 0;
  const c = await rawConnect(port, {
    onData: (d) => {
      let body: Uint8Array = d;
      if (head) {
        // the HTTP head first; what follows is the FLV body (file header, then tags)
        const all = Buffer.concat([head, d]);
        const i = all.indexOf('\r\n\r\n');
        if (i < 0) {
          head = all;
          return;
        }
        head = undefined;
        body = all.subarray(i + 4);
      }
      for (const tag of flv.feed(body)) {
        if (tag.type !== 9 || tag.body[1] === 0) continue;
        video++;
        if (tag.timestamp < lastTs) backwards++;
        lastTs = tag.timestamp;
      }
    },
  });
  c.sock.write(`GET /live/${name}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  return { ...c, video: () => video, backwards: () => backwards };
}

async function inProcessServer(limits?: { softPendingBytes?: number; hardPendingBytes?: number; drainTimeoutMs?: number }) {
  const cap = captureLog();
  const srv: RunningServer = await startServer(testConfig({ httpts: { enable: false } }), { log: cap.log, limits });
  return { srv, lines: cap.lines };
}

function playerOutput(srv: RunningServer, name: string): PacketOutput {
  const outs = srv.hub.get(name)?.outputs.list() as PacketOutput[] | undefined;
  if (!outs || outs.length !== 1) throw new Error(`${name}: expected one player, found ${outs?.length ?? 0}`);
  return outs[0];
}

describe('a briefly stalled player is not dropped (issue #9)', () => {
  test('a player that pauses 14 s on a 2 Mbit/s stream is still connected and receiving afterwards', async () => {
    const { srv, lines } = await inProcessServer();
    const healthy = await startHealthyStream({ rtmpPort: srv.ports.rtmp!, httpPort: srv.ports.http! });
    const file = await cbrFile(2000);
    const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/fat`]);
    try {
      const player = await pausablePlayer(srv.ports.http!, 'fat');
      await waitFor(() => player.video() >= 50, 15_000, 'two seconds of video');
      const out = playerOutput(srv, 'fat');
      player.sock.pause();
      const t0 = performance.now();
      let maxPending = 0;
      while (performance.now() - t0 < 14_000) {
        maxPending = Math.max(maxPending, out.sink.pendingBytes);
        await Bun.sleep(100);
      }
      const before = player.video();
      player.sock.resume();
      // it catches up on the 14 s it missed (350 frames), then keeps receiving
      await waitFor(() => player.video() >= before + 350 + 25, 20_000, 'the paused player to catch up');
      console.log(`14 s pause at 2 Mbit/s: ${(maxPending / MB).toFixed(2)} MiB waited in the server at most; ${out.droppedFrames} frames skipped`);
      expect(player.closed()).toBe(false);
      expect(out.closed).toBe(false);
      expect(out.droppedFrames).toBe(0); // 3.5 MB is under the skip bound
      expect(player.backwards()).toBe(0);
      expect(lines.join('\n')).not.toContain('slow-consumer');
      await healthy.assertStillFlowing();
      player.sock.end();
    } finally {
      stop(pub);
      await healthy.stop();
      await srv.close();
    }
  }, 60_000);

  test('the drain timeout counts from when the backlog began, not from connect or the last drain; a backlog older than it closes as slow-consumer', async () => {
    const drainTimeoutMs = 3000;
    // Generous byte bounds so only the timer decides; 16 Mbit/s fills the kernel's buffers in ~2 s.
    const { srv, lines } = await inProcessServer({ drainTimeoutMs, softPendingBytes: 64 * MB, hardPendingBytes: 128 * MB });
    const healthy = await startHealthyStream({ rtmpPort: srv.ports.rtmp!, httpPort: srv.ports.http! });
    const file = await cbrFile(16_000);
    const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/big`]);
    try {
      const player = await pausablePlayer(srv.ports.http!, 'big');
      await waitFor(() => player.video() >= 25, 15_000, 'first second of video');
      const out = playerOutput(srv, 'big');
      const sink = out.sink as typeof out.sink & { backlogSince: number };
      // smooth playback for longer than the drain timeout: a timer counting from connect (or the
      // last drain, which never happened) would fire as soon as a backlog appears
      await Bun.sleep(drainTimeoutMs + 1000);
      expect(sink.backlogSince).toBe(0);
      player.sock.pause();
      await waitFor(() => sink.backlogSince > 0, 20_000, 'a backlog in the server');
      const began = sink.backlogSince;
      await waitFor(() => performance.now() - began > drainTimeoutMs / 2, 5_000, 'half the drain timeout');
      expect(out.closed).toBe(false);
      player.sock.resume();
      await waitFor(() => sink.pendingBytes === 0, 10_000, 'the backlog drained');
      const resumedAt = player.video();
      await waitFor(() => player.video() > resumedAt + 25, 10_000, 'video after the stall');
      expect(out.closed).toBe(false);
      expect(player.closed()).toBe(false);
      // a stall longer than the drain timeout (from when its backlog began) is closed
      player.sock.pause();
      await waitFor(() => sink.backlogSince > 0, 20_000, 'a second backlog');
      const began2 = sink.backlogSince;
      await waitFor(() => out.closed, drainTimeoutMs + 5_000, 'the stalled player closed');
      const after = performance.now() - began2;
      expect(after).toBeGreaterThanOrEqual(drainTimeoutMs);
      expect(after).toBeLessThan(drainTimeoutMs + 3000);
      expect(lines.join('\n')).toMatch(/\[FLVPUBSUB\d+\] stop playing big \(slow-consumer\)/);
      await healthy.assertStillFlowing();
      player.sock.end();
    } finally {
      stop(pub);
      await healthy.stop();
      await srv.close();
    }
  }, 90_000);
});
