import { describe, expect, test } from 'bun:test';
import { fakeConn } from './_testing.ts';
import { MAX_PENDING_REPLY_BYTES, closeAfterFlush, repliesOverBound } from './reply-bound.ts';

/** A TcpSink over a socket that takes `room` bytes, then nothing until `read`. */
function sink(room: number) {
  const f = fakeConn(room);
  return { s: f.conn.sink, ended: f.ended, read: f.read };
}

describe('reply bounds', () => {
  test('repliesOverBound: only past the limit', () => {
    const a = sink(0);
    a.s.write(new Uint8Array(MAX_PENDING_REPLY_BYTES));
    expect(repliesOverBound(a.s)).toBe(false);
    a.s.write(new Uint8Array(1));
    expect(repliesOverBound(a.s)).toBe(true);
  });

  test('closeAfterFlush: ends once the last answer is read, or drops it after the timeout', async () => {
    const a = sink(0);
    a.s.write(new Uint8Array(100));
    closeAfterFlush(a.s, 100);
    expect(a.ended()).toBe(false);
    a.read(100);
    expect(a.ended()).toBe(true);

    const b = sink(0);
    b.s.write(new Uint8Array(100));
    closeAfterFlush(b.s, 50);
    await Bun.sleep(120);
    expect(b.ended()).toBe(true);
    expect(b.s.pendingBytes).toBe(0);

    const c = sink(1000);
    c.s.write(new Uint8Array(10));
    closeAfterFlush(c.s, 50);
    expect(c.ended()).toBe(true); // nothing pending: at once
  });
});
