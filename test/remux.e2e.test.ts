/**
 * `lal remux` end to end (issue #3): the CLI as a subprocess converting the fixtures FLV → TS → FLV,
 * FLV → HLS VOD, an ffmpeg-made TS → FLV, live rtmp:// → HLS from an in-process server fed by
 * ffmpeg, and bad inputs; ffprobe checks codecs, sizes, frame counts and durations.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath, ffprobeWith } from './helpers/ffmpeg.ts';
import { background, run, spawnTracked, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { FlvReader } from '../lib/format/flv/index.ts';
import { parseMediaPlaylist } from '../lib/format/m3u8/playlist.ts';
import { TsDemuxer } from '../lib/format/mpegts/demuxer.ts';
import { splitAnnexB } from '../lib/codec/h264/index.ts';
import { remux } from '../lib/client/remux.ts';

const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lal-remux-e2e-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

/** `lal remux …` as a subprocess, as a user runs it from the sources (bin/lal.ts). */
const lalRemux = [process.execPath, join(root, 'bin/lal.ts'), 'remux'];
const lal = (...args: string[]) => run([...lalRemux, ...args], 30_000, { cwd: tmp });

const SUMMARY = /^remux: \S+ → \S+: \d+ video \/ \d+ audio frames, \d+\.\d\d s(, \d+ segments?)?, \d+\.\d\d MB in \d+\.\d\d s \(\d+(\.\d)? MB\/s\)$/;

