/**
 * Test helpers for the sessions (imported by *.test.ts only): a TcpConn whose peer reads a
 * bounded number of bytes, so a test sees what a session wrote and can make it wait for a drain.
 */
import { createConsola } from 'consola';
import type { Logger } from '../../core/log.ts';
import { TcpSink } from '../../net/sink.ts';
import type { TcpConn } from '../../net/tcp.ts';

export interface FakeConn {
  conn: TcpConn;
  /** What the peer has read so far, chunk by chunk (copies). */
  readonly out: readonly Uint8Array[];
  ended(): boolean;
  bytes(): number;
  raw(): Buffer;
  text(): string;
  /** Let the peer read `n` more bytes (then the sink drains what it can). */
  read(n: number): void;
}

/** A connection whose peer reads `readable` bytes at most until `read(n)` (default: everything). */
export function fakeConn(readable = Infinity, localPort = 554): FakeConn {
  const out: Uint8Array[] = [];
  let ended = false;
  let room = readable;
  const sink = new TcpSink({
    write: (d) => {
      const n = Math.min(d.length, room);
      room -= n;
      if (n > 0) out.push(d.slice(0, n));
      return n;
    },
    end: () => {
      ended = true;
    },
  });
  const conn: TcpConn = { sink, remoteAddr: '127.0.0.1:50000', localPort, setNoDelay() {} };
  return {
    conn,
    out,
    ended: () => ended,
    bytes: () => out.reduce((n, b) => n + b.length, 0),
    raw: () => Buffer.concat(out),
    text: () => Buffer.concat(out).toString('latin1'),
    read(n: number) {
      room += n;
      sink.handleDrain();
    },
  };
}

/** A logger that keeps every line (`<level> [<tag>] <text>`) for assertions. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createConsola({ level: 5, reporters: [{ log: (o) => lines.push(`${o.type} ${o.tag ? `[${o.tag}] ` : ''}${o.args.map(String).join(' ')}`) }] });
  return { log, lines };
}
