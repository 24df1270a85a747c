#!/usr/bin/env bun
/**
 * Attack helper in its own process (so the test process measures the server, not itself): N
 * clients send an HTTP request head to host:port one byte per TCP segment, interleaved, until
 * each has sent BYTES bytes (the head's end comes last) or the server closed it.
 *   bun test/helpers/slow-http-clients.ts PORT CLIENTS BYTES
 * Prints `{"sentBytes":N,"closedEarly":N}` when done.
 */
import type { Socket } from 'bun';

const [portArg, clientsArg, bytesArg] = process.argv.slice(2);
const port = Number(portArg);
const clients = Number(clientsArg ?? 30);
const total = Number(bytesArg ?? 4096);

const line = 'GET /live/slow.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ';
const head = new TextEncoder().encode(line + 'p'.repeat(Math.max(0, total - line.length - 4)) + '\r\n\r\n');

interface C {
  sock: Socket;
  closed: boolean;
}
const cs: C[] = [];
for (let i = 0; i < clients; i++) {
  const c = { closed: false } as C;
  c.sock = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data() {},
      close() {
        c.closed = true;
      },
      error() {
        c.closed = true;
      },
    },
  });
  c.sock.setNoDelay(true);
  cs.push(c);
}
let sent = 0;
for (let i = 0; i < head.length; i++) {
  for (const c of cs) {
    if (c.closed) continue;
    if (c.sock.write(head.subarray(i, i + 1)) === 1) sent++;
  }
  // one round per event-loop turn: each byte leaves in its own segment
  await Bun.sleep(1);
}
await Bun.sleep(200);
console.log(JSON.stringify({ sentBytes: sent, closedEarly: cs.filter((c) => c.closed).length }));
for (const c of cs) c.sock.end();
process.exit(0);
