/**
 * HLS player sessions (docs/hls.md §7; docs/config.md §3.7 `sub_session_hash_key`,
 * `sub_session_timeout_ms`): a pure table with an injected clock and id generator, plus the
 * text helpers of the redirect and of the session-rewritten playlist. The HTTP handler decides
 * what to answer; this file only says which session a request belongs to.
 *
 *   GET /hls/test110.m3u8                      → new session HLSSUB1, 302 to
 *       /hls/test110.m3u8?session_id=<md5hex("HLSSUB1" + hash_key)>
 *   GET /hls/test110.m3u8?session_id=<hash>     → playlist with every `.ts` → `.ts?session_id=<hash>`
 *   GET /hls/test110-…-3.ts?session_id=<hash>   → fragment; bytes added to the session
 *   unknown hash → 404; no request for `sub_session_timeout_ms` → swept (on_sub_stop)
 */
import { createHash } from 'node:crypto';

export interface HlsSubSession {
  /** `HLSSUB<n>`. */
  readonly id: string;
  /** Lowercase hex MD5 of id + hash key: the `session_id` query value. */
  readonly hash: string;
  readonly streamName: string;
  /** docs/hls.md §7 `app_name` `[QUIRK]` (see path.ts `appName`). */
  readonly appName: string;
  /** Full URL of the creating request (`http://<Host><request-URI>`). */
  readonly url: string;
  /** Query of the creating request, without `?`. */
  readonly urlParam: string;
  /** Peer `ip:port`. */
  readonly remoteAddr: string;
  /** Clock ms at creation. */
  readonly startMs: number;
  /** Clock ms of the last request under this session. */
  lastRequestMs: number;
  /** Playlist and fragment body bytes served under this session (`wrote_bytes_sum`). */
  wroteBytes: number;
  /** Kicked through the API: refused at once, removed by the next sweep. */
  kicked: boolean;
}

export interface HlsSessionInfo {
  streamName: string;
  appName: string;
  url: string;
  urlParam: string;
  remoteAddr: string;
}

/**
 * Most sessions held at once. Every playlist request without `session_id` creates one and it
 * lives for `sub_session_timeout_ms`, so a request flood would otherwise grow the table without
 * bound (docs/architecture.md §2.9); 10 000 concurrent HLS players is beyond one server process.
 */
export const MAX_HLS_SESSIONS = 10_000;

export interface HlsSessionsOptions {
  /** `hls.sub_session_hash_key`; '' disables session tracking (no sessions at all). */
  hashKey: string;
  /** `hls.sub_session_timeout_ms`. */
  timeoutMs: number;
  /** Session id source, e.g. `() => ids.next('HLSSUB')`. */
  nextId: () => string;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Default MAX_HLS_SESSIONS. */
  maxSessions?: number;
}

/** docs/hls.md §7: lowercase hex MD5 of `<session id><hash key>`. */
export function hlsSessionHash(sessionId: string, hashKey: string): string {
  return createHash('md5').update(sessionId + hashKey, 'utf8').digest('hex');
}

export class HlsSessions {
  private readonly byHashMap = new Map<string, HlsSubSession>();
  private readonly opts: HlsSessionsOptions;
  private readonly now: () => number;
  private readonly max: number;

  constructor(opts: HlsSessionsOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.max = opts.maxSessions ?? MAX_HLS_SESSIONS;
  }

  /** Session tracking is on (non-empty hash key). */
  get enabled(): boolean {
    return this.opts.hashKey !== '';
  }

  get size(): number {
    return this.byHashMap.size;
  }

  /**
   * A playlist request without `session_id`: a new session (the caller joins the group, emits
   * `on_sub_start` and redirects). Undefined when tracking is off or the table is full (answer
   * 503).
   */
  create(info: HlsSessionInfo): HlsSubSession | undefined {
    if (!this.enabled || this.byHashMap.size >= this.max) return undefined;
    const id = this.opts.nextId();
    const t = this.now();
    const s: HlsSubSession = { id, hash: hlsSessionHash(id, this.opts.hashKey), ...info, startMs: t, lastRequestMs: t, wroteBytes: 0, kicked: false };
    this.byHashMap.set(s.hash, s);
    return s;
  }

  /** A request carrying `session_id`: the live session with its expiry refreshed, or undefined (→ 404). */
  touch(hash: string): HlsSubSession | undefined {
    const s = this.byHashMap.get(hash);
    if (!s || s.kicked) return undefined;
    s.lastRequestMs = this.now();
    return s;
  }

  /** Account body bytes served under the session. */
  addBytes(s: HlsSubSession, n: number): void {
    s.wroteBytes += n;
  }

  byHash(hash: string): HlsSubSession | undefined {
    return this.byHashMap.get(hash);
  }

  byId(id: string): HlsSubSession | undefined {
    for (const s of this.byHashMap.values()) if (s.id === id) return s;
    return undefined;
  }

