/**
 * The HTTP API and web UI as a Hono app (docs/http-api.md §1–§4.9; docs/quirks.md Q-API-1..4).
 *
 * LAL's transport rules, kept: routing by exact path, any HTTP method (docs/quirks.md Q-API-4), status 200 for
 * every answer including errors and unknown paths (docs/quirks.md Q-API-3), `Content-Type: application/json`,
 * `Server: lal<version>` and the CORS trio on every JSON answer, one JSON object without a
 * trailing newline, keys in the documented order, `&<>` escaped as Go's encoder does.
 * A handler never yields a 500: a thrown error becomes `{"error_code":500,"desp":"internal
 * error: …"}` [PROPOSED] (with the endpoint's error `data` shape) and is logged.
 *
 * Only Hono; `lal.html` is imported as text (so a bundled `lal`, dist/, carries it too);
 * `lib/server` serves it.
 */
import { Hono, type Context } from 'hono';
import { errorText } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { LAL_VERSION } from '../core/version.ts';
import type { ServerControl } from './control.ts';
import lalHtml from './lal.html' with { type: 'text' };
import type {
  LalInfo,
  StatGroup,
  StatSession,
  FrameRecord,
  KickSessionRequest,
  StartRelayPullRequest,
  StartRtpPubRequest,
  AddIpBlacklistRequest,
} from './types.ts';

/** `error_code` values (docs/http-api.md §2). */
export const ApiErrorCode = {
  Succ: 0,
  PageNotFound: 404,
  /** [PROPOSED] a handler threw; not an upstream code. */
  Internal: 500,
  GroupNotFound: 1001,
  ParamMissing: 1002,
  SessionNotFound: 1003,
  RelayPullFailed: 2001,
  RtpPubFailed: 2002,
} as const;

/** Fixed `desp` texts (docs/http-api.md §2; the 404 text is upstream HEAD's, docs/quirks.md Q-CFG-4). */
export const ApiDesp = {
  Succ: 'succ',
  PageNotFound: 'page not found, check this document out: lal',
  GroupNotFound: 'group not found',
  ParamMissing: 'param missing',
  SessionNotFound: 'session not found',
} as const;

/** Value of the `Server` header: `lal` + version without a leading `v`. */
export const SERVER_HEADER = `lal${LAL_VERSION.replace(/^v/, '')}`;

/** API bodies are a few short keys; anything bigger is refused (as `param missing`) unread. */
export const MAX_API_BODY_BYTES = 64 * 1024;

/** Endpoint paths (docs/http-api.md §4). */
export const ApiPath = {
  LalInfo: '/api/stat/lal_info',
  Group: '/api/stat/group',
  AllGroup: '/api/stat/all_group',
  StartRelayPull: '/api/ctrl/start_relay_pull',
  StopRelayPull: '/api/ctrl/stop_relay_pull',
  KickSession: '/api/ctrl/kick_session',
  StartRtpPub: '/api/ctrl/start_rtp_pub',
  AddIpBlacklist: '/api/ctrl/add_ip_blacklist',
  WebUi: '/lal.html',
} as const;

// ---------------------------------------------------------------------------------------------
// JSON output

/**
 * JSON text as Go's encoder writes it: `&`, `<`, `>`, U+2028 and U+2029 as `\uXXXX`
 * (docs/http-api.md §1). These characters only occur inside strings, so a plain replace is exact.
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[&<>\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** `LalInfo` with keys in documented order (§3.1). */
export function lalInfoJson(i: LalInfo): LalInfo {
  return {
    server_id: str(i.server_id),
    bin_info: str(i.bin_info),
    lal_version: str(i.lal_version),
    api_version: str(i.api_version),
    notify_version: str(i.notify_version),
    WebUiVersion: str(i.WebUiVersion),
    start_time: str(i.start_time),
  };
}

/** `StatSession` with keys in documented order (§3.3); a missing slot is all-zero. */
export function statSessionJson(s: StatSession | undefined): StatSession {
  const x = (s ?? {}) as Partial<StatSession>;
  return {
    session_id: str(x.session_id),
    protocol: str(x.protocol),
    base_type: str(x.base_type),
    remote_addr: str(x.remote_addr),
    start_time: str(x.start_time),
    read_bytes_sum: int(x.read_bytes_sum),
    wrote_bytes_sum: int(x.wrote_bytes_sum),
    bitrate_kbits: int(x.bitrate_kbits),
    read_bitrate_kbits: int(x.read_bitrate_kbits),
    write_bitrate_kbits: int(x.write_bitrate_kbits),
  };
}

function frameRecordJson(r: FrameRecord): FrameRecord {
  return { unix_sec: int(r.unix_sec), v: int(r.v) };
}

