/**
 * TCP (and TLS) listeners and clients on Bun's push sockets. Only lib/net touches Bun socket APIs
 * (design.md §1.2). A connection is handed to a `ConnHandler` that gets bytes, drain and close.
 */
import type { Socket, TCPSocketListener } from 'bun';
import { TcpSink } from './sink.ts';

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

const socketHandlers = {
  data(s: Socket<SockData>, d: Buffer) {
    const h = s.data.handler;
    if (!h || s.data.closed) return;
    try {
      h.onData(d);
    } catch (e) {
      // The handler is expected to catch its own errors; this is the last line of defence so a
      // bug in one session never reaches Bun's global handler.
      s.data.closed = true;
      s.data.sink?.close();
      h.onClose(e instanceof Error ? e : new Error(String(e)));
    }
  },
  drain(s: Socket<SockData>) {
    s.data.sink?.handleDrain();
  },
  close(s: Socket<SockData>, err?: Error) {
    if (s.data.closed) return;
    s.data.closed = true;
    if (s.data.sink) s.data.sink.closed = true;
    s.data.handler?.onClose(err);
  },
  error(s: Socket<SockData>, err: Error) {
    if (s.data.closed) return;
    s.data.closed = true;
    if (s.data.sink) s.data.sink.closed = true;
    s.data.handler?.onClose(err);
  },
};

/**
 * Listen on host:port (port 0 = any free port). `onConn` is called for each accepted connection and
 * returns its handler. Throws a clear Error when the address is in use.
 */
export function listenTcp(opts: {
  host: string;
  port: number;
  tls?: TlsFiles;
  onConn: (conn: TcpConn) => ConnHandler;
}): TcpListener {
  let listener: TCPSocketListener<SockData>;
  try {
    listener = Bun.listen<SockData>({
      hostname: opts.host,
      port: opts.port,
      ...(opts.tls ? { tls: { cert: Bun.file(opts.tls.certFile), key: Bun.file(opts.tls.keyFile) } } : {}),
      data: {},
      socket: {
        ...socketHandlers,
        open(s: Socket<SockData>) {
          s.data = {};
          const conn = makeConn(s);
          s.data.conn = conn;
          try {
            s.data.handler = opts.onConn(conn);
          } catch {
            s.data.closed = true;
            s.end();
          }
        },
      },
    } as unknown as Bun.TCPSocketListenOptions<SockData>);
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
