/**
 * ByteSink: how every output writes bytes (docs/architecture.md §1.4). Implementations live in lib/net.
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
  /**
   * performance.now() of the moment `pendingBytes` last went from 0 to more than 0, or 0 while
   * nothing is pending: how long the current backlog has lasted, however it shrank meanwhile.
   * (Optional until every sink has it; absent means "not tracked".)
   */
  readonly backlogSince?: number;
  readonly closed: boolean;
  /** Why the sink was closed, when the closer said (for the log line). */
  readonly closeReason?: string;
  /** Called when pending bytes have been flushed completely. */
  onDrain?: () => void;
  /** Close the underlying connection (after flushing what the kernel took); `reason` is kept. */
  close(reason?: string): void;
}

/** In-memory sink for tests and for recorders that collect bytes. */
export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  bytesWritten = 0;
  pendingBytes = 0;
  lastProgressAt = performance.now();
  /** Nothing is ever pending. */
  readonly backlogSince = 0;
  closed = false;
  closeReason: string | undefined;
  onDrain?: () => void;
  write(buf: Uint8Array): boolean {
    if (this.closed) return false;
    this.chunks.push(buf);
    this.bytesWritten += buf.length;
    return true;
  }
  close(reason?: string): void {
    if (!this.closed) this.closeReason = reason;
    this.closed = true;
  }
}
