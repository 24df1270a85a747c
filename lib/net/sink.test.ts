import { expect, test } from 'bun:test';
import { TcpSink, type RawSocket } from './sink.ts';

/** A socket that accepts `room` bytes per write call, recording what it accepted. */
class FakeSocket implements RawSocket {
  got: number[] = [];
  ended = false;
  constructor(public room: number) {}
  write(d: Uint8Array): number {
    const n = Math.min(this.room, d.length);
    for (let i = 0; i < n; i++) this.got.push(d[i]);
    this.room -= n;
    return n;
  }
  end(): void {
    this.ended = true;
  }
}

test('partial writes are queued as views and flushed in order on drain', () => {
  const s = new FakeSocket(3);
  const sink = new TcpSink(s);
  const a = Uint8Array.of(1, 2, 3, 4, 5);
  const b = Uint8Array.of(6, 7);
  expect(sink.write(a)).toBe(false);
  expect(sink.write(b)).toBe(false);
  expect(sink.pendingBytes).toBe(4);
  let drained = 0;
  sink.onDrain = () => drained++;
  s.room = 2;
  sink.handleDrain();
  expect(sink.pendingBytes).toBe(2);
  expect(drained).toBe(0);
  s.room = 100;
  sink.handleDrain();
  expect(sink.pendingBytes).toBe(0);
  expect(drained).toBe(1);
  expect(s.got).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(sink.bytesWritten).toBe(7);
  expect(sink.write(Uint8Array.of(8))).toBe(true);
});

test('close drops the queue and ends; closeAfterFlush waits for the queue', () => {
  const s = new FakeSocket(1);
  const sink = new TcpSink(s);
  sink.write(Uint8Array.of(1, 2, 3));
  sink.closeAfterFlush();
  expect(s.ended).toBe(false);
  s.room = 10;
  sink.handleDrain();
  expect(s.ended).toBe(true);
  expect(s.got).toEqual([1, 2, 3]);
  expect(sink.write(Uint8Array.of(9))).toBe(false);
});

test('backlogSince: set when a backlog begins (not at connect), kept while it grows, cleared when it drains', () => {
  const s = new FakeSocket(100);
  const sink = new TcpSink(s);
  expect(sink.backlogSince).toBe(0);
  sink.write(new Uint8Array(50)); // all accepted
  expect(sink.backlogSince).toBe(0);
  const t0 = performance.now();
  sink.write(new Uint8Array(80)); // 30 pending
  const since = sink.backlogSince;
  expect(since).toBeGreaterThanOrEqual(t0);
  sink.write(new Uint8Array(10)); // queued behind: the backlog did not begin again
  expect(sink.backlogSince).toBe(since);
  s.room = 1000;
  sink.handleDrain();
  expect(sink.pendingBytes).toBe(0);
  expect(sink.backlogSince).toBe(0);
});
