import { afterEach, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { listenTcp, type ConnHandler, type TcpListener } from './tcp.ts';

const conf = join(import.meta.dir, '../../conf');
const tlsFiles = { certFile: join(conf, 'cert.pem'), keyFile: join(conf, 'key.pem') };

/** A logger that records lines by level. */
function recordingLogger(): Logger & { lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const at = (level: string) => (...args: unknown[]) => void lines.push({ level, text: args.map(String).join(' ') });
  const l = { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), withTag: () => l };
  return l as unknown as Logger & { lines: { level: string; text: string }[] };
}

async function waitUntil(fn: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!fn()) {
    if (performance.now() > end) return false;
    await Bun.sleep(10);
  }
  return true;
}

const listeners: TcpListener[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop(true);
});

describe('TLS handshake deadline', () => {
  test('a client that never sends a ClientHello is closed after handshakeTimeoutMs; a real TLS client is not', async () => {
    const log = recordingLogger();
    const closes: (string | undefined)[] = [];
    const got: string[] = [];
    const l = listenTcp({
      host: '127.0.0.1',
      port: 0,
      tls: tlsFiles,
      handshakeTimeoutMs: 300,
      log,
      onConn: (): ConnHandler => ({ onData: (d) => void got.push(new TextDecoder().decode(d)), onClose: (e) => void closes.push(e?.message) }),
    });
    listeners.push(l);
    let silentClosed = false;
    const t0 = performance.now();
    const silent = await Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {}, close() { silentClosed = true; } } });
    let goodReady = false;
    const good = await Bun.connect({ hostname: '127.0.0.1', port: l.port, tls: { rejectUnauthorized: false }, socket: { data() {}, handshake() { goodReady = true; } } });
    expect(await waitUntil(() => goodReady, 2000)).toBe(true);
    good.write('hello');
    expect(await waitUntil(() => silentClosed, 3000)).toBe(true);
    const tookMs = performance.now() - t0;
    expect(tookMs).toBeGreaterThanOrEqual(250);
    expect(tookMs).toBeLessThan(2500);
    expect(closes.some((m) => m?.includes('handshake not complete within 300 ms'))).toBe(true);
    expect(log.lines.some((x) => x.level === 'debug' && x.text.includes('did not complete its handshake'))).toBe(true);
    // the TLS client outlives the deadline and still talks
    await Bun.sleep(400);
    good.write(' again');
    expect(await waitUntil(() => got.join('') === 'hello again', 2000)).toBe(true);
    expect(closes.length).toBe(1);
    good.end();
    silent.end();
  });

  test('plain TCP listeners have no handshake deadline', async () => {
    let closed = false;
    const l = listenTcp({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 100, log: recordingLogger(), onConn: () => ({ onData() {}, onClose: () => void (closed = true) }) });
    listeners.push(l);
    const c = await Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {} } });
    await Bun.sleep(400);
    expect(closed).toBe(false);
    c.end();
  });

  test('handshake closes are throttled in the log', async () => {
    const log = recordingLogger();
    const l = listenTcp({ host: '127.0.0.1', port: 0, tls: tlsFiles, handshakeTimeoutMs: 200, log, onConn: () => ({ onData() {}, onClose() {} }) });
    listeners.push(l);
    let closed = 0;
    const socks = await Promise.all(
      Array.from({ length: 20 }, () => Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {}, close() { closed++; } } })),
    );
    expect(await waitUntil(() => closed === 20, 5000)).toBe(true);
    const lines = log.lines.filter((x) => x.text.includes('did not complete its handshake'));
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.length).toBeGreaterThan(0);
    for (const s of socks) s.end();
  });
});

describe('a session constructor that throws', () => {
  test('is logged at error with its stack and closes only that connection', async () => {
    const log = recordingLogger();
    let n = 0;
    const got: string[] = [];
    const l = listenTcp({
      host: '127.0.0.1',
      port: 0,
      log,
      onConn: (): ConnHandler => {
        if (n++ === 0) throw new Error('boom in constructor');
        return { onData: (d) => void got.push(new TextDecoder().decode(d)), onClose() {} };
      },
    });
    listeners.push(l);
    let badClosed = false;
    await Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {}, close() { badClosed = true; } } });
    expect(await waitUntil(() => badClosed, 2000)).toBe(true);
    const err = log.lines.find((x) => x.level === 'error');
    expect(err?.text).toContain('boom in constructor');
    expect(err?.text).toContain('tcp.test.ts'); // the stack, not only the message
    const ok = await Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {} } });
    ok.write('fine');
    expect(await waitUntil(() => got.join('') === 'fine', 2000)).toBe(true);
    ok.end();
  });

  test('a handler whose onData throws is logged and only its connection closes', async () => {
    const log = recordingLogger();
    const closes: (string | undefined)[] = [];
    const l = listenTcp({
      host: '127.0.0.1',
      port: 0,
      log,
      onConn: (): ConnHandler => ({
        onData: () => {
          throw new Error('boom in onData');
        },
        onClose: (e) => void closes.push(e?.message),
      }),
    });
    listeners.push(l);
    let closed = false;
    const c = await Bun.connect({ hostname: '127.0.0.1', port: l.port, socket: { data() {}, close() { closed = true; } } });
    c.write('x');
    expect(await waitUntil(() => closed, 2000)).toBe(true);
    expect(closes).toEqual(['boom in onData']);
    expect(log.lines.find((x) => x.level === 'error')?.text).toContain('boom in onData');
  });
});
