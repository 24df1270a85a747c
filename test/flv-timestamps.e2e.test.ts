/**
 * One 90 kHz → FLV millisecond conversion (`ticksToFlvMs`): the same MPEG-TS source gives the
 * same FLV tag timestamps through `lal remux` (the TS file converted to FLV) and through
 * `lal serve` (the same stream published over RTSP, played back as HTTP-FLV).
 *
 * How the two sources are made identical: one ffmpeg run encodes once and hands the same
 * packets to two muxers (`-f tee`): an MPEG-TS file, which `lal remux` then reads, and an RTSP
 * publish to the in-process server. (Sending a TS file with `-c copy` would not do: ffmpeg 4
 * announces AAC from ADTS without its config, so the server could not depacketise the audio.)
 * - H.264 at 30000/1001 fps: a frame lasts 3003 ticks = 33.37 ms, so rounding and flooring
 *   differ on every third frame; AAC at 48 kHz: 1920 ticks = 21.33 ms per frame, likewise.
 * - Video RTP timestamps are the 90 kHz PTS (plus a random base); audio ones are the PTS at
 *   48 kHz, converted back exactly because every audio PTS is a multiple of 15 ticks. The server
 *   zero-bases each track of an RTSP input (docs/media.md §6.2) and gets the TS's tick offsets.
 * - The audio is delayed by the AAC encoder's priming (1024 samples) so both tracks start at
 *   the same PTS: then the server's per-track zero-basing and remux's common base (the earliest
 *   packet) agree.
 * - No B-frames: over RTSP the RTP timestamp (the PTS) becomes the DTS (docs/media.md §6.3).
 * The test checks these premises on the file before it compares.
 *
 * Compared: the timestamp of every tag relative to the first video frame of the same output, tag
 * by tag for the frames both have (the player may join after the first audio frame; audio tags
 * are paired by their bytes, which both paths take unchanged from the same AAC frames).
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesEqual } from '../lib/core/bytes.ts';
import { FlvReader, isFlvSequenceHeader, type FlvTag } from '../lib/format/flv/index.ts';
import { TsDemuxer, TsPesToAv } from '../lib/format/mpegts/demuxer.ts';
import { startRtspListeners } from '../lib/server/sessions/rtsp.ts';
import { ffmpegPath } from './helpers/ffmpeg.ts';
import { run, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { httpFlvClient } from './flv-tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-flv-ts-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});
const quiet = ['-hide_banner', '-loglevel', 'error'];
const lal = [process.execPath, join(import.meta.dir, '../bin/lal.ts')];

/** Audio/video frame tags (sequence headers and metadata aside). */
function frames(tags: FlvTag[]): FlvTag[] {
  return tags.filter((t) => (t.type === 8 || t.type === 9) && !isFlvSequenceHeader(t.type, t.body));
}

/** The TS source's DTS per track (90 kHz), through lal's own demuxer. */
function sourceDts(file: string): { video: number[]; audio: number[] } {
  const d = new TsDemuxer();
  const c = new TsPesToAv();
  const out = { video: [] as number[], audio: [] as number[] };
  for (const ev of [...d.feed(readFileSync(file)), ...d.flush()]) if (ev.type === 'pes') for (const p of c.push(ev).packets) out[p.kind].push(p.dts);
  return out;
}

test('the same TS source gives the same FLV timestamps through lal remux and through lal serve (RTSP in, HTTP-FLV out)', async () => {
  await using srv = await startTestServer({ rtsp: { enable: true, addr: '127.0.0.1:0', rtsps_enable: false, ws_rtsp_enable: false } });
  const rtsp = await startRtspListeners(srv.ctx);
  try {
    // lal serve: an HTTP-FLV player attached before the publisher
    const player = httpFlvClient(`http://127.0.0.1:${srv.ports.http}/live/same.flv`);
    await waitFor(() => (srv.control.statGroup('same')?.subs?.length ?? 0) === 1, 10_000, 'the HTTP-FLV player');
    // one encode, the same packets to the TS file and to the server over RTSP
    const src = join(tmp, 'src.ts');
    const pub = await run(
      [
        ffmpegPath(), ...quiet, '-y', '-re',
        '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30000/1001',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-t', '3', '-af', 'asetpts=PTS+1024', '-map', '0:v', '-map', '1:a',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '30', '-pix_fmt', 'yuv420p',
        '-c:a', 'aac', '-ar', '48000', '-b:a', '64k', '-flags', '+global_header',
        '-f', 'tee', `[f=mpegts]${src}|[f=rtsp:rtsp_transport=tcp]rtsp://127.0.0.1:${rtsp.ports.rtsp}/live/same`,
      ],
      60_000,
    );
    expect(pub.code).toBe(0);
    await waitFor(() => !srv.control.statGroup('same')?.pub?.session_id, 5_000, 'input ended');
    await Bun.sleep(200);
    player.close();
    await player.done;
    const served = frames(player.tags);

    // The premises above, checked on the file itself.
    const dts = sourceDts(src);
    expect(dts.video.length).toBeGreaterThan(80);
    expect(dts.audio.length).toBeGreaterThan(120);
    expect(dts.audio[0]).toBe(dts.video[0]);
    for (const t of dts.audio) expect(t % 15).toBe(0);
    for (let i = 1; i < dts.video.length; i++) expect(dts.video[i] - dts.video[i - 1]).toBe(3003);
    // …and they make rounding and flooring differ (a remainder of half a millisecond or more).
    expect(dts.video.some((t) => (t - dts.video[0]) % 90 >= 45)).toBe(true);

    // lal remux: the file
    const out = join(tmp, 'remux.flv');
    const r = await run([...lal, 'remux', '-i', src, '-o', out], 30_000);
    expect(r.code).toBe(0);
    const remuxed = frames(new FlvReader().feed(readFileSync(out)));

    // video: the first frame of both is the first (key) frame of the source
    const rv = remuxed.filter((t) => t.type === 9);
    const sv = served.filter((t) => t.type === 9);
    expect(rv.length).toBe(dts.video.length);
    expect(sv.length).toBeGreaterThan(dts.video.length - 5); // the last frames may still be queued at the end
    const rel = (tags: FlvTag[], t: FlvTag) => t.timestamp - tags.find((x) => x.type === 9)!.timestamp;
    expect(sv.map((t) => rel(served, t))).toEqual(rv.slice(0, sv.length).map((t) => rel(remuxed, t)));

    // audio: paired by bytes from the player's first audio frame on
    const ra = remuxed.filter((t) => t.type === 8);
    const sa = served.filter((t) => t.type === 8);
    expect(sa.length).toBeGreaterThan(dts.audio.length - 10);
    const k = ra.findIndex((t) => bytesEqual(t.body, sa[0].body));
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThan(3);
    const n = Math.min(sa.length, ra.length - k);
    for (let i = 0; i < n; i++) expect(bytesEqual(sa[i].body, ra[k + i].body)).toBe(true);
    expect(sa.slice(0, n).map((t) => rel(served, t))).toEqual(ra.slice(k, k + n).map((t) => rel(remuxed, t)));
  } finally {
    rtsp.stop();
  }
}, 60_000);
