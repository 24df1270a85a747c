/**
 * The bound on replies waiting for a client that does not read (docs/architecture.md §1.7).
 *
 * Requests are cheap to pipeline and every one is answered, so a client that sends without
 * reading can make a session queue replies without limit (an OPTIONS flood, RTMP pings). Players
 * have the slow-player policy of their output (SinkGuard); everything a session writes outside
 * one — RTSP before PLAY, RTSP publishers, RTMP before play and RTMP publishers — is bounded
 * here: once more than MAX_PENDING_REPLY_BYTES wait in the session's sink, the session closes as
 * slow-consumer. A client that reads its answers never comes near it (they are a few hundred
 * bytes each, an SDP at most a few KiB). A closing session's last answer is bounded in time.
 */
import type { ByteSink } from '../../core/sink.ts';
import { DRAIN_TIMEOUT_MS } from '../output.ts';

/** Reply bytes allowed to wait for a client that does not read. */
export const MAX_PENDING_REPLY_BYTES = 1024 * 1024;

/** True when `sink` holds more unsent replies than allowed (the caller closes as slow-consumer). */
export function repliesOverBound(sink: ByteSink, limit = MAX_PENDING_REPLY_BYTES): boolean {
  return sink.pendingBytes > limit;
}

/** A sink that can end after flushing (lib/net's TcpSink). */
export interface FlushableSink {
  readonly closed: boolean;
  closeAfterFlush(): void;
  close(): void;
}

/**
 * End the connection once its last answer is sent — or, when the client does not read it, drop
 * it after `timeoutMs` (the slow-player drain timeout): a closing session no longer ticks, so
 * without this an unread answer (an HLS fragment, a TEARDOWN behind queued media) would hold
 * its bytes and the socket for as long as the peer stays connected.
 */
export function closeAfterFlush(sink: FlushableSink, timeoutMs = DRAIN_TIMEOUT_MS): void {
  sink.closeAfterFlush();
  if (sink.closed) return;
  const t = setTimeout(() => sink.close(), timeoutMs);
  (t as { unref?: () => void }).unref?.();
}
