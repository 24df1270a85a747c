#!/usr/bin/env bun
/**
 * RTSP fan-out benchmark: a lal server (in its own process, RTSP listeners started with
 * `startRtspListeners`), one 2 Mbit/s stream published by ffmpeg over RTMP (RTMP → RTP remux,
 * packetised once) or RTSP (raw RTP forwarding), and N RTSP/TCP players from
 * lib/client/bench-rtsp.ts in this process. Reads the server's CPU (utime+stime) over the hold
 * window and its peak RSS from /proc, and prints a table.
 *
 *   bun bench/rtsp.ts [--n 100,500] [--duration 20] [--source rtmp,rtsp] [--kbps 2000] [--ramp 500]
 * Loopback only; every child is stopped by PID at the end.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../test/helpers/ffmpeg.ts';
import { spawnTracked, stopAll, waitFor } from '../test/helpers/proc.ts';
import { startRtspPlayer, type RtspBenchPlayer } from '../lib/client/bench-rtsp.ts';
import { makeBenchMedia, percentile, procCpuSec, procRssMb, startBenchServer } from './_proc.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100,500' },
    duration: { type: 'string', default: '20' },
    source: { type: 'string', default: 'rtmp,rtsp' },
    kbps: { type: 'string', default: '2000' },
    ramp: { type: 'string', default: '500' },
  },
});

const counts = values.n!.split(',').map(Number);
const sources = values.source!.split(',');
const duration = Number(values.duration);
const kbps = Number(values.kbps);
const rampPerSec = Number(values.ramp);
const srv = await startBenchServer({ tag: 'rtsp', rtsp: true });
const { tmp, rtmpPort, apiPort, rtspPort } = srv;
const server = { pid: srv.pid };
// A 2 Mbit/s 30 s 720p stream, looped while publishing.
const media = join(tmp, 'bench.flv');
await makeBenchMedia(media, { kbps, seconds: 30 });

interface Row { source: string; n: number; failed: number; slow: number; aggMbps: number; cpuPct: number; cpuPerGbit: number; rssMb: number; ffMed: number; ffP95: number }
const rows: Row[] = [];
try {
  for (const source of sources) {
    const name = `bench_${source}`;
    const pub = source === 'rtsp'
      ? spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${rtspPort}/live/${name}`])
      : spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/${name}`]);
    await waitFor(async () => {
      const r = (await fetch(`http://127.0.0.1:${apiPort}/api/stat/group?stream_name=${name}`).then((x) => x.json())) as { error_code: number; data?: { video_codec: string } };
      return r.error_code === 0 && r.data?.video_codec === 'H264';
    }, 15_000, 'publisher');
    await Bun.sleep(2000);
    for (const n of counts) {
      const url = `rtsp://127.0.0.1:${rtspPort}/live/${name}`;
      const players: { p?: RtspBenchPlayer; startedAt: number; firstAt: number; bytes: number; w0: number; error?: string }[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const due = t0 + (i * 1000) / rampPerSec;
        const wait = due - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        const pl = { startedAt: performance.now(), firstAt: 0, bytes: 0, w0: 0 } as (typeof players)[number];
        players.push(pl);
        startRtspPlayer(url, () => (pl.firstAt = performance.now()), (k) => (pl.bytes += k)).then(
          (p) => (pl.p = p),
          (e) => (pl.error = String(e)),
        );
      }
      const settle = performance.now() + 8000;
      while (performance.now() < settle && players.some((p) => !p.firstAt && !p.error && !p.p?.error)) await Bun.sleep(50);
      for (const p of players) p.w0 = p.bytes;
      let rss = 0;
      const rssTimer = setInterval(() => (rss = Math.max(rss, procRssMb(server.pid))), 500);
      const cpu0 = procCpuSec(server.pid);
      const w0 = performance.now();
      await Bun.sleep(duration * 1000);
      const cpu = procCpuSec(server.pid) - cpu0;
      const wall = (performance.now() - w0) / 1000;
      clearInterval(rssTimer);
      const rates = players.map((p) => ((p.bytes - p.w0) * 8) / wall);
      const agg = rates.reduce((a, b) => a + b, 0);
      const ref = percentile([...rates].sort((a, b) => a - b), 90);
      const ff = players.filter((p) => p.firstAt).map((p) => p.firstAt - p.startedAt).sort((a, b) => a - b);
      const failed = players.filter((p) => p.error || p.p?.error || !p.firstAt).length;
      for (const p of players) p.p?.close();
      const cpuPct = (cpu / wall) * 100;
      rows.push({ source, n, failed, slow: rates.filter((r) => r < 0.95 * ref).length, aggMbps: agg / 1e6, cpuPct, cpuPerGbit: agg > 0 ? cpuPct / (agg / 1e9) : 0, rssMb: rss, ffMed: percentile(ff, 50), ffP95: percentile(ff, 95) });
      console.error(`done ${source} n=${n}`);
      await Bun.sleep(2000);
    }
    pub.kill('SIGTERM');
    await pub.exited;
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`\nRTSP/TCP fan-out, ${kbps} kbit/s stream, ${duration} s hold; server CPU measured over the hold (all players playing)`);
console.log('| source | players | failed | <95% | delivered Mbit/s | server CPU % of a core | CPU % per Gbit/s | peak RSS MB | first frame median / p95 ms |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.source} | ${r.n} | ${r.failed} | ${r.slow} | ${r.aggMbps.toFixed(0)} | ${r.cpuPct.toFixed(1)} | ${r.cpuPerGbit.toFixed(1)} | ${r.rssMb.toFixed(0)} | ${r.ffMed.toFixed(1)} / ${r.ffP95.toFixed(1)} |`);
}