/** `StatGroup` with keys in documented order (§3.2); `subs` is `null` when empty (docs/quirks.md Q-API-2). */
export function statGroupJson(g: StatGroup): StatGroup {
  const subs = Array.isArray(g.subs) && g.subs.length > 0 ? g.subs.map(statSessionJson) : null;
  return {
    stream_name: str(g.stream_name),
    app_name: str(g.app_name),
    audio_codec: str(g.audio_codec),
    video_codec: str(g.video_codec),
    video_width: int(g.video_width),
    video_height: int(g.video_height),
    pub: statSessionJson(g.pub),
    subs,
    pull: statSessionJson(g.pull),
    in_frame_per_sec: Array.isArray(g.in_frame_per_sec) ? g.in_frame_per_sec.map(frameRecordJson) : [],
  };
}

/** The envelope's optional `data` (absent for kick/blacklist/404, possibly `null`). */
type DataPart = { data?: unknown };
const NO_DATA: DataPart = {};

function jsonResponse(errorCode: number, desp: string, data: DataPart = NO_DATA): Response {
  const body = encodeJson({ error_code: errorCode, desp, ...data });
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'application/json',
      Server: SERVER_HEADER,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Content-Type',
    },
  });
}

const ok = (data: DataPart = NO_DATA) => jsonResponse(ApiErrorCode.Succ, ApiDesp.Succ, data);
const paramMissing = (data: DataPart) => jsonResponse(ApiErrorCode.ParamMissing, ApiDesp.ParamMissing, data);
const groupNotFound = (data: DataPart) => jsonResponse(ApiErrorCode.GroupNotFound, ApiDesp.GroupNotFound, data);
const sessionNotFound = (data: DataPart) => jsonResponse(ApiErrorCode.SessionNotFound, ApiDesp.SessionNotFound, data);
const pageNotFound = () => jsonResponse(ApiErrorCode.PageNotFound, ApiDesp.PageNotFound);

// ---------------------------------------------------------------------------------------------
// Request bodies (docs/http-api.md §1 "Body parsing")

type FieldKind = 'string' | 'int';
type FieldSpec = { readonly kind: FieldKind; readonly required?: true; readonly default?: string | number };
type FieldsOf<T> = { readonly [K in keyof T]-?: FieldSpec };

/**
 * The whole body, as text, or `undefined` when it exceeds `MAX_API_BODY_BYTES`. Read whatever
 * the method (docs/quirks.md Q-API-4); invalid UTF-8 is replaced, as Go's decoder does.
 */
async function readBodyText(req: Request): Promise<string | undefined> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > MAX_API_BODY_BYTES) return undefined;
  if (!req.body) return '';
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_API_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    parts.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * Steps 1–4 of body parsing: a JSON object, required keys present (any value, even `null`),
 * JSON types matching (`null` leaves the zero value, as Go does), unknown keys ignored; the
 * defaults apply only to absent keys. `undefined` means "answer 1002".
 */
