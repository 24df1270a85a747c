/**
 * What every session of a running server shares: config, hub, id generator, logger and the
 * registry of live sessions (for timeouts and the tick).
 */
import type { Logger } from '../core/log.ts';
import type { LalConfig } from './config.ts';
import type { StreamHub } from './hub.ts';
import type { SessionIdGen, SessionStat } from './stat.ts';
import type { SegmentStore } from '../protocol/hls/store.ts';
import type { HlsSessions, HlsSubSession } from '../protocol/hls/sessions.ts';
import type { BranchDef } from './stream.ts';
import type { TsBranch } from './ts-branch.ts';
import type { RtpBranch } from './rtp-branch.ts';

/** Anything with a socket the server must be able to time out and close. */
export interface LiveSession {
  readonly stat: SessionStat;
  /** Called every second by the server tick. */
  tick(nowMs: number): void;
  close(reason: string): void;
  /** Refresh the bitrates of this session (and of any session it tracks); default: `stat`'s. */
  updateBitrate?(intervalSec: number): void;
}

/** The tracked HLS players as the media HTTP port uses them (docs/hls.md §7). */
export interface HlsPlayerTracker extends LiveSession {
  readonly enabled: boolean;
  readonly table: HlsSessions;
  /** A new session for a playlist request without session_id; undefined when the table is full. */
  create(info: { streamName: string; appName: string; url: string; urlParam: string; remoteAddr: string }): HlsSubSession | undefined;
}

/** Library-only tuning (not LAL config keys): the slow-player bounds of every output. */
export interface OutputLimits {
  softPendingBytes?: number;
  hardPendingBytes?: number;
  drainTimeoutMs?: number;
}

export interface ServerContext {
  readonly config: LalConfig;
  readonly limits: OutputLimits;
  readonly hub: StreamHub;
  readonly ids: SessionIdGen;
  readonly log: Logger;
  readonly sessions: Set<LiveSession>;
  /** Where HLS files live (disk, or memory with `use_memory_as_disk_flag`); undefined when HLS is off. */
  readonly hlsStore?: SegmentStore;
  /** How to create each stream's branches: MPEG-TS (when HTTP-TS, HLS or TS recording is on) and RTP. */
  readonly branches: { readonly ts?: BranchDef<TsBranch>; readonly rtp: BranchDef<RtpBranch> };
  /** HLS player sessions (only with `hls.sub_session_hash_key`; lib/server/sessions/hls.ts). */
  hlsSessions?: HlsPlayerTracker;
}

/** A connection that has not published or played after this long is closed (docs/quirks.md Q-TMO-1). */
export const COMMAND_PHASE_TIMEOUT_MS = 10_000;
/** A publisher that sent nothing for this long is closed (docs/behaviour.md §12, read timeout). */
export const PUBLISHER_READ_TIMEOUT_MS = 120_000;
