/** `lal` as a user runs it: help, config errors, port in use, signals, log file. */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, run, spawnTracked, stopAll, waitFor } from './helpers/proc.ts';

const root = join(import.meta.dir, '..');
const lal = [process.execPath, join(root, 'bin/lal.ts')];
const tmp = mkdtempSync(join(tmpdir(), 'lal-cli-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

function conf(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = JSON.parse(readFileSync(join(root, 'conf/lalserver.conf.json'), 'utf8'));
  c.rtmp.addr = '127.0.0.1:0';
  c.rtmp.rtmps_enable = false;
  c.default_http.http_listen_addr = '127.0.0.1:0';
  for (const k of ['httpflv', 'httpts', 'hls']) c[k].enable_https = false;
  c.hls.enable = false;
  c.rtsp.enable = false;
  c.rtsp.rtsps_enable = false;
  c.rtsp.ws_rtsp_enable = false;
  c.http_api.addr = '127.0.0.1:0';
  c.pprof.enable = false;
  c.log.filename = '';
  return { ...c, ...extra };
}
function writeConf(name: string, c: unknown): string {
  const p = join(tmp, name);
  writeFileSync(p, typeof c === 'string' ? c : JSON.stringify(c));
  return p;
}
const noStack = (s: string) => expect(s).not.toMatch(/^\s+at .+:\d+:\d+/m);

describe('lal CLI', () => {
  test('--help lists the subcommands and their flags', async () => {
    const r = await run([...lal, '--help'], 20_000);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain('serve');
    expect(r.stdout + r.stderr).toContain('bench');
    const s = await run([...lal, 'serve', '--help'], 20_000);
    expect(s.stdout + s.stderr).toContain('--config');
    expect(s.stdout + s.stderr).toContain('-p');
  });

  test('invalid JSON, a wrong type, an unreadable file: one clear line and exit 1', async () => {
    const bad = await run([...lal, 'serve', '-c', writeConf('bad.json', '{"rtmp": {"enable": true,}')], 20_000);
    expect(bad.code).toBe(1);
    expect(bad.stderr + bad.stdout).toMatch(/invalid JSON/i);
    noStack(bad.stderr + bad.stdout);

    const c = conf();
    (c.rtmp as Record<string, unknown>).gop_num = '1';
    const typ = await run([...lal, 'serve', '-c', writeConf('type.json', c)], 20_000);
    expect(typ.code).toBe(1);
    expect(typ.stderr + typ.stdout).toContain('rtmp.gop_num');
    noStack(typ.stderr + typ.stdout);

    const missing = await run([...lal, 'serve', '-c', join(tmp, 'nope.json')], 20_000);
    expect(missing.code).toBe(1);
    expect(missing.stderr + missing.stdout).toContain('nope.json');
    noStack(missing.stderr + missing.stdout);
  });

  test('no config file anywhere in LAL\'s search paths: exit 1 with usage', async () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const r = await run([...lal, 'serve', '-p', empty], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain('-c');
  });

  test('a port already in use: clear error naming it, exit 1', async () => {
    const blocker = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    try {
      const c = conf();
      (c.rtmp as Record<string, unknown>).addr = `127.0.0.1:${blocker.port}`;
      const r = await run([...lal, 'serve', '-c', writeConf('inuse.json', c)], 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr + r.stdout).toContain(String(blocker.port));
      noStack(r.stderr + r.stdout);
    } finally {
      blocker.stop(true);
    }
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`${sig}: stops and exits 0 within 2 s; log.filename gets the log`, async () => {
      const logFile = join(tmp, `logs-${sig}/lal.log`);
      const c = conf();
      (c.log as Record<string, unknown>).filename = logFile;
      const p = spawnTracked([...lal, 'serve', '-c', writeConf(`sig-${sig}.json`, c)]);
      const out = collect(p.stdout);
      const err = collect(p.stderr);
      await waitFor(() => (out.text() + err.text()).includes('server started'), 15_000, 'server started');
      const t0 = performance.now();
      process.kill(p.pid, sig);
      const code = await p.exited;
      expect(code).toBe(0);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(existsSync(logFile)).toBe(true);
      expect(readFileSync(logFile, 'utf8')).toContain('server started');
    }, 30_000);
  }
});

describe('lal CLI: usage', () => {
  test('help and usage errors come from citty, with the usage text', async () => {
    const help = await run([...lal, 'push', '--help'], 20_000);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('USAGE');
    expect(help.stdout).toContain('--no-realtime');

    const missing = await run([...lal, 'remux', '-i', join(tmp, 'in.flv')], 20_000);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('USAGE');
    expect(missing.stderr).toContain('Missing required argument: --output');

    const unknown = await run([...lal, 'remux', '--bogus', '-o', join(tmp, 'x.ts')], 20_000);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Missing required argument: --input');
  });

  test('a subcommand that fails says why in one line and exits 1', async () => {
    const r = await run([...lal, 'remux', '-i', join(tmp, 'nope.flv'), '-o', join(tmp, 'nope.ts')], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.flv');
    noStack(r.stderr + r.stdout);
  });

  test('serve -c or -p without a value: a usage error, not the default config', async () => {
    for (const flag of ['-c', '--config', '-p']) {
      const r = await run([...lal, 'serve', flag], 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(flag === '-p' ? '-p/--dir needs a directory' : '-c/--config needs a file name');
      expect(r.stdout).not.toContain('starting with');
      noStack(r.stderr + r.stdout);
    }
  });
});
