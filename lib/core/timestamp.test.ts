import { describe, expect, test } from 'bun:test';
import { MAX_FORWARD_JUMP_TICKS, RTMP_WRAP_TICKS, TimestampNormalizer } from './timestamp.ts';

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
