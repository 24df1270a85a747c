/**
 * MPEG-TS outputs end to end: HTTP-TS players, HLS (live and record playlists, fragments), FLV and
 * TS recording — published by ffmpeg over RTMP, read back by ffprobe/ffmpeg and our TS demuxer.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath } from './helpers/ffmpeg.ts';
import { background, run, spawnTracked, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { TsDemuxer } from '../lib/format/mpegts/demuxer.ts';
import { parseMediaPlaylist } from '../lib/format/m3u8/playlist.ts';
import { splitAnnexB } from '../lib/codec/h264/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-ts-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

function publish(url: string, opts: { realtime?: boolean; file?: string; loops?: number } = {}) {
  return spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', ...(opts.realtime ? ['-re'] : []), '-stream_loop', String(opts.loops ?? 0), '-i', fixturePath(opts.file ?? 'h264-aac.flv'), '-c', 'copy', '-f', 'flv', url]);
}

async function probeFrames(target: string) {
  const r = await run([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames,sample_rate', '-of', 'json', target], 30_000);
  if (r.code !== 0) throw new Error(`ffprobe ${target}: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Record<string, string | number>[] }).streams;
  return { video: s.find((x) => x.codec_type === 'video'), audio: s.find((x) => x.codec_type === 'audio') };
}

/** Does this TS segment's first video PES hold an IDR? */
function startsWithKeyFrame(ts: Uint8Array): boolean {
  const d = new TsDemuxer();
  for (const ev of [...d.feed(ts), ...d.flush()]) {
    if (ev.type === 'pes' && ev.codec === 'h264') return splitAnnexB(ev.data).some((n) => (n[0] & 0x1f) === 5);
  }
  return false;
}

/** Read an HTTP body into `into` until `signal` (or the end of the test) aborts it. */
function collectBody(url: string, signal: AbortSignal, into: Uint8Array[]): Promise<void> {
  return background((atEnd) => readBody(url, AbortSignal.any([signal, atEnd]), into), `reading ${url}`);
}
async function readBody(url: string, signal: AbortSignal, into: Uint8Array[]) {
  try {
    const res = await fetch(url, { signal });
    for await (const c of res.body!) into.push(c);
  } catch {
    /* aborted */
  }
}

