/** Shared by the benchmarks: free loopback ports, a process's CPU seconds and RSS from /proc. */
import { readFileSync } from 'node:fs';

/** Linux USER_HZ: /proc/PID/stat times are in these ticks. */
const CLK_TCK = 100;

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

/** utime + stime of a process, in seconds. */
export function procCpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

export function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A loopback `lal serve` for a benchmark: LAL's shipped config with every port on 127.0.0.1. */
export interface BenchServer {
  tmp: string;
  rtmpPort: number;
  httpPort: number;
  apiPort: number;
  rtspPort: number;
  pid: number;
}

export async function startBenchServer(opts: { rtsp?: boolean; hlsOutPath?: string; tag: string }): Promise<BenchServer> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnTracked, collect, waitFor } = await import('../test/helpers/proc.ts');
  const root = new URL('..', import.meta.url).pathname;
  const tmp = mkdtempSync(join(tmpdir(), `lal-bench-${opts.tag}-`));
  const [rtmpPort, httpPort, apiPort, rtspPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = JSON.parse(readFileSync(join(root, 'conf/lalserver.conf.json'), 'utf8'));
  Object.assign(conf.rtmp, { addr: `127.0.0.1:${rtmpPort}`, rtmps_enable: false, gop_num: 1 });
  conf.default_http.http_listen_addr = `127.0.0.1:${httpPort}`;
  for (const k of ['httpflv', 'httpts', 'hls']) conf[k].enable_https = false;
  Object.assign(conf.hls, opts.hlsOutPath ? { enable: true, out_path: opts.hlsOutPath, cleanup_mode: 2 } : { enable: false });
  Object.assign(conf.rtsp, { enable: !!opts.rtsp, addr: `127.0.0.1:${rtspPort}`, rtsps_enable: false, ws_rtsp_enable: false, out_wait_key_frame_flag: true, auth_enable: false });
  conf.http_api.addr = `127.0.0.1:${apiPort}`;
  conf.pprof.enable = false;
  Object.assign(conf.log, { level: 2, filename: '', is_to_stdout: true });
  const confFile = join(tmp, 'bench.conf.json');
  writeFileSync(confFile, JSON.stringify(conf));
  const server = spawnTracked([process.execPath, join(root, 'bin/lal.ts'), 'serve', '-c', confFile], { cwd: tmp });
  const out = collect(server.stdout);
  await waitFor(() => out.text().includes('server started'), 15_000, 'server start');
  return { tmp, rtmpPort, httpPort, apiPort, rtspPort, pid: server.pid };
}

/** A CBR-ish test stream (not committed: made per run): testsrc2 + sine, H.264 + AAC in FLV. */
export async function makeBenchMedia(file: string, opts: { kbps: number; seconds: number; size?: string; gop?: number }): Promise<void> {
  const { ffmpegPath } = await import('../test/helpers/ffmpeg.ts');
  const v = opts.kbps - 128;
  const mk = Bun.spawnSync([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '1280x720'}:rate=25`, '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', String(opts.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', String(opts.gop ?? 50), '-b:v', `${v}k`, '-maxrate', `${v}k`, '-bufsize', `${opts.kbps}k`, '-x264-params', 'nal-hrd=cbr', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file]);
  if (mk.exitCode !== 0) throw new Error(`bench: making the test stream failed: ${mk.stderr}`);
}
