/**
 * The single-file executable (`npm run compile` → dist/lal): compiled here, copied alone into a
 * temporary directory with no node_modules and no sources, and run from there as a user who
 * installed only the binary would: `serve` on a config file (RTMP in from ffmpeg; ffprobe plays
 * HTTP-FLV and RTMP; the web UI from the API port), `push`, `pull`, `bench`, `remux`, `--help`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath } from './helpers/ffmpeg.ts';
import { collect, run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { fixturePath } from './flv-tools.ts';

const root = join(import.meta.dir, '..');
const dir = mkdtempSync(join(tmpdir(), 'lal-compiled-'));
const lal = join(dir, 'lal');
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  // Exactly what a user runs. Bun can report a failed bytecode step and still exit 0 (with a
  // binary that does not start), so any `error:` in its output fails the build too.
  const t0 = performance.now();
  const r = await run([process.execPath, 'run', 'compile'], 120_000, { cwd: root });
  const out = r.stdout + r.stderr;
  if (r.code !== 0 || /error:/i.test(out)) throw new Error(`npm run compile failed (exit ${r.code}):\n${out}`);
  console.log(`compile: dist/lal (${(statSync(join(root, 'dist/lal')).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  copyFileSync(join(root, 'dist/lal'), lal);
  copyFileSync(fixturePath('h264-aac.flv'), join(dir, 'in.flv'));
}, 130_000);

/** The binary, from the temporary directory, within a time bound. */
const lalRun = (args: string[], timeoutMs = 30_000) => run([lal, ...args], timeoutMs, { cwd: dir });

