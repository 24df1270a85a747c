import { captureLog, fakeConn as fakeConnOf } from './_testing.ts';
import { describe, expect, test } from 'bun:test';
import type { Logger } from '../../core/log.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { LalError } from '../../core/errors.ts';
import { MemoryStore, type SegmentStore } from '../../protocol/hls/store.ts';
import { parseConfig } from '../config.ts';
import type { LiveSession, ServerContext } from '../context.ts';
import { StreamHub } from '../hub.ts';
import { SessionIdGen } from '../stat.ts';
import { rtpBranchDef } from '../rtp-branch.ts';
import { DRAIN_TIMEOUT_MS } from '../output.ts';
import { HTTP_KEEPALIVE_IDLE_MS, HTTP_REQUEST_TIMEOUT_MS, HttpMediaConn, MAX_PIPELINED_BYTES, type HttpRoutes } from './http-media.ts';

const OUT = '/lal-test-hls';
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:3.000,\nx-1-0.ts\n';


function context(store: SegmentStore, log: Logger): ServerContext {
  const config = parseConfig(
    JSON.stringify({
      rtmp: { enable: false },
      httpflv: { enable: true, url_pattern: '/' },
      httpts: { enable: false },
      hls: { enable: true, url_pattern: '/hls/', out_path: OUT },
      rtsp: { enable: false },
      log: { level: 5, filename: '', is_to_stdout: false },
    }),
  ).config;
  return { config, limits: {}, hub: new StreamHub({ gopNum: 1, log }), ids: new SessionIdGen(), log, sessions: new Set<LiveSession>(), branches: { rtp: rtpBranchDef({ log }) }, hlsStore: store };
}

const routes: HttpRoutes = { patterns: [{ prefix: '/', module: 'flv' }, { prefix: '/hls/', module: 'hls' }], https: false };

const fakeConn = (room = Infinity) => fakeConnOf(room, 8080);

function setup(room = Infinity, storeOverride?: SegmentStore) {
  const store = new MemoryStore();
  store.mkdirp(`${OUT}/x`);
  store.writeFile(`${OUT}/x/playlist.m3u8`, new TextEncoder().encode(PLAYLIST));
  store.writeFile(`${OUT}/x/x-1-0.ts`, new Uint8Array(188 * 100).fill(0x47));
  const cap = captureLog();
  const ctx = context(storeOverride ?? store, cap.log);
  const f = fakeConn(room);
  const c = new HttpMediaConn(ctx, f.conn, routes);
  return { ctx, f, c, lines: cap.lines };
}

const enc = (s: string) => new TextEncoder().encode(s);
const get = (path: string, extra = '', method = 'GET', version = 'HTTP/1.1') => `${method} ${path} ${version}\r\nHost: x\r\n${extra}\r\n`;

