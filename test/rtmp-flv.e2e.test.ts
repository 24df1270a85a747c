/**
 * End-to-end: ffmpeg publishes a fixture over RTMP; ffmpeg/ffprobe, our HTTP-FLV reader and a
 * WebSocket client play it back over RTMP, HTTP-FLV and WebSocket-FLV. Real sockets, real peers.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath } from './helpers/ffmpeg.ts';
import { run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath, fixtureTags, httpFlvClient, isKeyFrameTag, isSeqHeaderTag, mediaTags, wsFlvClient } from './flv-tools.ts';
import { bytesEqual } from '../lib/core/bytes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-e2e-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

const FIXTURE = 'h264-aac.flv';
const src = mediaTags(fixtureTags(FIXTURE));
const srcVideo = src.filter((t) => t.type === 9 && !isSeqHeaderTag(t)).length; // 100
const srcAudio = src.filter((t) => t.type === 8 && !isSeqHeaderTag(t)).length; // 174

function publish(rtmpUrl: string, realtime: boolean) {
  const ff = ffmpegPath();
  return spawnTracked([ff, '-hide_banner', '-loglevel', 'error', ...(realtime ? ['-re'] : []), '-i', fixturePath(FIXTURE), '-c', 'copy', '-f', 'flv', rtmpUrl]);
}

async function probe(file: string) {
  const r = await run([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,profile,width,height,nb_read_frames,sample_rate,channels', '-of', 'json', file], 30_000);
  if (r.code !== 0) throw new Error(`ffprobe ${file} failed: ${r.stderr}`);
  const streams = (JSON.parse(r.stdout) as { streams: Record<string, unknown>[] }).streams;
  return { video: streams.find((s) => s.codec_type === 'video')!, audio: streams.find((s) => s.codec_type === 'audio')! };
}

describe('RTMP in → RTMP, HTTP-FLV, WS-FLV out', () => {
  test('players attached before the publisher get every frame; codecs and counts match the source', async () => {
    await using srv = await startTestServer();
    const rtmpUrl = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/t1`;
    const flvUrl = `http://127.0.0.1:${srv.ports.http}/live/t1.flv`;

    const http = httpFlvClient(flvUrl);
    const ws = wsFlvClient(`ws://127.0.0.1:${srv.ports.http}/live/t1.flv`);
    await ws.opened;
    const rtmpOut = join(tmp, 'rtmp-play.flv');
    const player = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-i', rtmpUrl, '-c', 'copy', '-flush_packets', '1', '-f', 'flv', '-y', rtmpOut], {});
    await waitFor(() => (srv.control.statGroup('t1')?.subs?.length ?? 0) >= 3, 10_000, 'three players attached');

    const pub = publish(rtmpUrl, false);
    expect(await pub.exited).toBe(0);

    const want = srcVideo + srcAudio;
    await waitFor(() => http.tags.filter((t) => !isSeqHeaderTag(t) && t.type !== 18).length >= want, 15_000, 'all HTTP-FLV tags');
    await waitFor(() => ws.tags.filter((t) => !isSeqHeaderTag(t) && t.type !== 18).length >= want, 15_000, 'all WS-FLV tags');
    // The stream stays open (players outlive the publisher): once the server has written the RTMP
    // player everything, kick it through the API; ffmpeg sees the end of the stream and finishes.
    let last = -1;
    await waitFor(() => {
      const sub = srv.control.statGroup('t1')!.subs!.find((x) => x.protocol === 'RTMP')!;
      const same = sub.wrote_bytes_sum === last;
      last = sub.wrote_bytes_sum;
      return same;
    }, 10_000, 'RTMP player output settled');
    const rtmpSub = srv.control.statGroup('t1')!.subs!.find((x) => x.protocol === 'RTMP')!;
    const kick = await fetch(`http://127.0.0.1:${srv.ports.api}/api/ctrl/kick_session`, { method: 'POST', body: JSON.stringify({ stream_name: 't1', session_id: rtmpSub.session_id }) });
    expect(await kick.json()).toEqual({ error_code: 0, desp: 'succ' });
    expect(await Promise.race([player.exited, Bun.sleep(10_000).then(() => 'timeout')])).toBe(0);
    http.close();
    ws.close();

    // HTTP-FLV: response head and the FLV header as LAL sends them.
    expect(http.status).toBe(200);
    expect(http.headers!.get('content-type')).toBe('video/x-flv');
    expect(http.headers!.get('access-control-allow-origin')).toBe('*');
    // The same media tags, in order, byte-exact, with the original timestamps.
    const got = mediaTags(http.tags).filter((t) => !isSeqHeaderTag(t));
    const srcMedia = src.filter((t) => !isSeqHeaderTag(t));
    expect(got.length).toBe(srcMedia.length);
    for (let i = 0; i < got.length; i++) {
      expect(got[i].type).toBe(srcMedia[i].type);
      expect(got[i].timestamp).toBe(srcMedia[i].timestamp);
      expect(bytesEqual(got[i].body, srcMedia[i].body)).toBe(true);
    }
    // Metadata first (without @setDataFrame), then sequence headers.
    expect(http.tags[0].type).toBe(18);
    expect(new TextDecoder().decode(http.tags[0].body.subarray(3, 13))).toBe('onMetaData');
    // WebSocket-FLV carries exactly the same bytes, one tag per message after the FLV header.
    expect(ws.messages[0].length).toBe(13);
    expect(ws.tags.length).toBe(http.tags.length);
    for (let i = 0; i < ws.tags.length; i++) expect(bytesEqual(ws.tags[i].body, http.tags[i].body)).toBe(true);

    // RTMP playback through ffmpeg, and the HTTP-FLV body, decode like the source.
    const httpFile = join(tmp, 'http-play.flv');
    await Bun.write(httpFile, new Blob(http.chunks));
    const want1 = await probe(fixturePath(FIXTURE));
    for (const f of [httpFile, rtmpOut]) {
      const p = await probe(f);
      expect(p.video.codec_name).toBe('h264');
      expect(p.video.profile).toBe(want1.video.profile);
      expect(p.video.width).toBe(320);
      expect(p.video.height).toBe(240);
      expect(p.video.nb_read_frames).toBe(want1.video.nb_read_frames);
      expect(p.audio.codec_name).toBe('aac');
      expect(p.audio.sample_rate).toBe(want1.audio.sample_rate);
      expect(p.audio.channels).toBe(2);
      expect(p.audio.nb_read_frames).toBe(want1.audio.nb_read_frames);
    }
  }, 60_000);

  test('late joiners start on a key frame from the GOP cache, ffprobe reads the stream', async () => {
    await using srv = await startTestServer();
    const rtmpUrl = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/t2`;
    const pub = publish(rtmpUrl, true);
    await waitFor(() => (srv.control.statGroup('t2')?.video_width ?? 0) > 0, 10_000, 'publisher started');
    await Bun.sleep(1500); // mid-GOP

    const http = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/t2.flv`);
    await waitFor(() => http.tags.filter((t) => t.type === 9).length >= 3, 5_000, 'late joiner video');
    const video = http.tags.filter((t) => t.type === 9);
    expect(isSeqHeaderTag(video[0])).toBe(true);
    expect(isKeyFrameTag(video[1])).toBe(true);
    expect(http.firstByteMs).toBeLessThan(1000);
    http.close();

    for (const url of [rtmpUrl, `http://127.0.0.1:${srv.ports.http}/live/t2.flv`]) {
      const r = await run([ffprobePath(), '-v', 'error', '-show_entries', 'stream=codec_name,width,height,sample_rate', '-of', 'json', url], 15_000);
      expect(r.code).toBe(0);
      const s = (JSON.parse(r.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
      expect(s.map((x) => x.codec_name).sort()).toEqual(['aac', 'h264']);
      expect(s.find((x) => x.codec_name === 'h264')!.width).toBe(320);
    }

    // The API sees the publisher with the SPS dimensions and codecs.
    const g = srv.control.statGroup('t2')!;
    expect(g.pub.protocol).toBe('RTMP');
    expect(g.pub.base_type).toBe('PUB');
    expect(g.video_codec).toBe('H264');
    expect(g.audio_codec).toBe('AAC');
    expect([g.video_width, g.video_height]).toEqual([320, 240]);
    stop(pub);
    await pub.exited;
  }, 60_000);

  test('a second publisher of a live name is refused and the first goes on', async () => {
    await using srv = await startTestServer();
    const rtmpUrl = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/t3`;
    const first = publish(rtmpUrl, true);
    await waitFor(() => srv.control.statGroup('t3')?.pub.session_id, 10_000, 'first publisher');
    const firstId = srv.control.statGroup('t3')!.pub.session_id;
    const second = publish(rtmpUrl, true);
    const code = await Promise.race([second.exited, Bun.sleep(8000).then(() => 'still running')]);
    expect(code).not.toBe(0);
    expect(code).not.toBe('still running');
    expect(srv.control.statGroup('t3')!.pub.session_id).toBe(firstId);
    expect(first.exitCode).toBeNull();
    stop(first);
    await first.exited;
  }, 30_000);
});
