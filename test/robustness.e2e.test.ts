/**
 * Hostile and unlucky peers: garbage on every port, truncated handshakes, a player that never
 * reads, a publisher that dies mid-GOP, and connect/disconnect churn. One bad session never
 * takes down the server or another stream.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from './helpers/ffmpeg.ts';
import { FlvReader } from '../lib/format/flv/reader.ts';
import { atTestEnd, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath, httpFlvClient } from './flv-tools.ts';
import { HARD_PENDING_BYTES, type PacketOutput } from '../lib/server/output.ts';
import { mulberry32, randomBytes } from '../lib/core/testing.ts';

afterAll(stopAll);

/** Open a TCP connection, send bytes, wait until the server closes it (or the timeout). */
async function sendAndWaitClose(port: number, data: Uint8Array, timeoutMs = 3000): Promise<'closed' | 'open'> {
  let closed = false;
  const sock = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {}, close() { closed = true; }, error() { closed = true; } } });
  atTestEnd(() => sock.end());
  sock.write(data);
  const end = performance.now() + timeoutMs;
  while (!closed && performance.now() < end) await Bun.sleep(20);
  if (!closed) sock.end();
  return closed ? 'closed' : 'open';
}

function publish(url: string, loops = 0, realtime = true) {
  return spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', ...(realtime ? ['-re'] : []), '-stream_loop', String(loops), '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', url]);
}