/** Split a byte stream of responses with Content-Length into [head, body] pairs. */
function responses(text: string): { head: string; body: string }[] {
  const out: { head: string; body: string }[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`truncated head: ${JSON.stringify(rest.slice(0, 80))}`);
    const head = rest.slice(0, end + 4);
    const len = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)?.[1] ?? 0);
    out.push({ head, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

describe('HttpMediaConn: HLS over kept-alive connections (docs/hls.md §6)', () => {
  test('pipelined requests are answered in order on one connection, with Date and Content-Length; the 404 body is empty', () => {
    const { f, c } = setup();
    c.onData(enc(get('/hls/x/playlist.m3u8') + get('/hls/x/x-1-0.ts') + get('/hls/x/nope.ts') + get('/hls/x/playlist.m3u8', '', 'HEAD')));
    const r = responses(f.text());
    expect(r.map((x) => x.head.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200 OK']);
    const [pl, ts, nf, head] = r;
    expect(pl.head).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\nServer: lal${LAL_VERSION.replace(/\./g, '\\.')}\\r\\nDate: \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\\r\\n`));
    expect(pl.head).toContain('Content-Type: application/x-mpegurl\r\n');
    expect(pl.head).toContain(`Content-Length: ${PLAYLIST.length}\r\n`);
    expect(pl.head).toContain('Cache-Control: no-cache\r\nContent-Type');
    expect(pl.head).toContain('Access-Control-Allow-Origin: *\r\n');
    expect(pl.body).toBe(PLAYLIST);
    expect(ts.head).toContain('Content-Type: video/mp2t\r\nContent-Length: 18800\r\n');
    expect(ts.body.length).toBe(18800);
    expect(nf.head).toContain('Content-Length: 0\r\n');
    expect(nf.body).toBe('');
    expect(head.head).toContain(`Content-Length: ${PLAYLIST.length}\r\n`);
    for (const x of r) {
      expect(x.head).toContain('\r\nDate: ');
      expect(x.head).not.toContain('Connection:');
    }
    expect(f.text().endsWith(`${head.head}`)).toBe(true); // HEAD: no body
    expect(f.ended()).toBe(false);
    expect(c.closed).toBe(false);
  });

  test('Connection: close and HTTP/1.0 close after the answer; HTTP/1.0 keep-alive is honoured', () => {
    const a = setup();
    a.c.onData(enc(get('/hls/x/playlist.m3u8', 'Connection: close\r\n')));
    expect(a.f.text()).toContain('\r\nConnection: close\r\n');
    expect(a.f.ended()).toBe(true);
    const b = setup();
    b.c.onData(enc(get('/hls/x/playlist.m3u8', '', 'GET', 'HTTP/1.0')));
    expect(b.f.ended()).toBe(true);
    const k = setup();
    k.c.onData(enc(get('/hls/x/playlist.m3u8', 'Connection: keep-alive\r\n', 'GET', 'HTTP/1.0')));
    expect(k.f.text()).toContain('\r\nConnection: keep-alive\r\n');
    expect(k.f.ended()).toBe(false);
  });

  test('bounds: each request head has its own deadline; an idle kept-alive connection closes', () => {
    const t = performance.now();
    const a = setup();
    a.c.onData(enc(get('/hls/x/playlist.m3u8')));
    a.c.tick(t + HTTP_KEEPALIVE_IDLE_MS - 1000);
    expect(a.f.ended()).toBe(false);
    a.c.tick(t + HTTP_KEEPALIVE_IDLE_MS + 1000);
    expect(a.f.ended()).toBe(true);
    // the second request starts dribbling: it has HTTP_REQUEST_TIMEOUT_MS from its first byte
    const b = setup();
    b.c.onData(enc(get('/hls/x/playlist.m3u8')));
    const t1 = performance.now();
    b.c.onData(enc('GET /hls/x/pl'));
    b.c.tick(t1 + HTTP_REQUEST_TIMEOUT_MS - 1000);
    expect(b.f.ended()).toBe(false);
    b.c.tick(t1 + HTTP_REQUEST_TIMEOUT_MS + 1000);
    expect(b.f.ended()).toBe(true);
  });

  test('requests pipelined behind an answer the client does not read wait, bounded; the answer itself is under the drain timeout', () => {
    const { f, c, lines } = setup(1000);
    c.onData(enc(get('/hls/x/x-1-0.ts')));
    expect(f.conn.sink.pendingBytes).toBeGreaterThan(0);
    // the next request waits until the fragment is sent
    c.onData(enc(get('/hls/x/playlist.m3u8')));
    expect(f.text().match(/HTTP\/1\.1 /g)?.length).toBe(1);
    f.read(1 << 20);
    const r = responses(f.text());
    expect(r.map((x) => x.head.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(r[1].body).toBe(PLAYLIST);
    // a flood of requests behind an unread answer closes the connection as slow-consumer
    const g = setup(1000);
    g.c.onData(enc(get('/hls/x/x-1-0.ts')));
    const one = enc(get('/hls/x/x-1-0.ts'));
    let sent = 0;
    while (!g.f.ended() && sent <= MAX_PIPELINED_BYTES + one.length) {
      g.c.onData(one);
      sent += one.length;
    }
    expect(g.f.ended()).toBe(true);
    expect(g.lines.some((l) => l.includes('(slow-consumer)'))).toBe(true);
    // an answer that never drains
    const h = setup(1000);
    h.c.onData(enc(get('/hls/x/x-1-0.ts')));
    const t = performance.now();
    h.c.tick(t + DRAIN_TIMEOUT_MS - 1000);
    expect(h.f.ended()).toBe(false);
    h.c.tick(t + DRAIN_TIMEOUT_MS + 1000);
    expect(h.f.ended()).toBe(true);
    expect(h.lines.some((l) => l.startsWith('warn') && l.includes('not drained'))).toBe(true);
    expect(lines.some((l) => l.startsWith('error'))).toBe(false);
  });

  test('a store failure other than a missing file is 500, logged at error; a bug at the boundary is logged with its stack', () => {
    const failing: SegmentStore = Object.assign(new MemoryStore(), {
      readFile(): Uint8Array | undefined {
        throw new LalError('hls-io', 'hls: read /x failed: EIO');
      },
    });
    const a = setup(Infinity, failing);
    a.c.onData(enc(get('/hls/x/playlist.m3u8')));
    expect(a.f.text()).toStartWith('HTTP/1.1 500 Internal Server Error\r\n');
    expect(a.f.ended()).toBe(true);
    expect(a.lines.some((l) => l.startsWith('error') && l.includes('EIO'))).toBe(true);

    const b = setup();
    // a bug inside the request handling (not a LalError): error with a stack, 500
    (b.ctx as { config: unknown }).config = new Proxy(b.ctx.config, {
      get(t, k) {
        if (k === 'hls') throw new TypeError('boom');
        return Reflect.get(t, k);
      },
    });
    b.c.onData(enc(get('/hls/x/playlist.m3u8')));
    expect(b.f.text()).toStartWith('HTTP/1.1 500 Internal Server Error\r\n');
    const err = b.lines.find((l) => l.startsWith('error'));
    expect(err).toContain('TypeError: boom');
    expect(err).toContain('http-media.ts'); // the stack
    // bad input: warn, 400
    const c = setup();
    c.c.onData(enc('NOT HTTP\r\n\r\n'));
    expect(c.f.text()).toStartWith('HTTP/1.1 400 Bad Request\r\n');
    expect(c.lines.some((l) => l.startsWith('warn'))).toBe(true);
    expect(c.lines.some((l) => l.startsWith('error'))).toBe(false);
  });
});

describe('HttpMediaConn: stream URLs', () => {
  test('HEAD on a stream URL answers the player head only: no body, no player, then closes', () => {
    const { ctx, f, c } = setup();
    c.onData(enc(get('/live/s.flv', '', 'HEAD')));
    const t = f.text();
    expect(t).toBe(`HTTP/1.1 200 OK\r\nServer: lal${LAL_VERSION}\r\nCache-Control: no-cache\r\nContent-Type: video/x-flv\r\nConnection: close\r\nExpires: -1\r\nPragma: no-cache\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: Content-Type\r\n\r\n`);
    expect(f.ended()).toBe(true);
    expect(ctx.hub.get('s')).toBeUndefined();
  });

  test('a GET turns the connection into a player that keeps LAL\'s head; it is not timed out as a request', () => {
    const { ctx, f, c } = setup();
    c.onData(enc(get('/live/s.flv')));
    expect(f.text()).toStartWith('HTTP/1.1 200 OK\r\nServer: ');
    expect(f.text()).toContain('\r\nConnection: close\r\n');
    expect(f.text()).not.toContain('Date:');
    expect(ctx.hub.get('s')!.sessions()).toEqual([c]);
    c.tick(performance.now() + HTTP_KEEPALIVE_IDLE_MS * 2);
    expect(f.ended()).toBe(false);
    c.close('test');
    expect(ctx.hub.get('s')).toBeUndefined();
  });
});
