/**
 * ByteSink: how every output writes bytes (design.md §1.4). Implementations live in lib/net.
 * `write` never blocks and never drops silently: what the socket did not take is queued (as a
 * view of the caller's shared buffer) and `pendingBytes` says how much; the subscriber policy
 * decides when that is too much.
 */
export interface ByteSink {
  /** Queue or send `buf`. Returns false when bytes are now pending (or the sink is closed). */
  write(buf: Uint8Array): boolean;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Bytes handed to the kernel so far. */
  readonly bytesWritten: number;
  /** performance.now() of the last moment the pending queue was empty or shrank. */
  readonly lastProgressAt: number;
  /** performance.now() when pendingBytes last went from 0 to more (0 or absent: nothing pending). */
  readonly backlogSince?: number;
  readonly closed: boolean;
  /** Called when pending bytes have been flushed completely. */
  onDrain?: () => void;
  /** Close the underlying connection (after flushing what the kernel took). */
  close(): void;
}

/** In-memory sink for tests and for recorders that collect bytes. */
export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  bytesWritten = 0;
  pendingBytes = 0;
  lastProgressAt = performance.now();
  closed = false;
  onDrain?: () => void;
  write(buf: Uint8Array): boolean {
    if (this.closed) return false;
    this.chunks.push(buf);
    this.bytesWritten += buf.length;
    return true;
  }
  close(): void {
    this.closed = true;
  }
}
