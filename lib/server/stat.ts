/**
 * Session ids, byte/bitrate accounting and the per-second frame ring (docs/http-api.md §3.3–§3.4).
 * Held by the server instance (no module state, docs/architecture.md §1.7 rule 10).
 */
import { formatReadableTime } from '../core/time-format.ts';

/** `<PREFIX><n>`, one counter per prefix, starting at 1 for the server's lifetime. */
export class SessionIdGen {
  private counters = new Map<string, number>();
  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }
}

export type Protocol = 'RTMP' | 'RTSP' | 'FLV' | 'TS' | 'PS' | 'HLS';
export type BaseType = 'PUB' | 'SUB' | 'PULL' | 'PUSH' | 'PUBSUB';

/** Bytes and rates of one session; rates are refreshed by the server tick every 5 s. */
export class SessionStat {
  readonly startTime = formatReadableTime(new Date());
  readBytes = 0;
  wroteBytes = 0;
  readBitrateKbits = 0;
  writeBitrateKbits = 0;
  private lastRead = 0;
  private lastWrote = 0;
  /** When set, byte counters are read from the session's socket/sink instead of being pushed. */
  source?: { read(): number; wrote(): number };

  constructor(
    readonly sessionId: string,
    readonly protocol: Protocol,
    public baseType: BaseType,
    readonly remoteAddr: string,
  ) {}

  /** LAL: bytes_delta * 8 / 1024 / interval, truncated. */
  refresh(): void {
    if (!this.source) return;
    this.readBytes = this.source.read();
    this.wroteBytes = this.source.wrote();
  }

  updateBitrate(intervalSec: number): void {
    this.refresh();
    this.readBitrateKbits = Math.floor(((this.readBytes - this.lastRead) * 8) / 1024 / intervalSec);
    this.writeBitrateKbits = Math.floor(((this.wroteBytes - this.lastWrote) * 8) / 1024 / intervalSec);
    this.lastRead = this.readBytes;
    this.lastWrote = this.wroteBytes;
  }

  toJSON() {
    this.refresh();
    const isIn = this.baseType === 'PUB' || this.baseType === 'PULL';
    return {
      session_id: this.sessionId,
      protocol: this.protocol,
      base_type: this.baseType,
      remote_addr: this.remoteAddr,
      start_time: this.startTime,
      read_bytes_sum: this.readBytes,
      wrote_bytes_sum: this.wroteBytes,
      bitrate_kbits: isIn ? this.readBitrateKbits : this.writeBitrateKbits,
      read_bitrate_kbits: this.readBitrateKbits,
      write_bitrate_kbits: this.writeBitrateKbits,
    };
  }
}

export const EMPTY_STAT_SESSION = {
  session_id: '',
  protocol: '',
  base_type: '',
  remote_addr: '',
  start_time: '',
  read_bytes_sum: 0,
  wrote_bytes_sum: 0,
  bitrate_kbits: 0,
  read_bitrate_kbits: 0,
  write_bitrate_kbits: 0,
};

/**
 * Video messages per wall-clock second in a 32-slot ring indexed by unix_sec % 32
 * (docs/http-api.md §3.2 `in_frame_per_sec`): newest first, current second excluded.
 */
export class PeriodRecord {
  private secs = new Array<number>(32).fill(0);
  private vals = new Array<number>(32).fill(0);

  add(unixSec: number, n = 1): void {
    const i = unixSec % 32;
    if (this.secs[i] !== unixSec) {
      this.secs[i] = unixSec;
      this.vals[i] = 0;
    }
    this.vals[i] += n;
  }

  list(nowUnixSec: number): { unix_sec: number; v: number }[] {
    const out: { unix_sec: number; v: number }[] = [];
    for (let i = 0; i < 32; i++) {
      if (this.secs[i] !== 0 && this.secs[i] < nowUnixSec) out.push({ unix_sec: this.secs[i], v: this.vals[i] });
    }
    out.sort((a, b) => b.unix_sec - a.unix_sec);
    return out;
  }
}
