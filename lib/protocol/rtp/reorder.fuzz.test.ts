/**
 * Seeded fuzz test of the RTP re-ordering buffer (issue #9): 100,000 random and mutated
 * sequence-number series (two bytes each) under several window sizes. It never throws, never
 * holds more than its window, delivers each packet at most once, accounts for every packet
 * (delivered + dropped as late = pushed) and delivers in sequence order between resyncs.
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { rtpPacket } from './_testing.ts';
import type { RtpPacket } from './packet.ts';
import { DEFAULT_REORDER_WINDOW, RtpReorderBuffer } from './reorder.ts';

function series(seqs: number[]): Uint8Array {
  return Uint8Array.from(seqs.flatMap((s) => [(s >> 8) & 0xff, s & 0xff]));
}
const run = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + i) & 0xffff);
const CORPUS = [
  series([...run(100, 10), 112, 111, 110, 113, 113, 105, ...run(114, 20)]), // swaps, a duplicate, a late one
  series([...run(65530, 12), 3, 4, 20, 21, ...run(5, 15)]), // across the wrap, with a gap
  series([...run(1000, 5), ...run(40000, 70), ...run(1005, 5)]), // a restart: far jump, then the old numbers again
];
const WINDOWS = [DEFAULT_REORDER_WINDOW, 1, 2, 7, 64];

describe('RtpReorderBuffer fuzz', () => {
  test('100,000 series: never throws, bounded, every packet accounted for, in order between resyncs', () => {
    const r = fuzz('rtp reorder buffer', { seed: 0x5e9, corpus: CORPUS, maxRandomLength: 400, allowed: [] }, ({ input, rnd }) => {
      const window = WINDOWS[Math.floor(rnd() * WINDOWS.length)];
      const b = new RtpReorderBuffer(window);
      const seen = new Set<RtpPacket>();
      let pushed = 0;
      let delivered = 0;
      let last: number | undefined;
      const take = (out: RtpPacket[], resynced: boolean) => {
        if (resynced) {
          // a resync delivers what was buffered, then the packet it restarts from
          take(out.slice(0, -1), false);
          last = undefined;
          out = out.slice(-1);
        }
        for (const p of out) {
          fuzzCheck(!seen.has(p), 'delivered once');
          seen.add(p);
          const s = p.header.sequenceNumber;
          // each delivery moves forward by 1..2^15 (a step of exactly 2^15 is "ahead" for the buffer)
          fuzzCheck(last === undefined || (((s - last) & 0xffff) >= 1 && ((s - last) & 0xffff) <= 0x8000), () => `${s} delivered after ${last}`);
          last = s;
          delivered++;
        }
      };
      for (let i = 0; i + 1 < input.length; i += 2) {
        const resyncs = b.stats.resyncs;
        const out = b.push(rtpPacket(96, (input[i] << 8) | input[i + 1], i, false, input.subarray(i, i + 2)));
        pushed++;
        take(out, b.stats.resyncs !== resyncs);
        fuzzCheck(b.buffered <= window, () => `${b.buffered} buffered, window ${window}`);
      }
      take(b.flush(), false);
      fuzzCheck(b.buffered === 0, 'flush empties the buffer');
      fuzzCheck(delivered + b.stats.late === pushed, () => `${delivered} delivered + ${b.stats.late} late of ${pushed} pushed`);
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
