/**
 * The GOP cache for late joiners (docs/behaviour.md §5.1, docs/architecture.md §1.4), generic over
 * the unit it keeps: the stream keeps FanoutPackets (RTMP, HTTP-FLV, WS-FLV players and branches
 * created mid-stream), the MPEG-TS branch keeps TS frames (HTTP-TS players, docs/behaviour.md §5.4).
 *
 * A GOP opens at a start unit (a video key frame; a TS boundary) and the cache holds nothing before
 * the first one. Bounded by GOP count and by bytes: past `maxBytes` the oldest GOPs go; a single
 * GOP that alone exceeds it stops growing until the next start unit (its refused units are
 * counted in `dropped`, which the owner reports).
 */

/** A GOP cache larger than this is a stream we should not be replaying anyway (≈ 30 s at 8 Mbps). */
export const MAX_GOP_CACHE_BYTES = 32 * 1024 * 1024;

interface Gop<U> {
  units: U[];
  bytes: number;
  full: boolean;
}

export class GopCache<U> {
  private gops: Gop<U>[] = [];
  private bytes = 0;
  /** Units refused because one GOP alone hit the byte bound (reported by the owner, then reset). */
  dropped = 0;

  constructor(
    readonly maxGops: number,
    private readonly sizeOf: (u: U) => number,
    readonly maxBytes = MAX_GOP_CACHE_BYTES,
  ) {}

  get gopCount(): number {
    return this.gops.length;
  }
  get byteSize(): number {
    return this.bytes;
  }

  /** Keep `u`; `start` says it opens a GOP (a video key frame, a TS boundary). */
  feed(u: U, start: boolean): void {
    if (this.maxGops <= 0) return;
    const n = this.sizeOf(u);
    if (start) {
      this.gops.push({ units: [u], bytes: n, full: false });
      this.bytes += n;
      while (this.gops.length > this.maxGops) this.bytes -= this.gops.shift()!.bytes;
    } else {
      const g = this.gops[this.gops.length - 1];
      if (!g) return; // not open yet: wait for a start unit
      if (g.full) {
        this.dropped++;
        return;
      }
      g.units.push(u);
      g.bytes += n;
      this.bytes += n;
    }
    while (this.bytes > this.maxBytes && this.gops.length > 1) this.bytes -= this.gops.shift()!.bytes;
    const last = this.gops[this.gops.length - 1];
    if (last && this.bytes > this.maxBytes && !last.full) {
      // One GOP alone is over the bound: stop caching until the next start unit.
      last.full = true;
      this.dropped++;
    }
  }

  /** The last `gopNum` GOPs, each truncated to 1 + `maxUnitsPerGop` units (0 = unlimited). */
  replay(gopNum: number, maxUnitsPerGop: number): U[] {
    if (gopNum <= 0 || this.gops.length === 0) return [];
    const from = Math.max(0, this.gops.length - gopNum);
    const out: U[] = [];
    for (let i = from; i < this.gops.length; i++) {
      const us = this.gops[i].units;
      const lim = maxUnitsPerGop > 0 ? Math.min(us.length, maxUnitsPerGop + 1) : us.length;
      for (let j = 0; j < lim; j++) out.push(us[j]);
    }
    return out;
  }

  clear(): void {
    this.gops = [];
    this.bytes = 0;
  }
}
