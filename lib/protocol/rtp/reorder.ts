/**
 * Sequence-number re-ordering for RTP over UDP (docs/media.md §6.1): packets come out in sequence
 * order; duplicates and packets older than what was already delivered are dropped; a gap is
 * waited for until the window is full, then the missing packets are declared lost and what
 * follows is delivered (the depacketiser then drops the fragmented units the gap broke).
 * Sequence numbers are compared modulo 2^16 (RFC 3550 §A.1).
 */
import { LalError } from '../../core/errors.ts';
import type { RtpPacket } from './packet.ts';

/** LAL's per-track buffer: up to 1024 packets waiting for a gap to fill. */
export const DEFAULT_REORDER_WINDOW = 1024;
/**
 * Consecutive "late" packets after which the sender is taken to have restarted its sequence
 * numbers (a camera reboot, a new random start) and the buffer resynchronises on them.
 */
export const REORDER_RESYNC_AFTER = 64;

export interface ReorderStats {
  /** Sequence numbers skipped over as lost. */
  lost: number;
  /** Packets dropped as duplicates or as older than the delivered ones. */
  late: number;
  /** Resynchronisations after REORDER_RESYNC_AFTER late packets in a row. */
  resyncs: number;
}

export class RtpReorderBuffer<T extends RtpPacket = RtpPacket> {
  readonly stats: ReorderStats = { lost: 0, late: 0, resyncs: 0 };
  private readonly slots: (T | undefined)[];
  /** Slot of `expected`. */
  private head = 0;
  /** Next sequence number to deliver; -1 before the first packet. */
  private expected = -1;
  private count = 0;
  private lateRun = 0;

  constructor(readonly window = DEFAULT_REORDER_WINDOW) {
    if (!Number.isInteger(window) || window < 1 || window > 0x8000) throw new LalError('rtp-options', `rtp: reorder window ${window} is not 1..32768`);
    this.slots = new Array(window).fill(undefined);
  }

  /** Packets buffered, waiting for a gap to fill. */
  get buffered(): number {
    return this.count;
  }

  /** Add one packet; returns the packets that are now in order (possibly none). */
  push(pkt: T): T[] {
    const seq = pkt.header.sequenceNumber & 0xffff;
    const out: T[] = [];
    if (this.expected < 0) this.expected = seq;
    let diff = (seq - this.expected) & 0xffff;
    if (diff >= 0x8000) {
      // before `expected`: already delivered, skipped as lost, or a duplicate of one of those
      if (++this.lateRun < REORDER_RESYNC_AFTER) {
        this.stats.late++;
        return out;
      }
      // the packet that triggers the resync is delivered, so it is not counted as late
      this.stats.resyncs++;
      this.drain(out);
      this.expected = seq;
      diff = 0;
    }
    this.lateRun = 0;
    if (diff >= this.window) {
      // beyond the window: the oldest gaps can no longer be filled
      this.advanceUntil(seq, out);
      diff = (seq - this.expected) & 0xffff;
    }
    const slot = (this.head + diff) % this.window;
    if (this.slots[slot] !== undefined) {
      this.stats.late++; // duplicate of a buffered packet
      return out;
    }
    this.slots[slot] = pkt;
    this.count++;
    this.deliverRun(out);
    return out;
  }

  /** Deliver everything buffered in order, skipping gaps (end of stream). */
  flush(): T[] {
    const out: T[] = [];
    this.drain(out);
    return out;
  }

  /** Deliver the run of contiguous packets starting at `expected`. */
  private deliverRun(out: T[]): void {
    for (;;) {
      const p = this.slots[this.head];
      if (p === undefined) return;
      out.push(p);
      this.slots[this.head] = undefined;
      this.count--;
      this.step();
    }
  }

  /** Slide the window until `seq` fits in it, delivering buffered packets and counting gaps as lost. */
  private advanceUntil(seq: number, out: T[]): void {
    while (this.count > 0 && ((seq - this.expected) & 0xffff) >= this.window) {
      const p = this.slots[this.head];
      if (p === undefined) this.stats.lost++;
      else {
        out.push(p);
        this.slots[this.head] = undefined;
        this.count--;
      }
      this.step();
    }
    const diff = (seq - this.expected) & 0xffff;
    if (diff >= this.window) {
      // nothing buffered: jump straight to seq (bounded work whatever the jump)
      this.stats.lost += diff;
      this.expected = seq;
      this.head = 0;
    } else {
      this.deliverRun(out);
    }
  }

  private drain(out: T[]): void {
    for (let i = 0; i < this.window && this.count > 0; i++) {
      const p = this.slots[this.head];
      if (p !== undefined) {
        out.push(p);
        this.slots[this.head] = undefined;
        this.count--;
      }
      this.step();
    }
    this.head = 0;
    this.expected = -1;
  }

  private step(): void {
    this.head = (this.head + 1) % this.window;
    this.expected = (this.expected + 1) & 0xffff;
  }
}
