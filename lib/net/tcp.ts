/**
 * TCP (and TLS) listeners and clients on Bun's push sockets. Only lib/net touches Bun socket APIs
 * (docs/architecture.md §1.2). A connection is handed to a `ConnHandler` that gets bytes, drain and close.
 *
 * Deadlines (docs/architecture.md §1.5): a TLS listener closes a connection whose handshake is
 * not complete within `handshakeTimeoutMs` (a client that connects and never sends a ClientHello
 * used to hold its socket forever); later phases are the session's business.
 */
import type { Socket, TCPSocketListener } from 'bun';
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { TcpSink } from './sink.ts';

/**
 * How long a TLS client may take to complete its handshake: the same 10 s as the plain
 * command phase that follows it (COMMAND_PHASE_TIMEOUT_MS in lib/server/context.ts).
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ConnHandler {
  onData(chunk: Uint8Array): void;
  onClose(err?: Error): void;
}

export interface TcpConn {
  readonly sink: TcpSink;
  readonly remoteAddr: string; // ip:port
  readonly localPort: number;
  /** Stop/restart reading (back-pressure on a publisher is never used; kept for clients). */
  setNoDelay(on: boolean): void;
}

interface SockData {
  conn?: TcpConn;
  handler?: ConnHandler;
  sink?: TcpSink;
  closed?: boolean;
  /** TLS: the handshake deadline, cleared once the handshake is done or the socket closed. */
  handshakeTimer?: ReturnType<typeof setTimeout>;
  /** Where unexpected errors are reported (the listener's logger). */
  log?: Logger;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TcpListener {
  readonly port: number;
  readonly hostname: string;
  stop(closeActive?: boolean): void;
}

function fmtAddr(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function makeConn(s: Socket<SockData>): TcpConn {
  const sink = new TcpSink(s);
  s.data.sink = sink;
  return {
    sink,
    remoteAddr: fmtAddr(s.remoteAddress, (s as unknown as { remotePort: number }).remotePort),
    localPort: (s as unknown as { localPort: number }).localPort,
    setNoDelay: (on) => (s as unknown as { setNoDelay(b: boolean): void }).setNoDelay(on),
  };
}

function clearHandshakeTimer(d: SockData): void {
  if (d.handshakeTimer !== undefined) {
    clearTimeout(d.handshakeTimer);
    d.handshakeTimer = undefined;
  }
}

/** Mark the socket closed and tell its handler once (Bun's own close event is then ignored). */
function closeWith(s: Socket<SockData>, err?: Error): void {
  const d = s.data;
  clearHandshakeTimer(d);
  if (d.closed) return;
  d.closed = true;
  if (d.sink) d.sink.closed = true;
  d.handler?.onClose(err);
}

/** Close the connection now, without waiting for pending bytes or a TLS close_notify. */
function abort(s: Socket<SockData>): void {
  try {
    const t = (s as unknown as { terminate?: () => void }).terminate;
    if (t) t.call(s);
    else s.end();
  } catch {
    /* already gone */
  }
}

function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : errorText(e);
}

const socketHandlers = {
  data(s: Socket<SockData>, d: Buffer) {
    const h = s.data.handler;
    if (!h || s.data.closed) return;
    try {
      h.onData(d);
    } catch (e) {
      // The handler is expected to catch its own errors; this is the last line of defence so a
      // bug in one session never reaches Bun's global handler. Only this connection is closed.
      s.data.log?.error(`tcp: session for ${s.data.conn?.remoteAddr ?? '?'} threw, closing that connection: ${stackOf(e)}`);
      closeWith(s, e instanceof Error ? e : new Error(String(e)));
      abort(s);
    }
  },
  drain(s: Socket<SockData>) {
    s.data.sink?.handleDrain();
  },
  close(s: Socket<SockData>, err?: Error) {
    closeWith(s, err);
  },
  error(s: Socket<SockData>, err: Error) {
    closeWith(s, err);
  },
};

/**
 * At most `burst` log lines per `windowMs`; the lines left out are counted and the count is
 * appended to the next line that is written, so an attack cannot flood the log.
 */
class LogThrottle {
  private windowStart = -Infinity;
  private written = 0;
  private skipped = 0;
  constructor(
    private readonly burst = 5,
    private readonly windowMs = 10_000,
  ) {}

