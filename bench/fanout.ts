#!/usr/bin/env bun
/**
 * Fan-out benchmark (issue #2 targets): starts `lal serve`, publishes a 2 Mbit/s stream with
 * ffmpeg, runs `lal bench` with N = 100, 500, 1000 RTMP and HTTP-FLV players (20 s each), reads
 * the server's CPU (utime+stime) and RSS from /proc, and prints a table.
 *
 *   bun bench/fanout.ts [--n 100,500,1000] [--duration 20] [--proto rtmp,flv]
 * Loopback only; every child is stopped by PID at the end.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../test/helpers/ffmpeg.ts';
import { spawnTracked, stopAll, waitFor } from '../test/helpers/proc.ts';
import { makeBenchMedia, procCpuSec, procRssMb, startBenchServer } from './_proc.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100,500,1000' },
    duration: { type: 'string', default: '20' },
    proto: { type: 'string', default: 'rtmp,flv' },
    kbps: { type: 'string', default: '2000' },
  },
});
const counts = values.n!.split(',').map(Number);
const protos = values.proto!.split(',');
const duration = Number(values.duration);
const kbps = Number(values.kbps);
const bun = process.execPath;
const srv = await startBenchServer({ tag: 'fanout' });
const { tmp, rtmpPort, httpPort, apiPort } = srv;
const server = { pid: srv.pid };
// A 2 Mbit/s 30 s stream, looped while publishing.
const media = join(tmp, 'bench.flv');
await makeBenchMedia(media, { kbps, seconds: 30 });
const pub = spawnTracked([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/bench`]);
await waitFor(async () => {
  const r = await fetch(`http://127.0.0.1:${apiPort}/api/stat/group?stream_name=bench`).then((x) => x.json()) as { error_code: number };
  return r.error_code === 0;
}, 10_000, 'publisher');
await Bun.sleep(3000);

async function pubBytes(): Promise<number> {
  const r = (await fetch(`http://127.0.0.1:${apiPort}/api/stat/group?stream_name=bench`).then((x) => x.json())) as { data?: { pub: { read_bytes_sum: number } } };
  return r.data?.pub.read_bytes_sum ?? 0;
}

interface Row { proto: string; n: number; failed: number; slow: number; pubMbps: number; minPct: number; aggMbps: number; cpuPct: number; cpuPerGbit: number; rssMb: number; ffMed: number; ffP95: number }
const rows: Row[] = [];
try {
  for (const proto of protos) {
    for (const n of counts) {
      const url = proto === 'rtmp' ? `rtmp://127.0.0.1:${rtmpPort}/live/bench` : `http://127.0.0.1:${httpPort}/live/bench.flv`;
      const b = spawnTracked([bun, new URL('../bin/lal.ts', import.meta.url).pathname, 'bench', '-i', url, '-n', String(n), '--duration', String(duration), '--ramp', '500', '--json']);
      // Server CPU is read over the hold window only (all players connected and playing).
      let cpu0 = 0;
      let pub0 = 0;
      let pubRate = 0;
      let t0 = 0;
      let cpu = 0;
      let wall = 1;
      let rss = 0;
      const rssTimer = setInterval(() => (rss = Math.max(rss, procRssMb(server.pid))), 500);
      let out = '';
      const dec = new TextDecoder();
      for await (const chunk of b.stdout) {
        out += dec.decode(chunk, { stream: true });
        if (!t0 && out.includes('hold: start')) {
          cpu0 = procCpuSec(server.pid);
          t0 = performance.now();
          pub0 = await pubBytes();
        }
        if (t0 && !cpu && out.includes('hold: end')) {
          cpu = procCpuSec(server.pid) - cpu0;
          wall = (performance.now() - t0) / 1000;
          pubRate = ((await pubBytes()) - pub0) * 8 / wall;
        }
      }
      await b.exited;
      clearInterval(rssTimer);
      const line = out.trim().split('\n').pop() ?? '{}';
      const r = JSON.parse(line) as { failed: number; slowPlayers: number; aggregateBitsPerSec: number; minPlayerBitsPerSec: number; firstFrameMs: { median: number; p95: number } };
      const gbit = r.aggregateBitsPerSec / 1e9;
      const cpuPct = (cpu / wall) * 100;
      rows.push({ proto, n, failed: r.failed, slow: r.slowPlayers, pubMbps: pubRate / 1e6, minPct: pubRate > 0 ? (100 * r.minPlayerBitsPerSec) / pubRate : 0, aggMbps: r.aggregateBitsPerSec / 1e6, cpuPct, cpuPerGbit: gbit > 0 ? cpuPct / gbit : 0, rssMb: rss, ffMed: r.firstFrameMs.median, ffP95: r.firstFrameMs.p95 });
      console.error(`done ${proto} n=${n}`);
      await Bun.sleep(2000);
    }
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`\nfan-out, ${kbps} kbit/s stream, ${duration} s hold; server CPU measured over the hold (all players playing)`);
console.log('| proto | players | failed | publisher Mbit/s | slowest player, % of publisher | delivered Mbit/s | server CPU % of a core | CPU % per Gbit/s | peak RSS MB | first frame median / p95 ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.proto} | ${r.n} | ${r.failed} | ${r.pubMbps.toFixed(2)} | ${r.minPct.toFixed(1)} | ${r.aggMbps.toFixed(0)} | ${r.cpuPct.toFixed(1)} | ${r.cpuPerGbit.toFixed(1)} | ${r.rssMb.toFixed(0)} | ${r.ffMed.toFixed(1)} / ${r.ffP95.toFixed(1)} |`);
}