type Stream = Record<string, string | number>;
async function probe(target: string, ffprobe = ffprobePath()): Promise<{ video?: Stream; audio?: Stream }> {
  const r = await run([ffprobe, '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,profile,width,height,nb_read_frames,sample_rate,channels', '-of', 'json', target], 30_000);
  if (r.code !== 0) throw new Error(`ffprobe ${target}: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Stream[] }).streams;
  const pick = (t: string) => {
    const x = s.find((y) => y.codec_type === t);
    if (!x) return undefined;
    const { codec_type: _t, ...rest } = x;
    return rest;
  };
  return { video: pick('video'), audio: pick('audio') };
}

/** Per stream: last packet end − first packet start (seconds), from ffprobe's packet list. */
async function durations(target: string, ffprobe = ffprobePath()): Promise<Record<string, number>> {
  const r = await run([ffprobe, '-v', 'error', '-show_entries', 'packet=codec_type,pts_time,duration_time', '-of', 'csv=p=0', target], 30_000);
  if (r.code !== 0) throw new Error(`ffprobe ${target}: ${r.stderr}`);
  const span: Record<string, [number, number]> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [type, pts, dur] = line.split(',');
    if (type !== 'video' && type !== 'audio') continue;
    const t = Number(pts);
    const end = t + (Number(dur) || 0);
    const s = (span[type] ??= [t, end]);
    s[0] = Math.min(s[0], t);
    s[1] = Math.max(s[1], end);
  }
  return Object.fromEntries(Object.entries(span).map(([k, [a, b]]) => [k, b - a]));
}

/** One frame: 25 fps video, 1024-sample AAC at 44.1 kHz. */
const FRAME = { video: 0.04, audio: 1024 / 44100 } as Record<string, number>;

function expectSameMedia(a: { video?: Stream; audio?: Stream }, b: { video?: Stream; audio?: Stream }): void {
  expect(b.video).toEqual(a.video!);
  expect(b.audio).toEqual(a.audio!);
}

function expectDurationsWithinAFrame(a: Record<string, number>, b: Record<string, number>): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) expect(Math.abs(b[k] - a[k])).toBeLessThanOrEqual(FRAME[k] + 1e-6);
}

describe('lal remux FLV → TS → FLV keeps codecs, sizes, frame counts and duration', () => {
  test.each([
    ['h264-aac.flv', { video: 100, audio: 174 }],
    ['h265-enhanced.flv', { video: 50 }],
    ['aac-only.flv', { audio: 88 }],
    ['h264-only.flv', { video: 50 }],
  ] as const)('%s', async (name, frames) => {
    // H.265 in FLV is enhanced RTMP (hvc1): not every ffprobe reads it (test/helpers/ffmpeg.ts)
    const ffprobe = name.startsWith('h265') ? ffprobeWith('hvc1-flv') : ffprobePath();
    const ts = join(tmp, `${name}.ts`);
    const back = join(tmp, `${name}.back.flv`);
    const r1 = await lal('-i', fixturePath(name), '-o', ts);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.stdout.trim()).toMatch(SUMMARY);
    expect(r1.stdout).toContain(`${'video' in frames ? frames.video : 0} video / ${'audio' in frames ? frames.audio : 0} audio frames`);
    const r2 = await lal('-i', ts, '-o', back);
    expect(r2.code).toBe(0);
    expect(r2.stdout.trim()).toMatch(SUMMARY);

    const [pa, pt, pb] = await Promise.all([probe(fixturePath(name), ffprobe), probe(ts, ffprobe), probe(back, ffprobe)]);
    if ('video' in frames) expect(Number(pa.video!.nb_read_frames)).toBe(frames.video);
    if ('audio' in frames) expect(Number(pa.audio!.nb_read_frames)).toBe(frames.audio);
    expectSameMedia(pa, pt);
    expectSameMedia(pa, pb);
    const [da, dt, db] = await Promise.all([durations(fixturePath(name), ffprobe), durations(ts, ffprobe), durations(back, ffprobe)]);
    expectDurationsWithinAFrame(da, dt);
    expectDurationsWithinAFrame(da, db);
    // no temporary files next to the outputs
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 30_000);
});

test('lal remux FLV → HLS VOD: segments and a VOD playlist ffprobe plays in full', async () => {
  const dir = join(tmp, 'vod');
  const r = await lal('-i', fixturePath('h264-aac.flv'), '-o', join(dir, 'movie.m3u8'), '-d', '1000');
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toMatch(SUMMARY);
  expect(r.stdout).toContain('100 video / 174 audio frames');
  const text = readFileSync(join(dir, 'movie.m3u8'), 'utf8');
  expect(text).toContain('\n#EXT-X-PLAYLIST-TYPE:VOD\n');
  const pl = parseMediaPlaylist(text);
  expect(pl.endList).toBe(true);
  expect(pl.segments.length).toBe(4);
  expect(r.stdout).toContain('4 segments');
  // only the fragments and the playlist: no live/record playlists, no temporary files
  expect(readdirSync(dir).sort()).toEqual([...pl.segments.map((s) => s.uri), 'movie.m3u8'].sort());
  for (const s of pl.segments) {
    expect(s.uri).toMatch(/^movie-\d+-\d+\.ts$/);
    const bytes = readFileSync(join(dir, s.uri));
    expect(bytes[0]).toBe(0x47);
    expect(((bytes[1] & 0x1f) << 8) | bytes[2]).toBe(0); // PAT first
    const d = new TsDemuxer();
    const firstVideo = [...d.feed(bytes), ...d.flush()].find((ev) => ev.type === 'pes' && ev.codec === 'h264');
    expect(firstVideo?.type === 'pes' && splitAnnexB(firstVideo.data).some((n) => (n[0] & 0x1f) === 5)).toBe(true);
  }
  const p = await probe(join(dir, 'movie.m3u8'));
  expect(p.video).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '100' });
  expect(p.audio).toMatchObject({ codec_name: 'aac', nb_read_frames: '174' });
  expect(pl.segments.reduce((a, s) => a + s.duration, 0)).toBeCloseTo(3.96, 2);
}, 30_000);

test('lal remux of a TS made by ffmpeg → FLV', async () => {
  const ts = join(tmp, 'ffmpeg.ts');
  const ff = await run([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-y', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'mpegts', ts], 30_000);
  expect(ff.code).toBe(0);
  const out = join(tmp, 'from-ffmpeg.flv');
  const r = await lal('-i', ts, '-o', out);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('100 video / 174 audio frames');
  expectSameMedia(await probe(fixturePath('h264-aac.flv')), await probe(out));
  expectDurationsWithinAFrame(await durations(fixturePath('h264-aac.flv')), await durations(out));
  // ffmpeg's TS starts at 1.4 s; the FLV starts at 0 with the tracks still aligned
  const tags = new FlvReader().feed(readFileSync(out)).filter((t) => t.type === 8 || t.type === 9);
  expect(Math.min(...tags.map((t) => t.timestamp))).toBe(0);
  expect(Math.max(...tags.map((t) => t.timestamp))).toBeLessThan(4100);
}, 30_000);

test('lal remux rtmp:// → live HLS: fragments appear while it runs; SIGINT or the read timeout ends it', async () => {
  await using srv = await startTestServer();
  const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/rmx`;
  const dir = join(tmp, 'live');
  // the CLI, stopped by SIGINT, and the library, ended by its read timeout, play the same stream
  const cli = spawnTracked([...lalRemux, '-i', url, '-o', join(dir, 'live.m3u8'), '-d', '1000', '-n', '3'], { cwd: tmp });
  const lib = background((signal) => remux({ input: url, output: join(tmp, 'live2', 'x.m3u8'), fragmentMs: 1000, readTimeoutMs: 1500, signal }), 'the library remux');
  await waitFor(() => srv.control.statGroup('rmx')?.subs?.length === 2, 10_000, 'two players');
  const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', url]);
  // while live: a sliding playlist without ENDLIST
  const live = await waitFor(() => {
    const p = join(dir, 'live.m3u8');
    if (!existsSync(p)) return false;
    const pl = parseMediaPlaylist(readFileSync(p, 'utf8'));
    return pl.segments.length >= 2 && pl;
  }, 10_000, 'two live fragments');
  expect(live.endList).toBe(false);
  expect(await pub.exited).toBe(0);
  await Bun.sleep(300);
  cli.kill('SIGINT');
  const [code, stdout] = await Promise.all([cli.exited, new Response(cli.stdout).text()]);
  expect(code).toBe(0);
  expect(stdout.trim()).toMatch(SUMMARY);
  expect(stdout).toContain('100 video / 174 audio frames');
  const ended = parseMediaPlaylist(readFileSync(join(dir, 'live.m3u8'), 'utf8'));
  expect(ended.endList).toBe(true);
  expect(ended.segments.length).toBe(3); // -n 3
  const record = parseMediaPlaylist(readFileSync(join(dir, 'live-record.m3u8'), 'utf8'));
  expect(record.segments.length).toBe(4);
  expect(readdirSync(dir).sort()).toEqual([...record.segments.map((s) => s.uri), 'live-record.m3u8', 'live.m3u8'].sort());
  const p = await probe(join(dir, 'live-record.m3u8'));
  expect(p.video).toMatchObject({ codec_name: 'h264', nb_read_frames: '100' });
  expect(p.audio).toMatchObject({ codec_name: 'aac', nb_read_frames: '174' });

  const s = await lib;
  expect(s.stopped).toBe(false);
  expect([s.videoFrames, s.audioFrames, s.segments.length]).toEqual([100, 174, 4]);
}, 40_000);

