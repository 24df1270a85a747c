/**
 * UDP sockets on Bun (`Bun.udpSocket`): the only place lal binds UDP (docs/architecture.md §1.2). Used for
 * RTSP RTP/RTCP over UDP (docs/protocols.md §3.3, RFC 2326 §12.39) by the server's port-pair
 * allocator and by clients.
 *
 * Runtime note (Bun 1.4.5): `Bun.udpSocket()` binds inside the call — a port in use throws
 * EADDRINUSE synchronously — and only hands the socket object over through an already-settled
 * Promise. `bindUdp` relies on that to bind synchronously (the RTSP SETUP answer must name the
 * server ports in the same turn); the socket object arrives one microtask later, and a `send`
 * before then is counted as failed (UDP output has no backpressure: a failed send is dropped,
 * docs/architecture.md §1.4). `udp.test.ts` pins this behaviour so a Bun upgrade that changes it fails loudly.
 */
import type { udp } from 'bun';

export interface UdpHandler {
  /** One datagram (a fresh buffer per datagram: callers may keep it) and its sender. */
  onData(data: Uint8Array, fromPort: number, fromAddr: string): void;
  onError?(err: Error): void;
}

export interface UdpEndpoint {
  readonly port: number;
  readonly closed: boolean;
  /** Datagrams sent / refused (not bound yet, closed, or the kernel buffer is full). */
  readonly sent: number;
  readonly failed: number;
  /** Send one datagram; false when it was dropped. Never throws. */
  send(data: Uint8Array, port: number, host: string): boolean;
  close(): void;
}

/** A bind that failed (`code` is the errno name, e.g. EADDRINUSE). */
export class UdpBindError extends Error {
  constructor(readonly host: string, readonly port: number, readonly code: string, message: string) {
    super(`udp: cannot bind ${host}:${port}: ${message}`);
    this.name = 'UdpBindError';
  }
}

type BunUdp = udp.Socket<'buffer'>;

class Endpoint implements UdpEndpoint {
  private sock: BunUdp | undefined;
  closed = false;
  sent = 0;
  failed = 0;

  constructor(readonly port: number, pending: Promise<BunUdp>, private readonly handler: UdpHandler) {
    pending.then(
      (s) => {
        if (this.closed) s.close();
        else this.sock = s;
      },
      (e: unknown) => this.fail(e),
    );
  }

  fail(e: unknown): void {
    if (this.closed) return;
    this.handler.onError?.(e instanceof Error ? e : new Error(String(e)));
  }

  send(data: Uint8Array, port: number, host: string): boolean {
    const s = this.sock;
    if (!s || this.closed) {
      this.failed++;
      return false;
    }
    let ok = false;
    try {
      ok = s.send(data, port, host);
    } catch {
      ok = false;
    }
    if (ok) this.sent++;
    else this.failed++;
    return ok;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sock?.close();
    } catch {
      /* already closed */
    }
    this.sock = undefined;
  }
}

function errCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'EUNKNOWN';
}

function openOptions(host: string, port: number, handler: UdpHandler, self: () => Endpoint | undefined) {
  return {
    hostname: host,
    port,
    binaryType: 'buffer' as const,
    socket: {
      data(_s: BunUdp, data: Buffer, fromPort: number, fromAddr: string) {
        const ep = self();
        if (!ep || ep.closed) return;
        try {
          handler.onData(data, fromPort, fromAddr);
        } catch (e) {
          // handlers catch their own errors; this keeps a bug away from Bun's global handler
          ep.fail(e);
        }
      },
      error(_s: BunUdp, err: Error) {
        self()?.fail(err);
      },
    },
  };
}

/**
 * Bind `host:port` (port > 0) synchronously. Throws UdpBindError when the port is taken or the
 * address is invalid.
 */
export function bindUdp(opts: { host: string; port: number; handler: UdpHandler }): UdpEndpoint {
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
    throw new UdpBindError(opts.host, opts.port, 'EINVAL', 'bindUdp needs a fixed port 1..65535 (use openUdp for an ephemeral one)');
  }
  let ep: Endpoint | undefined;
  let pending: Promise<BunUdp>;
  try {
    pending = Bun.udpSocket(openOptions(opts.host, opts.port, opts.handler, () => ep));
  } catch (e) {
    throw new UdpBindError(opts.host, opts.port, errCode(e), e instanceof Error ? e.message : String(e));
  }
  ep = new Endpoint(opts.port, pending, opts.handler);
  return ep;
}

/** Bind an ephemeral port (port 0) or a fixed one, resolving once the socket is ready. */
export async function openUdp(opts: { host: string; port?: number; handler: UdpHandler }): Promise<UdpEndpoint> {
  let ep: Endpoint | undefined;
  let s: BunUdp;
  try {
    s = await Bun.udpSocket(openOptions(opts.host, opts.port ?? 0, opts.handler, () => ep));
  } catch (e) {
    throw new UdpBindError(opts.host, opts.port ?? 0, errCode(e), e instanceof Error ? e.message : String(e));
  }
  ep = new Endpoint(s.port, Promise.resolve(s), opts.handler);
  await Promise.resolve(); // let the endpoint take the socket
  return ep;
}