async function decodeBody<T>(req: Request, fields: FieldsOf<T>): Promise<T | undefined> {
  const text = await readBodyText(req);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const obj = parsed as Record<string, unknown>;
  const out: Record<string, string | number> = {};
  for (const [key, spec] of Object.entries(fields) as [string, FieldSpec][]) {
    const zero = spec.kind === 'string' ? '' : 0;
    if (!Object.hasOwn(obj, key)) {
      if (spec.required) return undefined;
      out[key] = spec.default ?? zero;
      continue;
    }
    const v = obj[key];
    if (v === null) out[key] = zero;
    else if (spec.kind === 'string' && typeof v === 'string') out[key] = v;
    else if (spec.kind === 'int' && typeof v === 'number' && Number.isSafeInteger(v)) out[key] = v;
    else return undefined;
  }
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Request shapes with their HTTP defaults

const KICK_FIELDS: FieldsOf<KickSessionRequest> = {
  stream_name: { kind: 'string', required: true },
  session_id: { kind: 'string', required: true },
};

const START_RELAY_PULL_FIELDS: FieldsOf<StartRelayPullRequest> = {
  url: { kind: 'string', required: true },
  stream_name: { kind: 'string', default: '' },
  pull_timeout_ms: { kind: 'int', default: 10000 },
  pull_retry_num: { kind: 'int', default: 0 },
  auto_stop_pull_after_no_out_ms: { kind: 'int', default: -1 },
  rtsp_mode: { kind: 'int', default: 0 },
  debug_dump_packet: { kind: 'string', default: '' },
};

const START_RTP_PUB_FIELDS: FieldsOf<StartRtpPubRequest> = {
  stream_name: { kind: 'string', required: true },
  port: { kind: 'int', default: 0 },
  timeout_ms: { kind: 'int', default: 60000 },
  is_tcp_flag: { kind: 'int', default: 0 },
  debug_dump_packet: { kind: 'string', default: '' },
};

const ADD_IP_BLACKLIST_FIELDS: FieldsOf<AddIpBlacklistRequest> = {
  ip: { kind: 'string', required: true },
  duration_sec: { kind: 'int', required: true },
};

// ---------------------------------------------------------------------------------------------
// The app

export interface ApiAppOptions {
  /** Where handler failures are logged (default: silent). */
  log?: Logger;
}

/**
 * Builds the API app over `control`. Mount it on the `http_api.addr` listener (lib/net). Test it
 * in memory with `app.request(path, init)`.
 */
export function createApiApp(control: ServerControl, opts: ApiAppOptions = {}): Hono {
  const log = opts.log ?? silentLogger;
  // `with { type: 'text' }` makes it the file's text; bun-types declares every *.html an HTMLBundle.
  const webUi = lalHtml as unknown as string;
  const app = new Hono();

  /** Registers `path` for every method; a throw becomes a 500 JSON with `errorData`. */
  const route = (path: string, errorData: DataPart, handler: (c: Context) => Response | Promise<Response>) => {
    app.all(path, async (c) => {
      try {
        return await handler(c);
      } catch (e) {
        log.error(`api: ${c.req.method} ${path} failed: ${errorText(e)}`);
        return jsonResponse(ApiErrorCode.Internal, `internal error: ${errorText(e)}`, errorData);
      }
    });
  };

  route(ApiPath.LalInfo, { data: null }, () => ok({ data: lalInfoJson(control.lalInfo()) }));

  route(ApiPath.Group, { data: null }, (c) => {
    const name = c.req.query('stream_name');
    if (!name) return paramMissing({ data: null });
    const group = control.statGroup(name);
    if (!group) return groupNotFound({ data: null });
    return ok({ data: statGroupJson(group) });
  });

  route(ApiPath.AllGroup, { data: { groups: null } }, () => {
    const groups = control.statAllGroups();
    return ok({ data: { groups: groups.length > 0 ? groups.map(statGroupJson) : null } });
  });

  route(ApiPath.KickSession, NO_DATA, async (c) => {
    const req = await decodeBody<KickSessionRequest>(c.req.raw, KICK_FIELDS);
    if (!req) return paramMissing(NO_DATA);
    const r = control.kickSession(req.stream_name, req.session_id);
    if (r === 'ok') return ok();
    if (r === 'group-not-found') return groupNotFound(NO_DATA);
    return sessionNotFound(NO_DATA);
  });

  const startRelayPull = control.startRelayPull?.bind(control);
  if (startRelayPull) {
    const zero = { data: { stream_name: '', session_id: '' } };
    route(ApiPath.StartRelayPull, zero, async (c) => {
      const req = await decodeBody<StartRelayPullRequest>(c.req.raw, START_RELAY_PULL_FIELDS);
      if (!req) return paramMissing(zero);
      const r = await startRelayPull(req);
      if (r.status === 'refused') return jsonResponse(ApiErrorCode.RelayPullFailed, r.reason, zero);
      return ok({ data: { stream_name: r.stream_name, session_id: r.session_id } });
    });
  }

  const stopRelayPull = control.stopRelayPull?.bind(control);
  if (stopRelayPull) {
    const zero = { data: { session_id: '' } };
    route(ApiPath.StopRelayPull, zero, async (c) => {
      const name = c.req.query('stream_name');
      if (!name) return paramMissing(zero);
      const r = await stopRelayPull(name);
      if (r.status === 'group-not-found') return groupNotFound(zero);
      if (r.status === 'session-not-found') return sessionNotFound(zero);
      return ok({ data: { session_id: r.session_id } });
    });
  }

  const startRtpPub = control.startRtpPub?.bind(control);
  if (startRtpPub) {
    const zero = { data: { stream_name: '', session_id: '', port: 0 } };
    route(ApiPath.StartRtpPub, zero, async (c) => {
      const req = await decodeBody<StartRtpPubRequest>(c.req.raw, START_RTP_PUB_FIELDS);
      if (!req) return paramMissing(zero);
      const r = await startRtpPub(req);
      if (r.status === 'failed') return jsonResponse(ApiErrorCode.RtpPubFailed, r.reason, zero);
      return ok({ data: { stream_name: r.stream_name, session_id: r.session_id, port: r.port } });
    });
  }

  const addIpBlacklist = control.addIpBlacklist?.bind(control);
  if (addIpBlacklist) {
    route(ApiPath.AddIpBlacklist, NO_DATA, async (c) => {
      const req = await decodeBody<AddIpBlacklistRequest>(c.req.raw, ADD_IP_BLACKLIST_FIELDS);
      if (!req) return paramMissing(NO_DATA);
      await addIpBlacklist(req);
      return ok();
    });
  }

  app.all(ApiPath.WebUi, () => {
    return new Response(webUi, {
      status: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8', Server: SERVER_HEADER },
    });
  });

  app.notFound(() => pageNotFound());
  app.onError((e, c) => {
    log.error(`api: ${c.req.method} ${c.req.path} failed: ${errorText(e)}`);
    return jsonResponse(ApiErrorCode.Internal, `internal error: ${errorText(e)}`);
  });
  return app;
}
