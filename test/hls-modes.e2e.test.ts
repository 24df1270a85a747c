/** HLS cleanup modes, the in-memory store and tracked player sessions (docs/hls.md §5, §7). */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from './helpers/ffmpeg.ts';
import { spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { parseMediaPlaylist } from '../lib/format/m3u8/playlist.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-hlsm-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

const publish = (url: string, loops = 0, realtime = false) =>
  spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', ...(realtime ? ['-re'] : []), '-stream_loop', String(loops), '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', url]);

describe('HLS cleanup modes', () => {
  test('mode 2 keeps fragment_num + delete_threshold closed fragments while streaming, then removes the directory', async () => {
    const out = join(tmp, 'm2');
    await using srv = await startTestServer({ hls: { enable: true, out_path: out, fragment_duration_ms: 500, fragment_num: 2, delete_threshold: 1, cleanup_mode: 2 } });
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/c2`, 2); // 12 s of media, 1 s GOPs → ~12 fragments
    expect(await pub.exited).toBe(0);
    await waitFor(() => !srv.control.statGroup('c2'), 5_000, 'input ended');
    const ts = readdirSync(join(out, 'c2')).filter((f) => f.endsWith('.ts'));
    // 2 + 1 closed fragments are kept (the last one was closed at the end: nothing open).
    expect(ts.length).toBe(3);
    expect(existsSync(join(out, 'c2/record.m3u8'))).toBe(false);
    const pl = parseMediaPlaylist(await Bun.file(join(out, 'c2/playlist.m3u8')).text());
    expect(pl.segments.length).toBe(2);
    expect(pl.mediaSequence).toBeGreaterThan(5);
    for (const s of pl.segments) expect(ts).toContain(s.uri);
    // Cleanup timer: 500 ms × (2 + 1) after the end.
    await waitFor(() => !existsSync(join(out, 'c2')), 5_000, 'stream directory removed');
  }, 30_000);

  test('mode 1 keeps every fragment while streaming and removes the directory after the timer; mode 0 never deletes', async () => {
    const out1 = join(tmp, 'm1');
    await using srv1 = await startTestServer({ hls: { enable: true, out_path: out1, fragment_duration_ms: 500, fragment_num: 2, delete_threshold: 1, cleanup_mode: 1 } });
    const p1 = publish(`rtmp://127.0.0.1:${srv1.ports.rtmp}/live/c1`, 1);
    expect(await p1.exited).toBe(0);
    await waitFor(() => !srv1.control.statGroup('c1'), 5_000, 'input ended');
    const n = readdirSync(join(out1, 'c1')).filter((f) => f.endsWith('.ts')).length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(existsSync(join(out1, 'c1/record.m3u8'))).toBe(true);
    await waitFor(() => !existsSync(join(out1, 'c1')), 5_000, 'mode 1 directory removed');

    const out0 = join(tmp, 'm0');
    await using srv0 = await startTestServer({ hls: { enable: true, out_path: out0, fragment_duration_ms: 500, fragment_num: 2, delete_threshold: 1, cleanup_mode: 0 } });
    const p0 = publish(`rtmp://127.0.0.1:${srv0.ports.rtmp}/live/c0`, 1);
    expect(await p0.exited).toBe(0);
    await waitFor(() => !srv0.control.statGroup('c0'), 5_000, 'input ended');
    await Bun.sleep(2000);
    expect(readdirSync(join(out0, 'c0')).filter((f) => f.endsWith('.ts')).length).toBeGreaterThanOrEqual(5);
  }, 30_000);

  test('use_memory_as_disk_flag: served from memory, nothing on disk', async () => {
    const out = join(tmp, 'mem');
    await using srv = await startTestServer({ hls: { enable: true, out_path: out, fragment_duration_ms: 1000, use_memory_as_disk_flag: true, cleanup_mode: 0 } });
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/mem1`);
    expect(await pub.exited).toBe(0);
    await waitFor(() => !srv.control.statGroup('mem1'), 5_000, 'input ended');
    const r = await fetch(`http://127.0.0.1:${srv.ports.http}/hls/mem1/playlist.m3u8`);
    expect(r.status).toBe(200);
    const pl = parseMediaPlaylist(await r.text());
    expect(pl.segments.length).toBeGreaterThanOrEqual(3);
    const seg = await fetch(`http://127.0.0.1:${srv.ports.http}/hls/mem1/${pl.segments[0].uri}`);
    expect(seg.status).toBe(200);
    expect((await seg.arrayBuffer()).byteLength % 188).toBe(0);
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});

describe('HLS player sessions', () => {
  test('redirect to ?session_id=, counted in stats as HLSSUB, bytes accounted, kicked → 404, expiry', async () => {
    const out = join(tmp, 'sess');
    await using srv = await startTestServer({ hls: { enable: true, out_path: out, fragment_duration_ms: 1000, cleanup_mode: 0, sub_session_hash_key: 'k', sub_session_timeout_ms: 1500 } });
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/s1`, 20, true);
    const base = `http://127.0.0.1:${srv.ports.http}`;
    await waitFor(async () => (await fetch(`${base}/hls/s1/playlist.m3u8?session_id=x`, { redirect: 'manual' })).status === 404 && existsSync(join(out, 's1/playlist.m3u8')), 10_000, 'playlist');
    const r = await fetch(`${base}/hls/s1/playlist.m3u8?a=1`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    const loc = r.headers.get('location')!;
    expect(loc).toMatch(/^\/hls\/s1\/playlist\.m3u8\?a=1&session_id=[0-9a-f]{32}$/);
    const pl = await (await fetch(`${base}${loc}`)).text();
    const seg = pl.split('\n').find((l) => l.includes('.ts'))!;
    expect(seg).toMatch(/\.ts\?session_id=[0-9a-f]{32}$/);
    const segRes = await fetch(`${base}/hls/s1/${seg}`);
    expect(segRes.status).toBe(200);
    const segBytes = (await segRes.arrayBuffer()).byteLength;
    const g = srv.control.statGroup('s1')!;
    const hls = g.subs!.find((s) => s.protocol === 'HLS')!;
    expect(hls.session_id).toMatch(/^HLSSUB\d+$/);
    expect(hls.wrote_bytes_sum).toBeGreaterThanOrEqual(segBytes);
    expect(srv.control.kickSession('s1', hls.session_id)).toBe('ok');
    expect((await fetch(`${base}${loc}`)).status).toBe(404);
    // A second session simply expires.
    const r2 = await fetch(`${base}/hls/s1.m3u8`, { redirect: 'manual' });
    expect(r2.status).toBe(302);
    await waitFor(() => srv.control.statGroup('s1')!.subs?.some((s) => s.protocol === 'HLS'), 3_000, 'second session listed');
    await waitFor(() => !srv.control.statGroup('s1')!.subs?.some((s) => s.protocol === 'HLS'), 5_000, 'session expired');
    stop(pub);
  }, 40_000);
});