describe('HTTP-TS, HLS and recording', () => {
  test('HTTP-TS: a player attached before the publisher decodes the whole stream', async () => {
    await using srv = await startTestServer();
    const chunks: Uint8Array[] = [];
    const ac = new AbortController();
    const body = collectBody(`http://127.0.0.1:${srv.ports.http}/live/ts1.ts`, ac.signal, chunks);
    await waitFor(() => srv.control.statGroup('ts1')?.subs?.length === 1, 5_000, 'ts player');
    expect(srv.control.statGroup('ts1')!.subs![0].session_id).toMatch(/^TSPUBSUB\d+$/);
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/ts1`);
    expect(await pub.exited).toBe(0);
    await Bun.sleep(500);
    ac.abort();
    await body;
    const file = join(tmp, 'ts1.ts');
    await Bun.write(file, new Blob(chunks));
    const total = chunks.reduce((a, c) => a + c.length, 0);
    expect(total % 188).toBe(0);
    const p = await probeFrames(file);
    expect(p.video).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '100' });
    expect(Number(p.audio!.nb_read_frames)).toBeGreaterThanOrEqual(170);
    expect(p.audio!.codec_name).toBe('aac');
  }, 30_000);

  test('HLS: fragments at key frames, live/record/short playlists, ffprobe plays them; traversal gets 404', async () => {
    const out = join(tmp, 'hls');
    await using srv = await startTestServer({ hls: { enable: true, out_path: out, fragment_duration_ms: 1000, fragment_num: 6, cleanup_mode: 0 } });
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/h1`, { realtime: true });
    expect(await pub.exited).toBe(0);
    await waitFor(() => !srv.control.statGroup('h1'), 5_000, 'input ended');
    const base = `http://127.0.0.1:${srv.ports.http}`;
    const live = await fetch(`${base}/hls/h1/playlist.m3u8`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('application/x-mpegurl');
    expect(live.headers.get('access-control-allow-origin')).toBe('*');
    const pl = parseMediaPlaylist(await live.text());
    expect(pl.endList).toBe(true);
    expect(pl.segments.length).toBeGreaterThanOrEqual(3);
    for (const seg of pl.segments.slice(0, -1)) expect(Math.abs(seg.duration - 1.0)).toBeLessThan(0.05);
    expect(await (await fetch(`${base}/hls/h1.m3u8`)).text()).toBe(readFileSync(join(out, 'h1/playlist.m3u8'), 'utf8'));
    const rec = parseMediaPlaylist(await (await fetch(`${base}/hls/h1/record.m3u8`)).text());
    expect(rec.segments[0].discontinuity).toBe(true);
    expect(rec.segments.length).toBe(pl.segments.length + pl.mediaSequence);
    for (const seg of pl.segments) {
      const r = await fetch(`${base}/hls/h1/${seg.uri}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('video/mp2t');
      const bytes = new Uint8Array(await r.arrayBuffer());
      expect(bytes.length % 188).toBe(0);
      expect(startsWithKeyFrame(bytes)).toBe(true);
    }
    const p = await probeFrames(`${base}/hls/h1/record.m3u8`);
    expect(p.video).toMatchObject({ codec_name: 'h264', width: 320, nb_read_frames: '100' });
    for (const bad of ['/hls/../../etc/passwd', '/hls/%2e%2e/%2e%2e/etc/passwd', '/hls/h1/..%2f..%2fpackage.json', '/hls/..%5c..%5cx.ts', '/hls/h1/%2e%2e%2fx.m3u8']) {
      const r = await fetch(`${base}${bad}`);
      expect(`${bad} ${r.status}`).toBe(`${bad} 404`);
    }
    expect((await fetch(`${base}/hls/nope.m3u8`)).status).toBe(404);
  }, 30_000);

  test('publisher restart: HTTP-TS keeps playing, HLS marks a discontinuity', async () => {
    const out = join(tmp, 'hls2');
    await using srv = await startTestServer({ hls: { enable: true, out_path: out, fragment_duration_ms: 1000, cleanup_mode: 1 } });
    const chunks: Uint8Array[] = [];
    const ac = new AbortController();
    const body = collectBody(`http://127.0.0.1:${srv.ports.http}/live/r1.ts`, ac.signal, chunks);
    await waitFor(() => srv.control.statGroup('r1')?.subs?.length === 1, 5_000, 'ts player');
    for (let i = 0; i < 2; i++) {
      const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/r1`, { file: 'h264-aac.flv' });
      expect(await pub.exited).toBe(0);
      await waitFor(() => srv.control.statGroup('r1')?.pub.session_id === '', 5_000, 'input ended');
    }
    ac.abort();
    await body;
    const file = join(tmp, 'r1.ts');
    await Bun.write(file, new Blob(chunks));
    const p = await probeFrames(file);
    expect(p.video!.nb_read_frames).toBe('200');
    const rec = readFileSync(join(out, 'r1/record.m3u8'), 'utf8');
    expect(rec.match(/#EXT-X-DISCONTINUITY/g)!.length).toBe(2);
    expect(rec.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
  }, 30_000);

  test('recording: one FLV and one TS file per publish, playable, FLV duration fixed up', async () => {
    const flvDir = join(tmp, 'rec-flv');
    const tsDir = join(tmp, 'rec-ts');
    await using srv = await startTestServer({ record: { enable_flv: true, flv_out_path: flvDir, enable_mpegts: true, mpegts_out_path: tsDir } });
    const pub = publish(`rtmp://127.0.0.1:${srv.ports.rtmp}/live/rec1`);
    expect(await pub.exited).toBe(0);
    await waitFor(() => !srv.control.statGroup('rec1'), 5_000, 'stream gone');
    const flv = readdirSync(flvDir);
    const ts = readdirSync(tsDir);
    expect(flv.length).toBe(1);
    expect(ts.length).toBe(1);
    expect(flv[0]).toMatch(/^rec1-\d{10}\.flv$/);
    expect(ts[0]).toMatch(/^rec1-\d{10}\.ts$/);
    const pf = await probeFrames(join(flvDir, flv[0]));
    expect(pf.video!.nb_read_frames).toBe('100');
    expect(pf.audio!.nb_read_frames).toBe('174');
    const pt = await probeFrames(join(tsDir, ts[0]));
    expect(pt.video!.nb_read_frames).toBe('100');
    const d = await run([ffprobePath(), '-v', 'error', '-show_entries', 'format_tags=duration:format=duration', '-of', 'json', join(flvDir, flv[0])], 10_000);
    const dur = Number((JSON.parse(d.stdout) as { format: { duration: string } }).format.duration);
    expect(dur).toBeGreaterThan(3.5);
    expect(dur).toBeLessThan(4.5);
    expect(existsSync(join(flvDir, flv[0]))).toBe(true);
  }, 30_000);
});
