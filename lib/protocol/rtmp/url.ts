/**
 * RTMP URL parsing for lal's clients (docs/urls.md §2 generic decomposition, §3 client rules).
 *
 *   rtmp[s]://[user[:pass]@]host[:port]/<app…>/<stream>[?query]
 *   app = path without its last segment, stream = last segment (percent-escapes decoded),
 *   query = text after the first `?`. Default port 1935 (rtmp) / 443 (rtmps).
 * Special cases (as LAL and ffmpeg):
 * - a single path segment is the app, with an empty stream (`rtmp://h/test110`);
 * - a path+query containing more than one `?` (`/vyun?vhost=x?token=y/lss_7`): everything up
 *   to the last `/` is the app, the rest the stream, and the query is empty.
 */
import { ParseError } from '../../core/errors.ts';

export interface RtmpUrl {
  scheme: 'rtmp' | 'rtmps';
  host: string;
  port: number;
  app: string;
  /** The name sent in `publish`/`play`: `<stream>` or `<stream>?<query>`. */
  streamName: string;
  /** `<scheme>://<host[:port] as written>/<app>`. */
  tcUrl: string;
  /** Raw query without `?` ('' when none). */
  query: string;
}

function decodePath(p: string, url: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new ParseError(`rtmp: bad percent-escape in url ${url}`);
  }
}

export function parseRtmpUrl(url: string): RtmpUrl {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
  if (!m) throw new ParseError(`rtmp: invalid url ${url}`);
  const scheme = m[1].toLowerCase();
  if (scheme !== 'rtmp' && scheme !== 'rtmps') throw new ParseError(`rtmp: url scheme must be rtmp or rtmps: ${url}`);
  let authority = m[2];
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  const stdHost = authority;
  let host = authority;
  let portText = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new ParseError(`rtmp: invalid IPv6 host in url ${url}`);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new ParseError(`rtmp: invalid host in url ${url}`);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
  }
  if (host === '') throw new ParseError(`rtmp: url has no host: ${url}`);
  let port = scheme === 'rtmps' ? 443 : 1935;
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new ParseError(`rtmp: invalid port in url ${url}`);
    port = Number(portText);
  }
  const pathWithQuery = m[3];
  if (pathWithQuery === '' || pathWithQuery[0] !== '/') throw new ParseError(`rtmp: url has no path: ${url}`);

  let app: string;
  let stream: string;
  let query: string;
  if (pathWithQuery.split('?').length - 1 > 1) {
    const slash = pathWithQuery.lastIndexOf('/');
    app = pathWithQuery.slice(1, slash);
    stream = pathWithQuery.slice(slash + 1);
    query = '';
  } else {
    const q = pathWithQuery.indexOf('?');
    const path = decodePath(q >= 0 ? pathWithQuery.slice(0, q) : pathWithQuery, url);
    query = q >= 0 ? pathWithQuery.slice(q + 1) : '';
    const slash = path.lastIndexOf('/');
    app = slash <= 0 ? '' : path.slice(1, slash);
    stream = path.slice(slash + 1);
    if (app === '' && stream !== '') {
      app = stream;
      stream = '';
    }
  }
  return {
    scheme,
    host,
    port,
    app,
    streamName: query === '' ? stream : `${stream}?${query}`,
    tcUrl: `${scheme}://${stdHost}/${app}`,
    query,
  };
}
