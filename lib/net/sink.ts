/**
 * TcpSink: the ByteSink over a Bun TCP/TLS socket (docs/architecture.md §1.4).
 * Bun's `socket.write` takes what the kernel accepts *now* and returns the count; the rest is ours
 * to keep (ignoring that loses data, oven-sh/bun#16076). We queue the unwritten tail as a view of
 * the caller's shared buffer — never a copy — and flush the FIFO in order on `drain`.
 */
import type { ByteSink } from '../core/sink.ts';

/** The subset of Bun's Socket we use (kept small so tests can fake it). */
export interface RawSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate?(): void;
}

export class TcpSink implements ByteSink {
  private queue: Uint8Array[] = [];
  private qHead = 0;
  pendingBytes = 0;
  bytesWritten = 0;
  lastProgressAt = performance.now();
  /** performance.now() when the current backlog began (pendingBytes 0 → > 0); 0 when none. */
  backlogSince = 0;
  closed = false;
  /** Why close() was called, when the caller said. */
  closeReason: string | undefined;
  onDrain?: () => void;

  constructor(private readonly socket: RawSocket) {}

  write(buf: Uint8Array): boolean {
    if (this.closed) return false;
    if (buf.length === 0) return this.pendingBytes === 0;
    if (this.pendingBytes > 0) {
      this.queue.push(buf);
      this.pendingBytes += buf.length;
      return false;
    }
    const n = this.socket.write(buf);
    if (n > 0) this.bytesWritten += n;
    if (n >= buf.length) return true;
    const rest = n > 0 ? buf.subarray(n) : buf;
    this.queue.push(rest);
    this.pendingBytes += rest.length;
    this.backlogSince = performance.now();
    if (n < 0) this.closed = true; // socket already closed
    return false;
  }

  /** Call from the socket's `drain` handler. */
  handleDrain(): void {
    if (this.closed) return;
    while (this.qHead < this.queue.length) {
      const head = this.queue[this.qHead];
      const n = this.socket.write(head);
      if (n > 0) {
        this.bytesWritten += n;
        this.pendingBytes -= Math.min(n, head.length);
        this.lastProgressAt = performance.now();
      }
      if (n < head.length) {
        if (n > 0) this.queue[this.qHead] = head.subarray(n);
        if (n < 0) this.closed = true;
        return;
      }
      this.qHead++;
    }
    this.queue = [];
    this.qHead = 0;
    this.pendingBytes = 0;
    this.backlogSince = 0;
    this.lastProgressAt = performance.now();
    this.onDrain?.();
  }

  /** Drop anything pending and end the connection; `reason` is kept in closeReason. */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.queue = [];
    this.qHead = 0;
    this.pendingBytes = 0;
    this.backlogSince = 0;
    try {
      this.socket.end();
    } catch {
      /* already gone */
    }
  }

  /** End after the pending bytes are flushed (small control replies such as a 404 body). */
  closeAfterFlush(): void {
    if (this.pendingBytes === 0) return this.close();
    const prev = this.onDrain;
    this.onDrain = () => {
      prev?.();
      this.close();
    };
  }
}
