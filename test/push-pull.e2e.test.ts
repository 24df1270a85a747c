/** `lal push` and `lal pull` as processes against a live server; ffprobe checks the result. */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobePath } from './helpers/ffmpeg.ts';
import { run, spawnTracked, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-pp-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});
const lal = [process.execPath, join(import.meta.dir, '../bin/lal.ts')];

test('lal pull (RTMP and HTTP-FLV) records what lal push publishes', async () => {
  await using srv = await startTestServer();
  const outs = [join(tmp, 'rtmp.flv'), join(tmp, 'http.flv')];
  const pulls = [
    spawnTracked([...lal, 'pull', '-i', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/pp`, '-o', outs[0], '-d', '4']),
    spawnTracked([...lal, 'pull', '-i', `http://127.0.0.1:${srv.ports.http}/live/pp.flv`, '-o', outs[1], '-d', '4']),
  ];
  await waitFor(() => (srv.control.statGroup('pp')?.subs?.length ?? 0) === 2, 10_000, 'two pull clients');
  const push = await run([...lal, 'push', '-i', fixturePath('h264-aac.flv'), '-o', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/pp`, '--no-realtime'], 20_000);
  expect(push.code).toBe(0);
  expect(push.stdout).toMatch(/push: .* 278 tags/);
  for (const [i, p] of pulls.entries()) {
    expect(await p.exited).toBe(0);
    const r = await run([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', outs[i]], 20_000);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['aac,174', 'h264,100']);
  }
  const bad = await run([...lal, 'push', '-i', join(tmp, 'missing.flv'), '-o', 'rtmp://127.0.0.1:1/live/x'], 20_000);
  expect(bad.code).toBe(1);
  expect(bad.stderr + bad.stdout).toContain('missing.flv');
  const refused = await run([...lal, 'pull', '-i', `http://127.0.0.1:${srv.ports.http}/live/x.mp4`], 20_000);
  expect(refused.code).toBe(1);
}, 40_000);