  /** All sessions (kicked ones included until swept). */
  list(): HlsSubSession[] {
    return [...this.byHashMap.values()];
  }

  /** API kick (docs/http-api.md §3.4) or IP blacklist: refuse from now on; the sweep removes it. */
  kick(s: HlsSubSession | undefined): boolean {
    if (!s || s.kicked) return false;
    s.kicked = true;
    return true;
  }

  /**
   * The 1 s sweeper: remove sessions that were kicked or had no request for longer than
   * `sub_session_timeout_ms`. Returns them (the caller leaves the group and emits `on_sub_stop`).
   */
  sweep(): HlsSubSession[] {
    const t = this.now();
    const gone: HlsSubSession[] = [];
    for (const [h, s] of this.byHashMap) {
      if (s.kicked || t - s.lastRequestMs > this.opts.timeoutMs) {
        this.byHashMap.delete(h);
        gone.push(s);
      }
    }
    return gone;
  }
}

/** `session_id` of a raw query string ('' or absent → undefined). */
export function sessionIdFromQuery(rawQuery: string): string | undefined {
  for (const [k, v] of parseQuery(rawQuery)) if (k === 'session_id') return v === '' ? undefined : latin1ToUtf8(v);
  return undefined;
}

/** docs/hls.md §6 step 7: a playlist served under a session: every `.ts` → `.ts?session_id=<hash>`. */
export function rewritePlaylistForSession(text: string, hash: string): string {
  return text.replaceAll('.ts', `.ts?session_id=${hash}`);
}

/**
 * docs/hls.md §7 redirect target: `<path>?<query>` where query = the original query plus
 * `session_id=<hash>` (replacing any present), re-encoded with keys sorted as Go's
 * `url.Values.Encode` does. `rawPath` is the request path as sent; characters outside ASCII
 * are percent-escaped (Go `http.Redirect`).
 */
export function sessionRedirectLocation(rawPath: string, rawQuery: string, hash: string): string {
  const pairs = parseQuery(rawQuery).filter(([k]) => k !== 'session_id');
  pairs.push(['session_id', hash]);
  // Stable sort by key (byte order: keys are latin1 "byte strings"), values keep their order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const query = pairs.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join('&');
  return `${escapeNonAscii(rawPath)}?${query}`;
}

/** The small HTML body Go's `http.Redirect` writes for a GET: `<a href="…">Found</a>.` + 2 LF. */
export function sessionRedirectBody(location: string): string {
  return `<a href="${htmlEscape(location)}">Found</a>.\n\n`;
}

// ---------------------------------------------------------------------------------------------
// Go net/url query semantics over byte strings (each char of a "latin1" string is one byte).

/**
 * Go `url.ParseQuery`: split on `&`, skip empty parts, parts containing `;` and parts with a
 * bad escape, `+` is a space. Keys and values come back as latin1 byte strings.
 */
function parseQuery(raw: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    const k = eq >= 0 ? part.slice(0, eq) : part;
    const v = eq >= 0 ? part.slice(eq + 1) : '';
    const dk = queryUnescape(k);
    const dv = queryUnescape(v);
    if (dk === undefined || dv === undefined) continue;
    out.push([dk, dv]);
  }
  return out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Percent-decode to a byte string; undefined on a malformed escape. Chars > 0xFF become UTF-8. */
function queryUnescape(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexVal(s.charCodeAt(i + 1));
      const lo = hexVal(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      out += String.fromCharCode((hi << 4) | lo);
      i += 2;
    } else if (c === 0x2b) {
      out += ' ';
    } else if (c > 0xff) {
      const cp = s.codePointAt(i) ?? 0xfffd;
      out += utf8ByteString(String.fromCodePoint(cp));
      if (cp > 0xffff) i++;
    } else {
      out += s[i];
    }
  }
  return out;
}

function utf8ByteString(s: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
}

function latin1ToUtf8(s: string): string {
  return new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));
}

const HEX = '0123456789ABCDEF';

function pct(b: number): string {
  return `%${HEX[b >> 4]}${HEX[b & 15]}`;
}

/** Go `url.QueryEscape` over a byte string: unreserved `A-Za-z0-9-_.~` kept, space → `+`. */
function queryEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x7e) out += s[i];
    else if (c === 0x20) out += '+';
    else out += pct(c & 0xff);
  }
  return out;
}

/** Go `hexEscapeNonASCII`: chars ≤ 0xFF are bytes (latin1 request text), others UTF-8. */
function escapeNonAscii(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x80) out += ch;
    else if (c <= 0xff) out += pct(c);
    else for (const b of new TextEncoder().encode(ch)) out += pct(b);
  }
  return out;
}

/** Go `html.EscapeString` as used by `http.Redirect`. */
function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&#34;' : '&#39;'));
}
