/**
 * RTSP URL parsing (docs/urls.md §2 generic decomposition, §4 RTSP; docs/tests.md `TestParseRtspUrl`).
 *
 *   rtsp[s]://[user[:pass]@]host[:port]/<path…>/<stream>[?query]
 *
 * - The userinfo ends at the LAST `@` of the authority, so passwords may contain `@`
 *   (`rtsp://admin:P!@1988@127.0.0.1:5554/h264/ch33/main/av_stream`); user and password are
 *   percent-decoded. Default port 554 (rtsp) / 322 (rtsps).
 * - `appName` = path without its last segment, `streamName` = last segment, both after
 *   percent-decoding the path; `/` or no path gives both empty, `/c` gives `''`/`c`, `/a/`
 *   gives `a`/`''`. `query` = raw text after the first `?`.
 * - `baseUrl` is the URL without credentials (what a client sends in request lines and digest).
 */
import { ParseError } from '../../core/errors.ts';

export const RTSP_DEFAULT_PORT = 554;
export const RTSPS_DEFAULT_PORT = 322;

export interface RtspUrl {
  scheme: 'rtsp' | 'rtsps';
  /** Percent-decoded ('' when absent). */
  username: string;
  password: string;
  /** Host without IPv6 brackets. */
  host: string;
  port: number;
  /** Authority without userinfo, as written (`[::1]:554`, `h` when the port is implicit). */
  hostPort: string;
  /** Raw path as written ('' when absent). */
  path: string;
  /** Raw query without `?` ('' when none). */
  query: string;
  appName: string;
  streamName: string;
  /** `<scheme>://<hostPort><path>[?query]`, no credentials. */
  baseUrl: string;
}

function decode(s: string, what: string, url: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ParseError(`rtsp: bad percent-escape in ${what} of url ${url.slice(0, 200)}`);
  }
}

export function parseRtspUrl(url: string): RtspUrl {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (!m) throw new ParseError(`rtsp: invalid url ${url.slice(0, 200)}`);
  const scheme = m[1].toLowerCase();
  if (scheme !== 'rtsp' && scheme !== 'rtsps') throw new ParseError(`rtsp: url scheme must be rtsp or rtsps: ${url.slice(0, 200)}`);
  let authority = m[2];
  let username = '';
  let password = '';
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'username', url);
    password = colon < 0 ? '' : decode(userinfo.slice(colon + 1), 'password', url);
  }
  let host = authority;
  let portText = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new ParseError(`rtsp: invalid IPv6 host in url ${url.slice(0, 200)}`);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new ParseError(`rtsp: invalid host in url ${url.slice(0, 200)}`);
  } else {
    const colon = authority.indexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
  }
  if (host === '') throw new ParseError(`rtsp: url has no host: ${url.slice(0, 200)}`);
  let port = scheme === 'rtsps' ? RTSPS_DEFAULT_PORT : RTSP_DEFAULT_PORT;
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new ParseError(`rtsp: invalid port in url ${url.slice(0, 200)}`);
    port = Number(portText);
  }
  const path = m[3];
  const query = m[4] ?? '';
  const decoded = decode(path, 'path', url);
  let appName = '';
  let streamName = '';
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  if (trimmed !== '') {
    const slash = trimmed.lastIndexOf('/');
    appName = slash < 0 ? '' : trimmed.slice(0, slash);
    streamName = trimmed.slice(slash + 1);
  }
  return {
    scheme,
    username,
    password,
    host,
    port,
    hostPort: authority,
    path,
    query,
    appName,
    streamName,
    baseUrl: `${scheme}://${authority}${path}${m[4] !== undefined ? `?${query}` : ''}`,
  };
}

/**
 * Request URI of a track (docs/protocols.md §7.2): `control` when it is an absolute `rtsp[s]://`
 * URL, else `<base>/<control>` (no doubled `/`). An empty or `*` control is the base itself.
 */
export function rtspTrackUrl(baseUrl: string, control: string): string {
  if (/^rtsps?:\/\//i.test(control)) return control;
  if (control === '' || control === '*') return baseUrl;
  return baseUrl.endsWith('/') ? baseUrl + control : `${baseUrl}/${control}`;
}
