import { describe, expect, test } from 'bun:test';
import { MAX_FORWARD_JUMP_TICKS, RTMP_WRAP_TICKS, TimestampNormalizer, ticksToFlvMs } from './timestamp.ts';

const run = (n: TimestampNormalizer, kind: string, ds: number[], cts = 0) => ds.map((d) => n.normalize(kind, d, d + cts));

describe('TimestampNormalizer', () => {
  test('a clean stream is unchanged (including the B-frame composition offset)', () => {
    const n = new TimestampNormalizer();
    const ds = Array.from({ length: 50 }, (_, i) => 1000 + i * 3600);
    expect(run(n, 'video', ds, 7200)).toEqual(ds.map((d) => ({ dts: d, pts: d + 7200 })));
    expect(n.corrections).toEqual({ wraps: 0, nonMonotonic: 0, jumpsForward: 0, jumpsBackward: 0 });
  });

  test('unwraps the 32-bit RTMP millisecond wrap', () => {
    const n = new TimestampNormalizer();
    const top = RTMP_WRAP_TICKS - 3600 * 2;
    const out = run(n, 'video', [top, top + 3600, 0, 3600]);
    expect(out.map((x) => x.dts)).toEqual([top, top + 3600, RTMP_WRAP_TICKS, RTMP_WRAP_TICKS + 3600]);
    expect(n.corrections.wraps).toBe(1);
  });

  test('jumps forward and backward are smoothed with the last step and counted', () => {
    const n = new TimestampNormalizer();
    const out = run(n, 'audio', [0, 1920, 3840, 3840 + MAX_FORWARD_JUMP_TICKS * 3, 3840 + MAX_FORWARD_JUMP_TICKS * 3 + 1920, 100, 2020]);
    expect(out.map((x) => x.dts)).toEqual([0, 1920, 3840, 5760, 7680, 9600, 11520]);
    expect(n.corrections.jumpsForward).toBe(1);
    expect(n.corrections.jumpsBackward).toBe(1);
  });

  test('small steps back are clamped (non-monotonic DTS), kinds are independent', () => {
    const n = new TimestampNormalizer();
    expect(run(n, 'video', [9000, 8000, 12600]).map((x) => x.dts)).toEqual([9000, 9000, 12600]);
    expect(n.corrections.nonMonotonic).toBe(1);
    expect(run(n, 'audio', [0, 100]).map((x) => x.dts)).toEqual([0, 100]);
  });
});

describe('ticksToFlvMs', () => {
  test('floor of ticks / 90: exact for RTMP input, truncating (as LAL) otherwise', () => {
    expect(ticksToFlvMs(3000 * 90)).toBe(3000);
    expect(ticksToFlvMs(3000 * 90 + 89)).toBe(3000);
    expect(ticksToFlvMs(3003 * 2)).toBe(66); // 66.73 ms: rounding would say 67
    expect(ticksToFlvMs(0)).toBe(0);
    expect(ticksToFlvMs(2 ** 32 * 90 - 1)).toBe(2 ** 32 - 1);
  });

  test('negative ticks floor towards −∞: the same step on both sides of 0', () => {
    expect(ticksToFlvMs(-1)).toBe(-1);
    expect(ticksToFlvMs(-90)).toBe(-1);
    expect(ticksToFlvMs(-91)).toBe(-2);
    const steps = [-3003 * 3, -3003 * 2, -3003, 0, 3003, 3003 * 2].map(ticksToFlvMs);
    expect(steps).toEqual([-101, -67, -34, 0, 33, 66]);
  });
});
