/**
 * GOP cache for late joiners (behaviour.md §5.1, design.md §1.4).
 * One neutral cache of FanoutPackets per stream; each output replays its own last `gopNum` GOPs,
 * truncated to `singleGopMaxFrameNum`, so one cache serves RTMP, HTTP-FLV and (later) HTTP-TS.
 * Opens only on a video key frame (audio-only streams cache nothing). Bounded by GOP count and
 * bytes: past MAX_GOP_CACHE_BYTES the oldest GOPs go; a single GOP that alone exceeds it is cut.
 */
import type { FanoutPacket } from './fanout.ts';

/** A GOP cache larger than this is a stream we should not be replaying anyway (≈ 30 s at 8 Mbps). */
export const MAX_GOP_CACHE_BYTES = 32 * 1024 * 1024;

function pktBytes(fp: FanoutPacket): number {
  const p = fp.pkt;
  if (p.flvBody) return p.flvBody.length;
  let n = 0;
  for (const u of p.units) n += u.length;
  return n;
}

interface Gop {
  packets: FanoutPacket[];
  bytes: number;
  full: boolean;
}

export class GopCache {
  private gops: Gop[] = [];
  private bytes = 0;
  /** Packets refused because a GOP hit the byte bound (reported by the stream's periodic log). */
  dropped = 0;

  constructor(readonly maxGops: number, readonly maxBytes = MAX_GOP_CACHE_BYTES) {}

  get gopCount(): number {
    return this.gops.length;
  }
  get byteSize(): number {
    return this.bytes;
  }

  feed(fp: FanoutPacket): void {
    if (this.maxGops <= 0) return;
    const n = pktBytes(fp);
    if (fp.isVideoKey) {
      this.gops.push({ packets: [fp], bytes: n, full: false });
      this.bytes += n;
      while (this.gops.length > this.maxGops) this.bytes -= this.gops.shift()!.bytes;
    } else {
      const g = this.gops[this.gops.length - 1];
      if (!g) return; // not open yet: wait for a key frame
      if (g.full) return;
      g.packets.push(fp);
      g.bytes += n;
      this.bytes += n;
    }
    while (this.bytes > this.maxBytes && this.gops.length > 1) this.bytes -= this.gops.shift()!.bytes;
    const last = this.gops[this.gops.length - 1];
    if (last && this.bytes > this.maxBytes) {
      // One GOP alone is over the bound: stop caching until the next key frame.
      last.full = true;
      this.dropped++;
    }
  }

  /** The last `gopNum` GOPs, each truncated to 1 + `maxFramesPerGop` packets (0 = unlimited). */
  replay(gopNum: number, maxFramesPerGop: number): FanoutPacket[] {
    if (gopNum <= 0 || this.gops.length === 0) return [];
    const from = Math.max(0, this.gops.length - gopNum);
    const out: FanoutPacket[] = [];
    for (let i = from; i < this.gops.length; i++) {
      const ps = this.gops[i].packets;
      const lim = maxFramesPerGop > 0 ? Math.min(ps.length, maxFramesPerGop + 1) : ps.length;
      for (let j = 0; j < lim; j++) out.push(ps[j]);
    }
    return out;
  }

  clear(): void {
    this.gops = [];
    this.bytes = 0;
  }
}
