import { describe, expect, test } from 'bun:test';
import { bindUdp, openUdp, UdpBindError, type UdpEndpoint } from './udp.ts';

function collector() {
  const got: { data: Uint8Array; port: number; addr: string }[] = [];
  return { got, handler: { onData: (data: Uint8Array, port: number, addr: string) => got.push({ data, port, addr }) } };
}

async function until(fn: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!fn()) {
    if (performance.now() > end) throw new Error('timed out');
    await Bun.sleep(5);
  }
}

describe('udp', () => {
  test('bindUdp binds synchronously: a second bind of the same port throws at once (Bun runtime behaviour)', async () => {
    const a = await openUdp({ host: '127.0.0.1', handler: { onData() {} } });
    let err: unknown;
    try {
      bindUdp({ host: '127.0.0.1', port: a.port, handler: { onData() {} } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UdpBindError);
    expect((err as UdpBindError).code).toBe('EADDRINUSE');
    a.close();
    // once closed the port is free again, and the new bind holds it before any await
    const b = bindUdp({ host: '127.0.0.1', port: a.port, handler: { onData() {} } });
    expect(() => bindUdp({ host: '127.0.0.1', port: a.port, handler: { onData() {} } })).toThrow(UdpBindError);
    b.close();
  });

  test('send and receive datagrams; each datagram is its own buffer', async () => {
    const rx = collector();
    const r = await openUdp({ host: '127.0.0.1', handler: rx.handler });
    const s = await openUdp({ host: '127.0.0.1', handler: { onData() {} } });
    for (let i = 0; i < 20; i++) expect(s.send(new Uint8Array(64).fill(i), r.port, '127.0.0.1')).toBe(true);
    await until(() => rx.got.length === 20);
    rx.got.forEach((g, i) => {
      expect(g.data.length).toBe(64);
      expect(g.data[0]).toBe(i);
      expect(g.data[63]).toBe(i);
      expect(g.port).toBe(s.port);
      expect(g.addr).toBe('127.0.0.1');
    });
    expect(s.sent).toBe(20);
    r.close();
    s.close();
    expect(s.closed).toBe(true);
    expect(s.send(new Uint8Array(1), r.port, '127.0.0.1')).toBe(false);
    expect(s.failed).toBe(1);
  });

  test('a bound endpoint sends after one microtask; before that a send is counted as failed', async () => {
    const rx = collector();
    const r = await openUdp({ host: '127.0.0.1', handler: rx.handler });
    let ep: UdpEndpoint | undefined;
    for (let p = 40000 + Math.floor(Math.random() * 1000); !ep; p += 2) {
      try {
        ep = bindUdp({ host: '127.0.0.1', port: p, handler: { onData() {} } });
      } catch {
        /* taken: try the next */
      }
    }
    expect(ep.send(Uint8Array.of(1), r.port, '127.0.0.1')).toBe(false);
    await Promise.resolve();
    expect(ep.send(Uint8Array.of(2), r.port, '127.0.0.1')).toBe(true);
    await until(() => rx.got.length === 1);
    expect(rx.got[0].data[0]).toBe(2);
    expect(rx.got[0].port).toBe(ep.port);
    ep.close();
    r.close();
  });

  test('a throwing handler is reported through onError and the socket keeps working', async () => {
    const errors: Error[] = [];
    let n = 0;
    const r = await openUdp({
      host: '127.0.0.1',
      handler: {
        onData() {
          n++;
          if (n === 1) throw new Error('boom');
        },
        onError: (e) => errors.push(e),
      },
    });
    const s = await openUdp({ host: '127.0.0.1', handler: { onData() {} } });
    s.send(Uint8Array.of(1), r.port, '127.0.0.1');
    await until(() => n === 1);
    s.send(Uint8Array.of(2), r.port, '127.0.0.1');
    await until(() => n === 2);
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    r.close();
    s.close();
  });

  test('invalid ports are refused', () => {
    expect(() => bindUdp({ host: '127.0.0.1', port: 0, handler: { onData() {} } })).toThrow(UdpBindError);
    expect(() => bindUdp({ host: '127.0.0.1', port: 70000, handler: { onData() {} } })).toThrow(UdpBindError);
  });
});
