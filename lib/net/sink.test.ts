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

test('backlogSince marks when the backlog began, not when it last shrank; 0 once drained', async () => {
  const s = new FakeSocket(2);
  const sink = new TcpSink(s);
  expect(sink.backlogSince).toBe(0);
  const before = performance.now();
  sink.write(Uint8Array.of(1, 2, 3, 4, 5));
  const began = sink.backlogSince;
  expect(began).toBeGreaterThanOrEqual(before);
  await Bun.sleep(5);
  sink.write(Uint8Array.of(6)); // more backlog: same start
  s.room = 1;
  sink.handleDrain(); // shrank, still pending: same start, progress moved
  expect(sink.pendingBytes).toBe(3);
  expect(sink.backlogSince).toBe(began);
  expect(sink.lastProgressAt).toBeGreaterThan(began);
  s.room = 100;
  sink.handleDrain();
  expect(sink.pendingBytes).toBe(0);
  expect(sink.backlogSince).toBe(0);
  await Bun.sleep(2);
  s.room = 0;
  sink.write(Uint8Array.of(7));
  expect(sink.backlogSince).toBeGreaterThan(began); // a new backlog, a new start
});

test('close(reason) keeps the reason and clears the backlog', () => {
  const s = new FakeSocket(0);
  const sink = new TcpSink(s);
  sink.write(Uint8Array.of(1));
  expect(sink.backlogSince).toBeGreaterThan(0);
  sink.close('slow-consumer');
  sink.close('second call is ignored');
  expect(sink.closeReason).toBe('slow-consumer');
  expect(sink.backlogSince).toBe(0);
  expect(s.ended).toBe(true);
});
