/**
 * Recordings survive a killed server (written incrementally), and WebSocket-TS players get the
 * same TS bytes as HTTP-TS players.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath } from './helpers/ffmpeg.ts';
import { atTestEnd, background, collect, run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { bytesEqual, concat } from '../lib/core/bytes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-kill-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

test('SIGKILL mid-publish leaves playable FLV and TS recordings', async () => {
  const root = join(import.meta.dir, '..');
  const c = JSON.parse(readFileSync(join(root, 'conf/lalserver.conf.json'), 'utf8'));
  const rtmpPort = await freePort();
  Object.assign(c.rtmp, { addr: `127.0.0.1:${rtmpPort}`, rtmps_enable: false });
  c.default_http.http_listen_addr = '127.0.0.1:0';
  for (const k of ['httpflv', 'httpts', 'hls']) c[k].enable_https = false;
  c.hls.enable = false;
  Object.assign(c.rtsp, { enable: false, rtsps_enable: false, ws_rtsp_enable: false });
  c.http_api.addr = '127.0.0.1:0';
  c.pprof.enable = false;
  c.log.filename = '';
  Object.assign(c.record, { enable_flv: true, flv_out_path: join(tmp, 'flv'), enable_mpegts: true, mpegts_out_path: join(tmp, 'ts') });
  writeFileSync(join(tmp, 'c.json'), JSON.stringify(c));
  const server = spawnTracked([process.execPath, join(root, 'bin/lal.ts'), 'serve', '-c', join(tmp, 'c.json')]);
  const out = collect(server.stdout);
  await waitFor(() => out.text().includes('server started'), 15_000, 'server started');
  const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/k`]);
  await Bun.sleep(2500);
  process.kill(server.pid, 'SIGKILL');
  await server.exited;
  stop(pub);
  for (const [dir, codecs] of [['flv', 'aac h264'], ['ts', 'aac h264']] as const) {
    const files = readdirSync(join(tmp, dir));
    expect(files.length).toBe(1);
    const r = await run([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', join(tmp, dir, files[0])], 20_000);
    expect(r.code).toBe(0);
    const s = (JSON.parse(r.stdout) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams;
    expect(s.map((x) => x.codec_name).sort().join(' ')).toBe(codecs);
    const v = Number(s.find((x) => x.codec_name === 'h264')!.nb_read_frames);
    expect(v).toBeGreaterThan(30); // ~2.5 s of 25 fps
    expect(v).toBeLessThan(100);
  }
}, 40_000);

test('WebSocket-TS: one binary message per write, the same bytes as HTTP-TS', async () => {
  await using srv = await startTestServer();
  const http: Uint8Array[] = [];
  const ac = new AbortController();
  const httpDone = background(async (atEnd) => {
    try {
      const r = await fetch(`http://127.0.0.1:${srv.ports.http}/live/wt.ts`, { signal: AbortSignal.any([ac.signal, atEnd]) });
      for await (const c of r.body!) http.push(c);
    } catch {
      /* aborted */
    }
  }, 'the HTTP-TS player');
  const ws = new WebSocket(`ws://127.0.0.1:${srv.ports.http}/live/wt.ts`);
  atTestEnd(() => ws.close());
  ws.binaryType = 'arraybuffer';
  const msgs: Uint8Array[] = [];
  ws.onmessage = (e) => msgs.push(new Uint8Array(e.data as ArrayBuffer));
  await new Promise((r) => (ws.onopen = r));
  await waitFor(() => srv.control.statGroup('wt')?.subs?.length === 2, 5_000, 'two ts players');
  const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/wt`]);
  expect(await pub.exited).toBe(0);
  await waitFor(() => srv.control.statGroup('wt')?.pub.session_id === '', 5_000, 'input ended');
  await Bun.sleep(300);
  ac.abort();
  ws.close();
  await httpDone;
  for (const m of msgs) expect(m.length % 188).toBe(0);
  expect(msgs[0][0]).toBe(0x47);
  expect(bytesEqual(concat(msgs), concat(http))).toBe(true);
  expect(msgs.length).toBeGreaterThan(100); // PAT+PMT, 100 video frames, AAC aggregated into ~150 ms PES
}, 30_000);