describe('robustness', () => {
  test('random bytes and truncated handshakes on every port close only those connections', async () => {
    await using srv = await startTestServer();
    const rnd = mulberry32(42);
    const play = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/ok.flv`);
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/ok`, 5);
    await waitFor(() => play.tags.length > 5, 10_000, 'healthy stream');
    const junk = (n: number) => randomBytes(rnd, n);
    const cases: [string, number, Uint8Array, boolean][] = [];
    for (let i = 0; i < 10; i++) {
      const bad = junk(1 + Math.floor(rnd() * 20000));
      bad[0] = 4 + (bad[0] % 200); // not RTMP version 3: refused at once
      cases.push([`rtmp junk ${i}`, srv.ports.rtmp!, bad, true]);
      // Version 3, then noise: a truncated handshake or a garbage chunk stream. Refused when the
      // noise is invalid, otherwise left to the 10 s command timeout — never a crash.
      const v3 = junk(1 + Math.floor(rnd() * 6000));
      v3[0] = 3;
      cases.push([`rtmp v3 noise ${i}`, srv.ports.rtmp!, v3, false]);
      cases.push([`http junk ${i}`, srv.ports.http!, new Uint8Array([...junk(100), 13, 10, 13, 10]), true]);
      cases.push([`http huge head ${i}`, srv.ports.http!, new Uint8Array(20000).fill(65), true]);
      cases.push([`http partial ${i}`, srv.ports.http!, junk(50), false]);
    }
    const results = await Promise.all(cases.map(([, port, data]) => sendAndWaitClose(port, data, 2000)));
    cases.forEach(([name, , , mustClose], i) => {
      if (mustClose) expect(`${name}: ${results[i]}`).toBe(`${name}: closed`);
    });
    // API port: junk gets an HTTP error, never a crash.
    const api = await fetch(`http://127.0.0.1:${srv.ports.api}/api/ctrl/kick_session`, { method: 'POST', body: '\x00\xff{{{' });
    expect(((await api.json()) as { error_code: number }).error_code).toBe(1002);
    // The healthy stream went on all along.
    const n = play.tags.length;
    await waitFor(() => play.tags.length > n + 10, 5_000, 'stream still flowing');
    expect(srv.control.statGroup('ok')!.pub.session_id).toMatch(/^RTMPPUBSUB\d+$/);
    play.close();
    stop(pub);
  }, 30_000);

  test('a player that never reads is bounded (skip, then close) while another plays normally', async () => {
    const limits = { drainTimeoutMs: 1500 };
    await using srv = await startTestServer({}, undefined, limits);
    const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/slow`;
    // A fast reader in its own process.
    const good = spawnTracked([process.execPath, new URL('./helpers/flv-count.ts', import.meta.url).pathname, `http://127.0.0.1:${srv.ports.http}/live/slow.flv`, '2000']);
    // The stuck player: sends its request, then never reads (socket paused).
    const stuck = await Bun.connect({ hostname: '127.0.0.1', port: srv.ports.http!, socket: { data() {} } });
    atTestEnd(() => stuck.end());
    stuck.write(`GET /live/slow.flv HTTP/1.1\r\nHost: x\r\n\r\n`);
    stuck.pause();
    await waitFor(() => (srv.control.statGroup('slow')?.subs?.length ?? 0) === 2, 5_000, 'two players');
    const subs = srv.hub.get('slow')!.outputs.list() as PacketOutput[];
    const pub = publish(url, 60, false); // ~14 MB as fast as ffmpeg can send
    let maxPending = 0;
    while (pub.exitCode === null) {
      for (const s of subs) maxPending = Math.max(maxPending, s.sink.pendingBytes);
      await Bun.sleep(5);
    }
    expect(pub.exitCode).toBe(0);
    // Memory bounded: the stuck player skipped to key frames, then was closed for not draining.
    expect(maxPending).toBeLessThan(HARD_PENDING_BYTES + 256 * 1024);
    const stuckSub = subs.find((s) => s.droppedFrames > 0);
    expect(stuckSub).toBeDefined();
    await waitFor(() => stuckSub!.closed, 5_000, 'stuck player closed');
    // The good player got every media tag of all 61 loops and never lost a frame.
    const out = JSON.parse(await new Response(good.stdout).text()) as { audio: number; video: number };
    // What ffmpeg sends for `-stream_loop 60` (it drops some looped packets): the same command into a file.
    const file = join(tmpdir(), `lal-slow-${process.pid}.flv`);
    const ref = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-stream_loop', '60', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', '-y', file]);
    expect(await ref.exited).toBe(0);
    const sent = new FlvReader().feed(readFileSync(file));
    rmSync(file);
    expect(out.video).toBe(sent.filter((t) => t.type === 9 && t.body[1] !== 0).length);
    expect(out.audio).toBe(sent.filter((t) => t.type === 8 && t.body[1] !== 0).length);
    expect(out.video).toBeGreaterThan(4000);
    expect(subs.find((s) => s !== stuckSub)!.droppedFrames).toBe(0);
    stuck.end();
  }, 60_000);

  test('a publisher that dies mid-GOP: players stay, the next publisher feeds them', async () => {
    await using srv = await startTestServer();
    const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/drop`;
    const player = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/drop.flv`);
    const p1 = publish(url, 0);
    await Bun.sleep(1500);
    process.kill(p1.pid, 'SIGKILL');
    await p1.exited;
    await waitFor(() => srv.control.statGroup('drop')?.pub.session_id === '', 5_000, 'publisher gone');
    expect(srv.control.statGroup('drop')!.subs!.length).toBe(1);
    const before = player.tags.length;
    const p2 = publish(url, 0);
    await waitFor(() => player.tags.length > before + 20, 10_000, 'player fed by the second publisher');
    stop(p2);
    player.close();
  }, 30_000);

  test('200 connect/disconnect cycles leave no session and no stream behind', async () => {
    await using srv = await startTestServer();
    for (let i = 0; i < 100; i++) {
      const c = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/churn${i % 7}.flv`);
      await waitFor(() => c.status === 200, 5_000, 'response head');
      c.close();
    }
    const { RtmpClientConn } = await import('../lib/protocol/rtmp/client-conn.ts');
    const { connectTcp } = await import('../lib/net/tcp.ts');
    const { silentLogger } = await import('../lib/core/log.ts');
    for (let i = 0; i < 100; i++) {
      let started = false;
      let client: InstanceType<typeof RtmpClientConn> | undefined;
      const conn = await connectTcp({
        host: '127.0.0.1',
        port: srv.ports.rtmp!,
        handler: (cn) => {
          client = new RtmpClientConn({ sink: cn.sink, log: silentLogger, url: `rtmp://127.0.0.1:${srv.ports.rtmp}/live/churn${i % 7}`, mode: 'play', handler: { onStarted: () => (started = true), onMedia() {}, onError() {} } });
          return { onData: (d) => client!.feed(d), onClose() {} };
        },
      });
      client!.start();
      await waitFor(() => started, 5_000, 'play started');
      conn.sink.close();
    }
    await waitFor(async () => {
      const r = (await fetch(`http://127.0.0.1:${srv.ports.api}/api/stat/all_group`).then((x) => x.json())) as { data: { groups: unknown } };
      return r.data.groups === null;
    }, 5_000, 'all_group empty');
  }, 60_000);
});