  /** Calls `emit` with a suffix (" (N more not logged)") unless the burst is used up. */
  line(now: number, emit: (suffix: string) => void): void {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.burst) {
      this.skipped++;
      return;
    }
    this.written++;
    const suffix = this.skipped > 0 ? ` (${this.skipped} more like it not logged)` : '';
    this.skipped = 0;
    emit(suffix);
  }
}

export interface ListenTcpOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** TLS only: close a connection whose handshake is not done within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * Where a failing session constructor or handler (logged at error, with the stack) and closed
   * slow handshakes (debug, throttled) are reported.
   */
  log: Logger;
  onConn: (conn: TcpConn) => ConnHandler;
}

/**
 * Listen on host:port (port 0 = any free port). `onConn` is called for each accepted connection and
 * returns its handler; when it throws, that connection alone is closed and the error logged.
 * Throws a clear Error when the address is in use.
 */
export function listenTcp(opts: ListenTcpOptions): TcpListener {
  let listener: TCPSocketListener<SockData>;
  const log = opts.log;
  const tls = opts.tls !== undefined;
  const handshakeMs = opts.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  const throttle = new LogThrottle();
  let boundPort = opts.port;
  try {
    listener = Bun.listen<SockData>({
      hostname: opts.host,
      port: opts.port,
      ...(opts.tls ? { tls: { cert: Bun.file(opts.tls.certFile), key: Bun.file(opts.tls.keyFile) } } : {}),
      data: {},
      socket: {
        ...socketHandlers,
        open(s: Socket<SockData>) {
          s.data = { log };
          const conn = makeConn(s);
          s.data.conn = conn;
          if (tls) {
            // Bun 1.4.5 calls `handshake` on server sockets too, on success and on failure.
            s.data.handshakeTimer = setTimeout(() => {
              s.data.handshakeTimer = undefined;
              if (s.data.closed) return;
              throttle.line(performance.now(), (more) =>
                log.debug(`tls: ${conn.remoteAddr} on port ${boundPort} did not complete its handshake within ${handshakeMs} ms, closed${more}`),
              );
              closeWith(s, new Error(`tls: handshake not complete within ${handshakeMs} ms`));
              abort(s);
            }, handshakeMs);
          }
          try {
            s.data.handler = opts.onConn(conn);
          } catch (e) {
            log.error(`tcp: cannot set up a session for ${conn.remoteAddr} on port ${boundPort}, closing that connection: ${stackOf(e)}`);
            clearHandshakeTimer(s.data);
            s.data.closed = true;
            s.data.sink?.close();
            abort(s);
          }
        },
        handshake(s: Socket<SockData>, ok: boolean) {
          clearHandshakeTimer(s.data);
          if (!ok && !s.data.closed) {
            // Bun closes a failed handshake itself; make sure, and tell the handler.
            closeWith(s, new Error('tls: handshake failed'));
            abort(s);
          }
        },
      },
    } as unknown as Bun.TCPSocketListenOptions<SockData>);
    boundPort = listener.port;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot listen on ${fmtAddr(opts.host, opts.port)}: ${msg}`);
  }
  return {
    port: listener.port,
    hostname: listener.hostname,
    stop: (closeActive = true) => listener.stop(closeActive),
  };
}

/** Connect to host:port; the handler gets data/close. Resolves once connected. */
export async function connectTcp(opts: {
  host: string;
  port: number;
  tls?: boolean;
  handler: (conn: TcpConn) => ConnHandler;
}): Promise<TcpConn> {
  let conn: TcpConn | undefined;
  await Bun.connect<SockData>({
    hostname: opts.host,
    port: opts.port,
    ...(opts.tls ? { tls: { rejectUnauthorized: false } } : {}),
    data: {},
    socket: {
      ...socketHandlers,
      open(s: Socket<SockData>) {
        s.data = {};
        conn = makeConn(s);
        s.data.conn = conn;
        s.data.handler = opts.handler(conn);
      },
      connectError(_s: Socket<SockData>, err: Error) {
        throw err;
      },
    },
  } as unknown as Bun.TCPSocketConnectOptions<SockData>);
  if (!conn) throw new Error(`connect to ${fmtAddr(opts.host, opts.port)} failed`);
  return conn;
}
