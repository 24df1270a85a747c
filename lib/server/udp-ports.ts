/**
 * The RTSP UDP port-pair allocator (docs/protocols.md §3.3): two consecutive ports (p even, p+1) taken
 * from a cursor that rotates over 30000–60000, shared by every RTSP session of one server
 * instance. Allocation really binds both sockets (synchronously, see lib/net/udp.ts), so a port
 * held by another process is skipped rather than promised to a client. Pairs are released when
 * their session closes.
 */
import type { Logger } from '../core/log.ts';
import { LalError } from '../core/errors.ts';
import { bindUdp, type UdpEndpoint, type UdpHandler } from '../net/udp.ts';

/** LAL's range for RTP/RTCP port pairs (also its PS receiver range). */
export const RTP_UDP_PORT_MIN = 30000;
export const RTP_UDP_PORT_MAX = 60000;
/**
 * Pairs tried per allocation before giving up: ports held by other processes are a handful, so
 * 256 failures in a row mean the range is exhausted (or binding is impossible), and each failed
 * try is a syscall made in the middle of a SETUP.
 */
export const MAX_PAIR_ATTEMPTS = 256;

export type UdpDataFn = (data: Uint8Array, fromPort: number, fromAddr: string) => void;

/** A bound RTP/RTCP socket pair. Set `onRtp`/`onRtcp` once the pair's use is known. */
export interface UdpPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: UdpEndpoint;
  readonly rtcp: UdpEndpoint;
  onRtp?: UdpDataFn;
  onRtcp?: UdpDataFn;
  /** Close both sockets and give the ports back. Idempotent. */
  close(): void;
}

export interface UdpPortAllocatorOptions {
  /** Address the sockets bind to (the RTSP listener's host; 0.0.0.0 for all). */
  host: string;
  log: Logger;
  min?: number;
  max?: number;
  /** Bind function (tests inject failures); default lib/net's bindUdp. */
  bind?: typeof bindUdp;
}

export class UdpPortAllocator {
  private readonly min: number;
  private readonly max: number;
  private cursor: number;
  private readonly live = new Set<UdpPair>();
  private readonly bind: typeof bindUdp;

  constructor(private readonly opts: UdpPortAllocatorOptions) {
    const min = opts.min ?? RTP_UDP_PORT_MIN;
    const max = opts.max ?? RTP_UDP_PORT_MAX;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || max - min < 1) {
      throw new LalError('udp-ports', `udp-ports: invalid range ${min}..${max}`);
    }
    this.min = min % 2 === 0 ? min : min + 1;
    this.max = max;
    this.cursor = this.min;
    this.bind = opts.bind ?? bindUdp;
  }

  /** Pairs currently allocated (not yet closed). */
  get inUse(): number {
    return this.live.size;
  }

  /** Bind the next free pair, or undefined when none could be bound (logged). */
  alloc(): UdpPair | undefined {
    for (let i = 0; i < MAX_PAIR_ATTEMPTS; i++) {
      const p = this.cursor;
      this.cursor = p + 3 > this.max ? this.min : p + 2;
      const pair = this.tryPair(p);
      if (pair) return pair;
    }
    this.opts.log.error(`udp-ports: no free port pair in ${this.min}..${this.max} after ${MAX_PAIR_ATTEMPTS} tries`);
    return undefined;
  }

  private tryPair(p: number): UdpPair | undefined {
    const host = this.opts.host;
    let rtp: UdpEndpoint | undefined;
    let rtcp: UdpEndpoint | undefined;
    // the handlers dispatch to whatever the pair's owner sets later
    const pair = {
      rtpPort: p,
      rtcpPort: p + 1,
      onRtp: undefined as UdpDataFn | undefined,
      onRtcp: undefined as UdpDataFn | undefined,
    };
    const h = (which: 'onRtp' | 'onRtcp'): UdpHandler => ({
      onData: (d, port, addr) => pair[which]?.(d, port, addr),
      onError: (e) => this.opts.log.debug(`udp-ports: socket ${which === 'onRtp' ? p : p + 1}: ${e.message}`),
    });
    try {
      rtp = this.bind({ host, port: p, handler: h('onRtp') });
      rtcp = this.bind({ host, port: p + 1, handler: h('onRtcp') });
    } catch (e) {
      rtp?.close();
      this.opts.log.debug(`udp-ports: pair ${p}-${p + 1} skipped: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    const r = rtp;
    const c = rtcp;
    let closed = false;
    const full: UdpPair = Object.assign(pair, {
      rtp: r,
      rtcp: c,
      close: () => {
        if (closed) return;
        closed = true;
        r.close();
        c.close();
        this.live.delete(full);
      },
    });
    this.live.add(full);
    return full;
  }

  /** Close every pair (server shutdown). */
  closeAll(): void {
    for (const p of [...this.live]) p.close();
  }
}
