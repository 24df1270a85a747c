/** The HTTP API against a live server with a real publisher and players (docs/http-api.md). */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ffmpegPath } from './helpers/ffmpeg.ts';
import { run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath, httpFlvClient } from './flv-tools.ts';

afterAll(stopAll);

type J = { error_code: number; desp: string; data?: any };

describe('HTTP API on a live server', () => {
  test('lal_info, group, all_group, kick_session and their errors', async () => {
    await using srv = await startTestServer();
    const api = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${srv.ports.api}${path}`, init);
    const json = async (path: string, init?: RequestInit) => (await (await api(path, init)).json()) as J;

    const info = await api('/api/stat/lal_info');
    expect(info.status).toBe(200);
    expect(info.headers.get('content-type')).toContain('application/json');
    expect(info.headers.get('server')).toBe('lal0.1.0');
    const infoBody = (await info.json()) as J;
    expect(Object.keys(infoBody.data)).toEqual(['server_id', 'bin_info', 'lal_version', 'api_version', 'notify_version', 'WebUiVersion', 'start_time']);
    expect(infoBody.data.server_id).toBe('test');
    expect(infoBody.data.start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})? /);

    expect(await json('/api/stat/all_group')).toEqual({ error_code: 0, desp: 'succ', data: { groups: null } });
    expect(await json('/api/stat/group')).toEqual({ error_code: 1002, desp: 'param missing', data: null });
    expect(await json('/api/stat/group?stream_name=nope')).toEqual({ error_code: 1001, desp: 'group not found', data: null });

    const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '3', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/api1?k=v`]);
    const p1 = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/api1.flv`);
    const p2 = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/other/api1.flv`);
    await waitFor(async () => (await json('/api/stat/group?stream_name=api1')).data?.video_width === 320, 10_000, 'publisher stats');
    // Bitrates are computed on a 5 s tick.
    await waitFor(async () => (await json('/api/stat/group?stream_name=api1')).data.pub.bitrate_kbits > 0, 12_000, 'bitrate tick');
    const g = (await json('/api/stat/group?stream_name=api1')).data;
    expect(Object.keys(g)).toEqual(['stream_name', 'app_name', 'audio_codec', 'video_codec', 'video_width', 'video_height', 'pub', 'subs', 'pull', 'in_frame_per_sec']);
    expect(g).toMatchObject({ stream_name: 'api1', app_name: 'live', audio_codec: 'AAC', video_codec: 'H264', video_width: 320, video_height: 240 });
    expect(g.pub.session_id).toMatch(/^RTMPPUBSUB\d+$/);
    expect(g.pub).toMatchObject({ protocol: 'RTMP', base_type: 'PUB' });
    expect(g.pub.remote_addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(g.pub.read_bytes_sum).toBeGreaterThan(100_000);
    expect(g.pub.bitrate_kbits).toBe(g.pub.read_bitrate_kbits);
    expect(g.pub.read_bitrate_kbits).toBeGreaterThan(200);
    expect(g.subs.length).toBe(2);
    for (const s of g.subs) {
      expect(s.session_id).toMatch(/^FLVPUBSUB\d+$/);
      expect(s).toMatchObject({ protocol: 'FLV', base_type: 'SUB', read_bytes_sum: 0 });
      expect(s.wrote_bytes_sum).toBeGreaterThan(10_000);
      expect(s.bitrate_kbits).toBe(s.write_bitrate_kbits);
    }
    expect(g.pull.session_id).toBe('');
    expect(g.in_frame_per_sec.length).toBeGreaterThan(2);
    // 25 fps source; the oldest second may be partial.
    expect(Math.max(...g.in_frame_per_sec.map((f: { v: number }) => f.v))).toBeGreaterThan(20);
    expect(g.in_frame_per_sec[0].unix_sec).toBeGreaterThan(g.in_frame_per_sec[1].unix_sec);

    const all = await json('/api/stat/all_group');
    expect(all.data.groups.length).toBe(1);

    // kick_session: errors, then a real kick closes that player only.
    expect(await json('/api/ctrl/kick_session', { method: 'POST', body: '{}' })).toEqual({ error_code: 1002, desp: 'param missing' });
    expect(await json('/api/ctrl/kick_session', { method: 'POST', body: JSON.stringify({ stream_name: 'x', session_id: 'FLVPUBSUB1' }) })).toEqual({ error_code: 1001, desp: 'group not found' });
    expect(await json('/api/ctrl/kick_session', { method: 'POST', body: JSON.stringify({ stream_name: 'api1', session_id: 'FLVPUBSUB999' }) })).toEqual({ error_code: 1003, desp: 'session not found' });
    const victim = g.subs[0].session_id;
    expect(await json('/api/ctrl/kick_session', { method: 'POST', body: JSON.stringify({ stream_name: 'api1', session_id: victim }) })).toEqual({ error_code: 0, desp: 'succ' });
    await waitFor(async () => (await json('/api/stat/group?stream_name=api1')).data.subs?.length === 1, 5_000, 'kicked player gone');
    // Kicking the publisher ends ffmpeg's publish.
    expect(await json('/api/ctrl/kick_session', { method: 'POST', body: JSON.stringify({ stream_name: 'api1', session_id: g.pub.session_id }) })).toEqual({ error_code: 0, desp: 'succ' });
    expect(await Promise.race([pub.exited.then(() => 'exited'), Bun.sleep(5000).then(() => 'running')])).toBe('exited');

    expect(await json('/api/nope')).toMatchObject({ error_code: 404 });
    const ui = await api('/lal.html');
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect(await ui.text()).toContain('/api/stat/all_group');
    p1.close();
    p2.close();
    stop(pub);
  }, 40_000);

  test('lal bench loads a stream and reports first-frame latency', async () => {
    await using srv = await startTestServer();
    const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '3', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/b`]);
    await waitFor(() => srv.control.statGroup('b')?.video_width, 10_000, 'publisher');
    const lal = [process.execPath, join(import.meta.dir, '../bin/lal.ts')];
    for (const url of [`rtmp://127.0.0.1:${srv.ports.rtmp}/live/b`, `http://127.0.0.1:${srv.ports.http}/live/b.flv`]) {
      const r = await run([...lal, 'bench', '-i', url, '-n', '20', '--duration', '2', '--ramp', '100', '--json'], 30_000);
      expect(r.code).toBe(0);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { failed: number; started: number; firstFrameMs: { count: number; median: number }; aggregateBitsPerSec: number };
      expect(res.started).toBe(20);
      expect(res.failed).toBe(0);
      expect(res.firstFrameMs.count).toBe(20);
      expect(res.firstFrameMs.median).toBeLessThan(500);
      expect(res.aggregateBitsPerSec).toBeGreaterThan(20 * 200_000);
    }
    const bad = await run([...lal, 'bench', '-i', 'ftp://x/y', '-n', '1'], 20_000);
    expect(bad.code).toBe(1);
    expect(bad.stderr + bad.stdout).toContain('unsupported url');
    stop(pub);
  }, 60_000);
});
