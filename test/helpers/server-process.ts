/**
 * The server as a child process (`bun bin/lal.ts serve -c <tmp conf>`), for tests that measure
 * what an attack costs the server itself: its RSS and open file descriptors come from
 * /proc/<pid>, untouched by the test process's own buffers. Listeners are on 127.0.0.1:0; the
 * bound ports are read from the log. Stopped by PID (SIGTERM, then SIGKILL).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { collect, spawnTracked, stop, waitFor } from './proc.ts';

export interface ServerProcess {
  readonly pid: number;
  /** The server's working directory (a temp dir holding its config; relative paths land here). */
  readonly dir: string;
  readonly ports: { rtmp?: number; rtmps?: number; http?: number; https?: number; rtsp?: number; rtsps?: number; wsRtsp?: number; api?: number };
  /** Everything the server logged so far (stdout and stderr). */
  log(): string;
  /** Resident set size in bytes (VmRSS). */
  rss(): number;
  /** Open file descriptors. */
  fds(): number;
  /** CPU seconds (user + system) used so far (/proc/<pid>/stat, 100 ticks a second). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

type Section = Record<string, unknown>;

/** A LAL config with every listener on 127.0.0.1:0, logging at info to stdout; `patch` merges per section. */
export function serverConf(patch: Record<string, Section> = {}): Record<string, Section | string> {
  const base: Record<string, Section> = {
    rtmp: { enable: true, addr: '127.0.0.1:0', rtmps_enable: false, gop_num: 1 },
    default_http: { http_listen_addr: '127.0.0.1:0' },
    httpflv: { enable: true, enable_https: false, url_pattern: '/', gop_num: 1 },
    httpts: { enable: false, enable_https: false, url_pattern: '/' },
    hls: { enable: false, enable_https: false, url_pattern: '/hls/' },
    rtsp: { enable: false, rtsps_enable: false, ws_rtsp_enable: false },
    http_api: { enable: true, addr: '127.0.0.1:0' },
    pprof: { enable: false },
    log: { level: 2, filename: '', is_to_stdout: true },
  };
  for (const [k, v] of Object.entries(patch)) base[k] = { ...base[k], ...v };
  return { conf_version: 'v0.4.1', server_id: 'test', ...base };
}

function procStatus(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
  return Number(m[1]) * 1024;
}

/**
 * Start `lal serve` on `serverConf(patch)`. `lifetime` as test/helpers/proc.ts understands it
 * (`file` for a server a beforeAll starts for every test of the file; a proc.ts without the
 * option ignores it).
 */
export async function startServerProcess(patch: Record<string, Section> = {}, lifetime?: 'test' | 'file'): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lal-proc-'));
  const conf = join(dir, 'lal.conf.json');
  writeFileSync(conf, JSON.stringify(serverConf(patch), null, 2));
  const root = new URL('../../', import.meta.url).pathname;
  const p: Subprocess = spawnTracked([process.execPath, join(root, 'bin/lal.ts'), 'serve', '-c', conf], { cwd: dir, lifetime });
  const out = collect(p.stdout as ReadableStream<Uint8Array>);
  const err = collect(p.stderr as ReadableStream<Uint8Array>);
  const log = () => out.text() + err.text();
  const port = (re: RegExp) => {
    const m = re.exec(log());
    return m ? Number(m[1]) : undefined;
  };
  try {
    await waitFor(() => {
      if (p.exitCode !== null) throw new Error(`server exited ${p.exitCode}: ${log()}`);
      return log().includes('server started');
    }, 20_000, 'server process started');
  } catch (e) {
    stop(p);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const ports = {
    rtmp: port(/rtmp listening on [^\s]+:(\d+)/),
    rtmps: port(/rtmps listening on [^\s]+:(\d+)/),
    http: port(/http \([^)]*\) listening on [^\s]+:(\d+)/),
    https: port(/https listening on [^\s]+:(\d+)/),
    rtsp: port(/rtsp listening on [^\s]+:(\d+)/),
    rtsps: port(/rtsps listening on [^\s]+:(\d+)/),
    wsRtsp: port(/ws-rtsp listening on [^\s]+:(\d+)/),
    api: port(/http api listening on [^\s]+:(\d+)/),
  };
  return {
    pid: p.pid,
    dir,
    ports,
    log,
    rss: () => procStatus(p.pid, 'VmRSS'),
    fds: () => readdirSync(`/proc/${p.pid}/fd`).length,
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15: utime, stime
    },
    async stop() {
      stop(p);
      await p.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
