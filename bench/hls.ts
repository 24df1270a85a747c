#!/usr/bin/env bun
/**
 * HLS benchmark (issue #3 target): N published streams at ~1 Mbit/s each with HLS on (disk,
 * cleanup mode 2), server CPU (utime+stime from /proc) and RSS over a steady window.
 *   bun bench/hls.ts [--n 100] [--duration 20] [--kbps 1000]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../test/helpers/ffmpeg.ts';
import { collect, spawnTracked, stopAll, waitFor } from '../test/helpers/proc.ts';
import { freePort, procCpuSec, procRssMb } from './_proc.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100' }, duration: { type: 'string', default: '20' }, kbps: { type: 'string', default: '1000' } } });
const n = Number(values.n);
const duration = Number(values.duration);
const kbps = Number(values.kbps);
const root = new URL('..', import.meta.url).pathname;
const bun = process.execPath;
const tmp = mkdtempSync(join(tmpdir(), 'lal-hlsbench-'));


const media = join(tmp, 'in.flv');
const mk = Bun.spawnSync([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '10',
  '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-b:v', `${kbps - 64}k`, '-maxrate', `${kbps - 64}k`, '-bufsize', `${kbps}k`, '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', media]);
if (mk.exitCode !== 0) throw new Error(mk.stderr.toString());

const [rtmpPort, httpPort, apiPort] = [await freePort(), await freePort(), await freePort()];
const conf = JSON.parse(readFileSync(join(root, 'conf/lalserver.conf.json'), 'utf8'));
Object.assign(conf.rtmp, { addr: `127.0.0.1:${rtmpPort}`, rtmps_enable: false });
conf.default_http.http_listen_addr = `127.0.0.1:${httpPort}`;
for (const k of ['httpflv', 'httpts', 'hls']) conf[k].enable_https = false;
Object.assign(conf.hls, { enable: true, out_path: join(tmp, 'hls'), cleanup_mode: 2 });
Object.assign(conf.rtsp, { enable: false, rtsps_enable: false, ws_rtsp_enable: false });
conf.http_api.addr = `127.0.0.1:${apiPort}`;
conf.pprof.enable = false;
Object.assign(conf.log, { level: 2, filename: '' });
writeFileSync(join(tmp, 'c.json'), JSON.stringify(conf));

const server = spawnTracked([bun, join(root, 'bin/lal.ts'), 'serve', '-c', join(tmp, 'c.json')], { cwd: tmp });
const out = collect(server.stdout);
await waitFor(() => out.text().includes('server started'), 10_000, 'server start');
const farm = spawnTracked([bun, join(root, 'bench/_publish-many.ts'), media, `rtmp://127.0.0.1:${rtmpPort}/live/s`, String(n), String(duration + 10)]);
await waitFor(async () => {
  const r = (await fetch(`http://127.0.0.1:${apiPort}/api/stat/all_group`).then((x) => x.json())) as { data: { groups: unknown[] | null } };
  return (r.data.groups?.length ?? 0) >= n;
}, 20_000, `${n} publishers`);
await Bun.sleep(4000);
const c0 = procCpuSec(server.pid);
const t0 = performance.now();
let rss = 0;
const timer = setInterval(() => (rss = Math.max(rss, procRssMb(server.pid))), 500);
await Bun.sleep(duration * 1000);
clearInterval(timer);
const cpu = ((procCpuSec(server.pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
const dirs = readdirSync(join(tmp, 'hls'));
const frags = dirs.reduce((a, d) => a + readdirSync(join(tmp, 'hls', d)).filter((f) => f.endsWith('.ts')).length, 0);
await stopAll();
rmSync(tmp, { recursive: true, force: true });
console.log(`\nHLS: ${n} streams × ${kbps} kbit/s for ${duration} s: server CPU ${cpu.toFixed(1)}% of one core, peak RSS ${rss.toFixed(0)} MB, ${dirs.length} HLS directories, ${frags} fragments on disk`);
