/**
 * What the HTTP API needs from a running server (docs/architecture.md §1.2: `api` sees only this
 * interface; `lib/server` implements it and mounts the app). Spec: docs/http-api.md §3–§4, §5.
 *
 * The first four members are required. The others are optional: the app registers an endpoint
 * only when its member is implemented, otherwise that path answers LAL's "page not found" JSON
 * like any unknown path. Optional members may be async (opening a UDP port is).
 */
import type {
  LalInfo,
  StatGroup,
  StartRelayPullRequest,
  StartRtpPubRequest,
  AddIpBlacklistRequest,
} from './types.ts';

/** Outcome of a kick (docs/http-api.md §4.6): 0, 1001, 1003. */
export type KickResult = 'ok' | 'group-not-found' | 'session-not-found';

/** Outcome of start_relay_pull (§4.4): success, or 2001 with the reason text. */
export type StartRelayPullResult =
  | { status: 'ok'; stream_name: string; session_id: string }
  | { status: 'refused'; reason: string };

/** Outcome of stop_relay_pull (§4.5): success with the closed session's id, 1001, 1003. */
export type StopRelayPullResult =
  | { status: 'ok'; session_id: string }
  | { status: 'group-not-found' }
  | { status: 'session-not-found' };

/** Outcome of start_rtp_pub (§4.7): success, or 2002 with the listen error text. */
export type StartRtpPubResult =
  | { status: 'ok'; stream_name: string; session_id: string; port: number }
  | { status: 'failed'; reason: string };

export interface ServerControl {
  /** `/api/stat/lal_info` (§4.1). */
  lalInfo(): LalInfo;
  /** `/api/stat/group` (§4.2); `undefined` when no group has that name. */
  statGroup(streamName: string): StatGroup | undefined;
  /** `/api/stat/all_group` (§4.3); order unspecified. */
  statAllGroups(): StatGroup[];
  /** `/api/ctrl/kick_session` (§4.6): close the session (found by id prefix, then exact id). */
  kickSession(streamName: string, sessionId: string): KickResult;

  /**
   * `/api/ctrl/start_relay_pull` (§4.4). HTTP defaults are already applied to absent keys.
   * TODO(relay): implemented by lib/server/relay.ts (2026-11).
   */
  startRelayPull?(req: StartRelayPullRequest): StartRelayPullResult | Promise<StartRelayPullResult>;
  /**
   * `/api/ctrl/stop_relay_pull` (§4.5).
   * TODO(relay): implemented by lib/server/relay.ts (2026-11).
   */
  stopRelayPull?(streamName: string): StopRelayPullResult | Promise<StopRelayPullResult>;
  /**
   * `/api/ctrl/add_ip_blacklist` (§4.8): filters HLS requests from `ip` for `duration_sec`.
   * TODO(hls): implemented with the HLS session handler (2026-11).
   */
  addIpBlacklist?(req: AddIpBlacklistRequest): void | Promise<void>;
  /**
   * `/api/ctrl/start_rtp_pub` (§4.7): open a PS-over-RTP receiver feeding a group.
   * TODO(gb28181): implemented by lib/server/sessions/gb28181.ts (2026-11).
   */
  startRtpPub?(req: StartRtpPubRequest): StartRtpPubResult | Promise<StartRtpPubResult>;
}
