/**
 * JSON objects of the HTTP API (docs/http-api.md §3, §4). Keys are LAL's, in the documented
 * order (the app re-emits them in this order whatever order a ServerControl builds them in).
 */

/** docs/http-api.md §3.1. Note the CamelCase `WebUiVersion` (docs/quirks.md Q-API-1, kept). */
export interface LalInfo {
  server_id: string;
  /** `GitTag=<t>. GitCommitLog=<c>. GitStatus=<s>. BuildTime=<b>. GoVersion=<g>. runtime=<os>/<arch>.` */
  bin_info: string;
  lal_version: string;
  api_version: string;
  notify_version: string;
  WebUiVersion: string;
  /** Readable time (docs/http-api.md §3.5, `lib/core/time-format.ts`). */
  start_time: string;
}

/** docs/http-api.md §3.3. All-zero (`''`/`0`) when a slot (pub, pull) is empty. */
export interface StatSession {
  session_id: string;
  /** `RTMP`, `RTSP`, `FLV`, `TS`, `PS`, `HLS` (or `''` for an empty slot). */
  protocol: string;
  /** `PUB`, `SUB`, `PULL`, `PUSH`, `PUBSUB` (or `''`). */
  base_type: string;
  remote_addr: string;
  start_time: string;
  read_bytes_sum: number;
  wrote_bytes_sum: number;
  bitrate_kbits: number;
  read_bitrate_kbits: number;
  write_bitrate_kbits: number;
}

/** One entry of `in_frame_per_sec`: video messages received during `unix_sec`. */
export interface FrameRecord {
  unix_sec: number;
  v: number;
}

/** docs/http-api.md §3.2. */
export interface StatGroup {
  stream_name: string;
  app_name: string;
  /** `''`, `AAC`, `PCMU`, `PCMA`, `OPUS`. */
  audio_codec: string;
  /** `''`, `H264`, `H265`. */
  video_codec: string;
  video_width: number;
  video_height: number;
  pub: StatSession;
  /** `null` when there is no player (docs/quirks.md Q-API-2, kept), never `[]`. */
  subs: StatSession[] | null;
  pull: StatSession;
  /** Newest first, at most 32 entries; `[]` when nothing recorded. */
  in_frame_per_sec: FrameRecord[];
}

/** Body of `/api/ctrl/kick_session` (docs/http-api.md §4.6); both keys required. */
export interface KickSessionRequest {
  stream_name: string;
  session_id: string;
}

/**
 * Body of `/api/ctrl/start_relay_pull` (docs/http-api.md §4.4) after HTTP defaults were applied to
 * absent keys. `stream_name` `''` means "derive it from the last path segment of `url`" (the
 * server does that, since an unparsable URL is a 2001 error there).
 */
export interface StartRelayPullRequest {
  url: string;
  stream_name: string;
  pull_timeout_ms: number;
  pull_retry_num: number;
  auto_stop_pull_after_no_out_ms: number;
  rtsp_mode: number;
  debug_dump_packet: string;
}

/** Body of `/api/ctrl/start_rtp_pub` (docs/http-api.md §4.7) after HTTP defaults. */
export interface StartRtpPubRequest {
  stream_name: string;
  port: number;
  timeout_ms: number;
  is_tcp_flag: number;
  debug_dump_packet: string;
}

/** Body of `/api/ctrl/add_ip_blacklist` (docs/http-api.md §4.8); both keys required. */
export interface AddIpBlacklistRequest {
  ip: string;
  duration_sec: number;
}

/** `{error_code, desp[, data]}` (docs/http-api.md §2). */
export interface ApiEnvelope<D = unknown> {
  error_code: number;
  desp: string;
  data?: D;
}