type Stream = Record<string, string | number>;
/** Codecs and decoded frame counts, as ffprobe sees `target` (a file or a live URL). */
async function probe(target: string): Promise<{ video?: Stream; audio?: Stream }> {
  const r = await run([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', target], 30_000);
  if (r.code !== 0) throw new Error(`ffprobe ${target} (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Stream[] }).streams;
  return { video: s.find((x) => x.codec_type === 'video'), audio: s.find((x) => x.codec_type === 'audio') };
}

/** The fixture: 100 H.264 320x240 frames, 174 AAC frames. */
function expectFixtureMedia(p: { video?: Stream; audio?: Stream }): void {
  expect(p.video).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '100' });
  expect(p.audio).toMatchObject({ codec_name: 'aac', nb_read_frames: '174' });
}

describe('dist/lal, alone in a directory', () => {
  test('--help and every subcommand\'s --help (each one is bundled)', async () => {
    const top = await lalRun(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['serve', 'push', 'pull', 'remux', 'bench']) {
      expect(top.stdout).toContain(name);
      const r = await lalRun([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`lal ${name}`);
      expect(r.stdout).toContain('USAGE');
    }
    expect((await lalRun(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const bad = await lalRun(['serve', '-c']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('-c/--config needs a file name');
  });

  test('remux converts the FLV fixture to TS; ffprobe reads it', async () => {
    const r = await lalRun(['remux', '-i', 'in.flv', '-o', 'out.ts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('remux: in.flv → out.ts: 100 video / 174 audio frames');
    expectFixtureMedia(await probe(join(dir, 'out.ts')));
  });

  test('serve -c: ffmpeg publishes, ffprobe plays HTTP-FLV and RTMP, the web UI, push/pull/bench', async () => {
    const conf = {
      conf_version: 'v0.4.1',
      rtmp: { enable: true, addr: '127.0.0.1:0', rtmps_enable: false, gop_num: 1 },
      default_http: { http_listen_addr: '127.0.0.1:0' },
      httpflv: { enable: true, enable_https: false, url_pattern: '/', gop_num: 1 },
      httpts: { enable: false, enable_https: false },
      hls: { enable: false, enable_https: false },
      rtsp: { enable: false, rtsps_enable: false, ws_rtsp_enable: false },
      record: { enable_flv: false, enable_mpegts: false },
      http_api: { enable: true, addr: '127.0.0.1:0' },
      pprof: { enable: false },
      log: { level: 2, filename: '', is_to_stdout: true },
    };
    writeFileSync(join(dir, 'lalserver.conf.json'), JSON.stringify(conf));
    const srv = spawnTracked([lal, 'serve', '-c', 'lalserver.conf.json'], { cwd: dir });
    try {
      const out = collect(srv.stdout);
      const err = collect(srv.stderr);
      const log = () => out.text() + err.text();
      await waitFor(() => log().includes('server started') || srv.exitCode !== null, 20_000, 'server started');
      expect(log()).toContain('server started');
      // Every listener is on port 0; the log names the ports it got.
      const port = (what: string) => Number(new RegExp(`${what} listening on 127\\.0\\.0\\.1:(\\d+)`).exec(log())?.[1]);
      const ports = { rtmp: port('rtmp'), http: port('http \\(flv:/\\)'), api: port('http api') };
      for (const p of Object.values(ports)) expect(p).toBeGreaterThan(0);
      const api = `http://127.0.0.1:${ports.api}`;

      // The web UI is inside the binary.
      const ui = await fetch(`${api}/lal.html`);
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toContain('text/html');
      expect(await ui.text()).toBe(readFileSync(join(root, 'lib/api/lal.html'), 'utf8'));

      const group = async (name: string) =>
        ((await (await fetch(`${api}/api/stat/group?stream_name=${name}`)).json()) as { data?: { subs: { session_id: string; protocol: string; wrote_bytes_sum: number }[] | null } }).data;
      const subs = async (name: string) => (await group(name))?.subs ?? [];

      // ffprobe players attach first, so each one gets the whole stream.
      const rtmpUrl = `rtmp://127.0.0.1:${ports.rtmp}/live/c1`;
      const plays = [probe(`http://127.0.0.1:${ports.http}/live/c1.flv`), probe(rtmpUrl)];
      await waitFor(async () => (await subs('c1')).length >= 2, 15_000, 'two ffprobe players attached');
      const pub = await run([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-i', join(dir, 'in.flv'), '-c', 'copy', '-f', 'flv', rtmpUrl], 30_000);
      expect(pub.code).toBe(0);
      // Players outlive their publisher: once everything is written, kick them; ffprobe sees the end.
      let last = '';
      await waitFor(async () => {
        const now = JSON.stringify((await subs('c1')).map((s) => s.wrote_bytes_sum));
        const same = now === last;
        last = now;
        return same;
      }, 10_000, 'player output settled');
      for (const s of await subs('c1')) {
        const kick = await fetch(`${api}/api/ctrl/kick_session`, { method: 'POST', body: JSON.stringify({ stream_name: 'c1', session_id: s.session_id }) });
        expect(((await kick.json()) as { error_code: number }).error_code).toBe(0);
      }
      for (const p of await Promise.all(plays)) expectFixtureMedia(p);

      // lal pull (attached first, stops after its duration) and lal push, both the binary.
      const pullUrl = `rtmp://127.0.0.1:${ports.rtmp}/live/c2`;
      const pull = lalRun(['pull', '-i', pullUrl, '-o', 'pulled.flv', '-d', '4']);
      await waitFor(async () => (await subs('c2')).length >= 1, 15_000, 'lal pull attached');
      const push = await lalRun(['push', '-i', 'in.flv', '-o', pullUrl, '--no-realtime']);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
      expect(push.stdout).toContain(`push: in.flv → ${pullUrl}:`);
      const pulled = await pull;
      expect(pulled.code).toBe(0);
      expect(pulled.stdout).toContain(`pull: ${pullUrl} → pulled.flv:`);
      expectFixtureMedia(await probe(join(dir, 'pulled.flv')));

      // lal bench: two players on a stream lal push keeps going (stopped by PID below).
      const looping = spawnTracked([lal, 'push', '-i', 'in.flv', '-o', `rtmp://127.0.0.1:${ports.rtmp}/live/c3`, '--loop', '-1'], { cwd: dir });
      try {
        const bench = await lalRun(['bench', '-i', `http://127.0.0.1:${ports.http}/live/c3.flv`, '-n', '2', '-d', '1', '--ramp', '20', '--json']);
        expect(bench.code).toBe(0);
        const res = JSON.parse(bench.stdout.trim().split('\n').at(-1)!) as { n: number; started: number; failed: number };
        expect(res).toMatchObject({ n: 2, started: 2, failed: 0 });
      } finally {
        stop(looping);
      }
    } finally {
      stop(srv);
      await Promise.race([srv.exited, Bun.sleep(5000)]);
    }
    expect(srv.exitCode).toBe(0); // SIGTERM: a clean shutdown
  }, 90_000);

  test('serve without -c finds lalserver.conf.json in LAL\'s places under the working directory', async () => {
    const sub = join(dir, 'site');
    mkdirSync(join(sub, 'conf'), { recursive: true });
    writeFileSync(join(sub, 'conf/lalserver.conf.json'), readFileSync(join(dir, 'lalserver.conf.json')));
    const srv = spawnTracked([lal, 'serve'], { cwd: sub });
    try {
      const out = collect(srv.stdout);
      await waitFor(() => out.text().includes('server started') || srv.exitCode !== null, 20_000, 'server started');
      expect(out.text()).toContain(`starting with ${join(sub, 'conf/lalserver.conf.json')}`);
      expect(out.text()).toContain('server started');
    } finally {
      stop(srv);
      await Promise.race([srv.exited, Bun.sleep(5000)]);
    }
  }, 30_000);
});
