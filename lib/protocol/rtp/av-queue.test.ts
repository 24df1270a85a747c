import { describe, expect, test } from 'bun:test';
import type { AvPacket } from '../../core/packet.ts';
import { AvTimestampQueue, AV_QUEUE_SIZE } from './av-queue.ts';

// LAL's AvPacketQueue tests work in ms; here 1 ms = 90 ticks.
const a = (ms: number): AvPacket => ({ kind: 'audio', codec: 'aac', dts: ms * 90, pts: ms * 90, key: true, units: [] });
const v = (ms: number): AvPacket => ({ kind: 'video', codec: 'h264', dts: ms * 90, pts: ms * 90, key: false, units: [] });
const show = (ps: AvPacket[]) => ps.map((p) => `${p.kind === 'audio' ? 'A' : 'V'}${p.dts / 90}`);

function run(input: AvPacket[], q = new AvTimestampQueue()): string[] {
  const out: AvPacket[] = [];
  for (const p of input) out.push(...q.push(p));
  return show(out);
}

/** LAL's golden: audio every 23 ms, video every 40 ms. */
const golden = [a(0), v(0), a(23), v(40), a(46), a(69), v(80), a(92), a(115), v(120)];
const goldenOut = show(golden.slice(0, -1));

describe('AvTimestampQueue (docs/media.md §6.2, LAL TestAvPacketQueue)', () => {
  test('audio only: nothing until the queue is full, then all of it', () => {
    expect(run([a(1)])).toEqual([]);
    const input = Array.from({ length: AV_QUEUE_SIZE + 1 }, (_, i) => a(i * 23));
    expect(run(input)).toEqual(show(input.slice(0, -1)));
  });

  test('video only, the same', () => {
    const input = Array.from({ length: AV_QUEUE_SIZE + 1 }, (_, i) => v(i * 40));
    expect(run(input)).toEqual(show(input.slice(0, -1)));
  });

  test('interleaved input', () => {
    expect(run(golden)).toEqual(goldenOut);
  });

  test('audio and video not in order relative to each other', () => {
    expect(run([a(0), a(23), a(46), a(69), v(0), v(40), v(80), v(120), a(92), a(115)])).toEqual(goldenOut);
  });

  test('tracks not starting at 0 nor at the same time are rebased on their own', () => {
    expect(run(golden.map((p) => (p.kind === 'audio' ? a(p.dts / 90 + 100) : v(p.dts / 90 + 10000))))).toEqual(goldenOut);
    expect(run([a(99), a(122), a(145), a(168), v(1234), v(1274), v(1314), v(1354), a(191), a(214)])).toEqual(goldenOut);
  });

  test('ties: the packet queued earlier goes first', () => {
    expect(run([a(4294967293), v(4294967294), a(4294967295)])).toEqual(['A0', 'V0']);
    expect(run([v(5), a(7)])).toEqual(['V0']);
    expect(run([v(5), a(7), v(6)])).toEqual(['V0', 'A0']);
  });

  test('timestamp rotation keeps steps (LAL TestAvPacketQueue__Rotate)', () => {
    const input = [
      v(4294564), v(4294604), v(4294644), v(4294684), v(4294724), v(4294764), v(4294804), v(4294844),
      a(4294756),
      v(4294884), v(4294924), v(4294924), v(4294924), v(4294964), v(37),
      a(4294916),
      v(77), v(117), v(157), v(197),
      a(109),
      v(237), v(277), v(317), v(357),
      a(269),
      v(397),
    ];
    const want = 'V0 A0 V40 V80 V120 V160 A160 V200 V240 V280 V320 A320 V360 V360 V360 V400 V440 V480 A480'.split(' ');
    expect(run(input)).toEqual(want);
  });

  test('a jump back below −1000 ms reuses the previous step; small steps back are kept; negatives become 0', () => {
    const q = new AvTimestampQueue();
    // video only, so read the rebased values through flush
    for (const p of [v(5000), v(5040), v(5080), v(1000), v(1040), v(1020), v(2000), v(1500), v(0)]) q.push(p);
    // 1000: −4080 → +40 again; 1020: −20 (B-frame) kept; 0: −1500 → the previous step (−500) again
    expect(show(q.flush())).toEqual(['V0', 'V40', 'V80', 'V120', 'V160', 'V140', 'V1120', 'V620', 'V120']);
    const n = new AvTimestampQueue();
    n.push(v(100));
    n.push(v(50));
    expect(show(n.flush())).toEqual(['V0', 'V0']);
  });

  test('pts − dts is kept; flush releases what is left', () => {
    const q = new AvTimestampQueue();
    const seen = (ps: AvPacket[]) => ps.map((p) => [p.kind, p.dts / 90, p.pts / 90]);
    expect(q.push({ ...v(1000), pts: 1080 * 90 })).toEqual([]);
    expect(seen(q.push(a(5000)))).toEqual([['video', 0, 80]]);
    expect(seen(q.push({ ...v(1040), pts: 1200 * 90 }))).toEqual([['audio', 0, 0]]);
    expect(seen(q.push(a(5050)))).toEqual([['video', 40, 200]]);
    expect(q.push(a(5010))).toEqual([]);
    expect(q.pending).toEqual([2, 0]);
    expect(seen(q.flush())).toEqual([
      ['audio', 50, 50],
      ['audio', 10, 10],
    ]);
    expect(q.pending).toEqual([0, 0]);
  });
});
