/**
 * H.265 over RTMP, both as LAL's legacy FLV codec id 12 and as enhanced RTMP (`hvc1`), published
 * by our push client and played over HTTP-FLV and RTMP; ffprobe decodes the enhanced form (with
 * an ffprobe that reads `hvc1` in FLV: 6.1 or later; test/helpers/ffmpeg.ts picks it).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeWith } from './helpers/ffmpeg.ts';
import { background, run, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixtureTags, httpFlvClient } from './flv-tools.ts';
import { pushFlvTags } from '../lib/client/push.ts';
import { bytesEqual } from '../lib/core/bytes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-hevc-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('H.265 over RTMP', () => {
  for (const variant of ['legacy', 'enhanced'] as const) {
    test(`${variant} H.265: forwarded byte-exact, stats show H265 320x240`, async () => {
      const ffprobe = variant === 'enhanced' ? ffprobeWith('hvc1-flv') : '';
      await using srv = await startTestServer();
      const name = `hevc_${variant}`;
      const tags = fixtureTags(`h265-${variant}.flv`);
      const player = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/${name}.flv`);
      await waitFor(() => player.status === 200, 5_000, 'player attached');
      const res = await pushFlvTags({ url: `rtmp://127.0.0.1:${srv.ports.rtmp}/live/${name}`, tags });
      expect(res.sentTags).toBe(tags.length);
      await waitFor(() => player.tags.length >= tags.length, 10_000, 'all tags');
      player.close();
      for (let i = 0; i < tags.length; i++) {
        expect(player.tags[i].type).toBe(tags[i].type);
        expect(player.tags[i].timestamp).toBe(tags[i].timestamp);
        expect(bytesEqual(player.tags[i].body, tags[i].body)).toBe(true);
      }
      const g = srv.control.statGroup(name)!;
      expect(g.video_codec).toBe('H265');
      expect([g.video_width, g.video_height]).toEqual([320, 240]);
      if (variant === 'enhanced') {
        const file = join(tmp, `${name}.flv`);
        await Bun.write(file, new Blob(player.chunks));
        const p = await run([ffprobe, '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,width,height,nb_read_frames', '-of', 'json', file], 20_000);
        expect(p.code).toBe(0);
        const s = (JSON.parse(p.stdout) as { streams: Record<string, unknown>[] }).streams[0];
        expect(s).toMatchObject({ codec_name: 'hevc', profile: 'Main', width: 320, height: 240, nb_read_frames: '50' });
      }
    }, 30_000);
  }

  test('ffprobe plays an enhanced H.265 stream over RTMP from the GOP cache', async () => {
    const ffprobe = ffprobeWith('hvc1-flv');
    await using srv = await startTestServer();
    const tags = fixtureTags('h265-enhanced.flv');
    const ac = new AbortController();
    // aborted by the test's end too, so a failed assertion cannot leave it to reject later
    const push = background((signal) => pushFlvTags({ url: `rtmp://127.0.0.1:${srv.ports.rtmp}/live/hv`, tags, realtime: true, loops: 3, signal: AbortSignal.any([ac.signal, signal]) }), 'the H.265 push');
    await waitFor(() => srv.control.statGroup('hv')?.video_codec === 'H265', 5_000, 'publishing');
    await Bun.sleep(500);
    const r = await run([ffprobe, '-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/hv`], 20_000);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { streams: Record<string, unknown>[] }).streams[0]).toMatchObject({ codec_name: 'hevc', width: 320, height: 240 });
    ac.abort();
    expect((await push).sentTags).toBeGreaterThan(10);
  }, 30_000);
});