test('on a terminal a live run draws a progress line; SIGINT ends it with the summary', async () => {
  // `script` (util-linux) gives the command a pseudo-terminal; its output is what the terminal shows.
  const scriptBin = Bun.which('script');
  if (!scriptBin) throw new Error('this test needs `script` from util-linux (apt-get install util-linux) for a pseudo-terminal');
  await using srv = await startTestServer();
  const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/tty`;
  const cmd = [...lalRemux, '-i', url, '-o', join(tmp, 'tty', 'tty.m3u8')].map((a) => `'${a}'`).join(' ');
  const term = spawnTracked([scriptBin, '-qefc', `exec ${cmd}`, '/dev/null'], { cwd: tmp });
  await waitFor(() => srv.control.statGroup('tty')?.subs?.length === 1, 10_000, 'the remux player');
  const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', url]);
  expect(await pub.exited).toBe(0);
  // the command itself is script's child (exec): SIGINT to it, as Ctrl-C would
  const child = Number(readFileSync(`/proc/${term.pid}/task/${term.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  expect(child).toBeGreaterThan(0);
  process.kill(child, 'SIGINT');
  const [code, out] = await Promise.all([term.exited, new Response(term.stdout).text()]);
  expect(code).toBe(0);
  const lines = out.split(/\r\n|\r|\n/);
  const progress = lines.filter((l) => /^remux: [\d.]+ MB, \d+ video \/ \d+ audio frames, [\d.]+ s \(Ctrl-C to stop\)\x1b\[K$/.test(l));
  expect(progress.length).toBeGreaterThan(3); // every 250 ms of a ~4 s stream
  expect(out).toContain('\r\x1b[K'); // the bar is erased before the summary
  // the erase sequence and the summary share a line; the summary is what is left on it
  expect(lines.map((l) => l.replace(/\x1b\[K/g, '')).find((l) => l.startsWith('remux: ') && l.includes(' → '))).toMatch(SUMMARY);
  expect(out).toContain('100 video / 174 audio frames');
}, 40_000);

describe('lal remux bad inputs: one clear line, exit 1, nothing left behind', () => {
  const bad = join(tmp, 'bad-inputs');
  mkdirSync(bad, { recursive: true });
  writeFileSync(join(bad, 'text.flv'), 'this is not a video file, just some text\n');
  writeFileSync(join(bad, 'text.ts'), 'this is not a video file, just some text\n');
  writeFileSync(join(bad, 'cut.flv'), readFileSync(fixturePath('h264-aac.flv')).subarray(0, 120_000));
  writeFileSync(join(bad, 'movie.mp4'), 'x');
  test.each([
    ['missing file', 'missing.flv', 'o.ts', /cannot read missing\.flv: no such file/],
    ['a text file named .flv', 'text.flv', 'o.ts', /text\.flv is not an FLV file \(flv: bad signature/],
    ['a text file named .ts', 'text.ts', 'o.flv', /text\.ts is not an MPEG-TS file/],
    ['a truncated FLV', 'cut.flv', 'o.ts', /cut\.flv is truncated: its last tag is incomplete/],
    ['a truncated FLV to HLS', 'cut.flv', 'hls/o.m3u8', /cut\.flv is truncated/],
    ['an unknown input extension', 'movie.mp4', 'o.ts', /unknown input format "movie\.mp4"/],
    ['an unknown output extension', 'cut.flv', 'o.mkv', /unknown output format "o\.mkv"/],
    ['an RTMP server that is not there', 'rtmp://127.0.0.1:1/live/x', 'o.ts', /cannot connect to 127\.0\.0\.1:1/],
  ])('%s', async (_what, input, output, message) => {
    const before = readdirSync(bad).sort();
    const r = await run([...lalRemux, '-i', input, '-o', output], 30_000, { cwd: bad });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => l.trim() !== '').length).toBe(1);
    expect(readdirSync(bad).sort()).toEqual(before);
  }, 30_000);
});
