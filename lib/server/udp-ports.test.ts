import { describe, expect, test } from 'bun:test';
import { silentLogger } from '../core/log.ts';
import { bindUdp, openUdp, UdpBindError } from '../net/udp.ts';
import { UdpPortAllocator, MAX_PAIR_ATTEMPTS } from './udp-ports.ts';

/** A fake bind: ports in `taken` fail like EADDRINUSE; records every attempt. */
function fakeBind(taken: Set<number>) {
  const tried: number[] = [];
  const open = new Set<number>();
  const bind: typeof bindUdp = ({ host, port }) => {
    tried.push(port);
    if (taken.has(port) || open.has(port)) throw new UdpBindError(host, port, 'EADDRINUSE', 'in use');
    open.add(port);
    let closed = false;
    return {
      port,
      get closed() {
        return closed;
      },
      sent: 0,
      failed: 0,
      send: () => false,
      close: () => {
        closed = true;
        open.delete(port);
      },
    };
  };
  return { bind, tried, open };
}

describe('UdpPortAllocator', () => {
  test('hands out consecutive pairs (even RTP port) and rotates over the range', () => {
    const f = fakeBind(new Set());
    const a = new UdpPortAllocator({ host: '127.0.0.1', log: silentLogger, min: 30000, max: 30007, bind: f.bind });
    const pairs = [a.alloc()!, a.alloc()!, a.alloc()!, a.alloc()!];
    expect(pairs.map((p) => [p.rtpPort, p.rtcpPort])).toEqual([[30000, 30001], [30002, 30003], [30004, 30005], [30006, 30007]]);
    expect(a.inUse).toBe(4);
    // range exhausted: every try fails, nothing leaks
    expect(a.alloc()).toBeUndefined();
    expect(f.open.size).toBe(8);
    pairs[1].close();
    pairs[1].close(); // idempotent
    expect(a.inUse).toBe(3);
    const again = a.alloc()!;
    expect(again.rtpPort).toBe(30002);
  });

  test('a pair whose RTP or RTCP port is taken is skipped, and the half-bound socket released', () => {
    const f = fakeBind(new Set([30000, 30003]));
    const a = new UdpPortAllocator({ host: '127.0.0.1', log: silentLogger, min: 30000, max: 30009, bind: f.bind });
    const p = a.alloc()!;
    expect(p.rtpPort).toBe(30004);
    expect(f.tried).toEqual([30000, 30002, 30003, 30004, 30005]);
    expect([...f.open].sort()).toEqual([30004, 30005]); // 30002 was closed again
  });

  test('gives up after MAX_PAIR_ATTEMPTS failures', () => {
    const taken = new Set<number>();
    for (let p = 30000; p < 40000; p++) taken.add(p);
    const f = fakeBind(taken);
    const a = new UdpPortAllocator({ host: '127.0.0.1', log: silentLogger, min: 30000, max: 40000, bind: f.bind });
    expect(a.alloc()).toBeUndefined();
    expect(f.tried.length).toBe(MAX_PAIR_ATTEMPTS);
  });

  test('binds real sockets: data is dispatched to the handlers set after allocation; closeAll frees the ports', async () => {
    const a = new UdpPortAllocator({ host: '127.0.0.1', log: silentLogger, min: 42000 + 2 * Math.floor(Math.random() * 2000), max: 50000 });
    const pair = a.alloc()!;
    expect(() => bindUdp({ host: '127.0.0.1', port: pair.rtpPort, handler: { onData() {} } })).toThrow(UdpBindError);
    const got: string[] = [];
    pair.onRtp = (d) => got.push(`rtp ${d[0]}`);
    pair.onRtcp = (d) => got.push(`rtcp ${d[0]}`);
    const s = await openUdp({ host: '127.0.0.1', handler: { onData() {} } });
    s.send(Uint8Array.of(1), pair.rtpPort, '127.0.0.1');
    s.send(Uint8Array.of(2), pair.rtcpPort, '127.0.0.1');
    const end = performance.now() + 2000;
    while (got.length < 2 && performance.now() < end) await Bun.sleep(5);
    expect(got.sort()).toEqual(['rtcp 2', 'rtp 1']);
    a.closeAll();
    expect(a.inUse).toBe(0);
    const again = bindUdp({ host: '127.0.0.1', port: pair.rtpPort, handler: { onData() {} } });
    again.close();
    s.close();
  });
});
