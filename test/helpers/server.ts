/**
 * Start an in-process server on free loopback ports; `await using` releases it, and so does the
 * end of the test in any case (a timed-out test never reaches its `await using` disposal).
 */
import { parseConfig, type LalConfig } from '../../lib/server/config.ts';
import { startServer, type RunningServer } from '../../lib/server/server.ts';
import { createConsola, type ConsolaInstance } from 'consola';
import { consolaLevelFromLal } from '../../lib/core/log.ts';
import type { OutputLimits } from '../../lib/server/context.ts';
import { atTestEnd } from './proc.ts';

export type Patch = { [K in keyof LalConfig]?: Partial<LalConfig[K]> };

/** A config with every listener on 127.0.0.1:0 and TLS/pprof off; `patch` overrides sections. */
export function testConfig(patch: Patch = {}): LalConfig {
  const base: Record<string, unknown> = {
    conf_version: 'v0.4.1',
    server_id: 'test',
    rtmp: { enable: true, addr: '127.0.0.1:0', rtmps_enable: false, gop_num: 1 },
    default_http: { http_listen_addr: '127.0.0.1:0' },
    httpflv: { enable: true, enable_https: false, url_pattern: '/', gop_num: 1 },
    httpts: { enable: true, enable_https: false, url_pattern: '/', gop_num: 1 },
    hls: { enable: false, enable_https: false, url_pattern: '/hls/', fragment_duration_ms: 3000, fragment_num: 6 },
    rtsp: { enable: false, rtsps_enable: false, ws_rtsp_enable: false },
    http_api: { enable: true, addr: '127.0.0.1:0' },
    pprof: { enable: false },
    log: { level: 3, filename: '', is_to_stdout: false },
  };
  for (const [k, v] of Object.entries(patch)) base[k] = { ...(base[k] as object), ...(v as object) };
  return parseConfig(JSON.stringify(base)).config;
}

/** A consola root at a LAL `log.level` (printing to stdout/stderr), as `lal serve` makes one. */
export function createLogger(opts: { lalLevel?: number; tag?: string } = {}): ConsolaInstance {
  const c = createConsola({ level: consolaLevelFromLal(opts.lalLevel ?? 2) });
  return opts.tag ? c.withTag(opts.tag) : c;
}

export async function startTestServer(patch: Patch = {}, logLevel = Number(process.env.LAL_TEST_LOG ?? 7), limits?: OutputLimits): Promise<RunningServer & AsyncDisposable> {
  const srv = await startServer(testConfig(patch), { log: createLogger({ lalLevel: logLevel }), limits });
  const s = Object.assign(srv, { [Symbol.asyncDispose]: () => srv.close() });
  // looked up when the test ends: a caller that wraps the disposal (more listeners) is honoured
  atTestEnd(() => s[Symbol.asyncDispose]());
  return s;
}
