/**
 * Minimal HTTP/1.x request-head parser for the media port (RFC 9112 §2–§5), sans-I/O.
 * It parses one request head; what follows (WebSocket frames, stray bytes) is returned as `rest`.
 */
import { ParseError } from '../../core/errors.ts';
import { ByteStash } from '../../core/bytes.ts';

/** A request head larger than this is refused (browsers send < 8 KiB). */
export const MAX_HTTP_HEAD = 16 * 1024;

export interface HttpRequest {
  method: string;
  /** Request target as sent (`/live/test.flv?x=1`). */
  target: string;
  /** Percent-decoded path without query. */
  path: string;
  /** Raw query without `?` ('' when none). */
  query: string;
  version: string;
  /** Lower-cased header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
}

export class HttpRequestParser {
  private stash = new ByteStash(MAX_HTTP_HEAD + 64 * 1024, 'http');

  /** Feed bytes; returns the request once its head is complete, plus any bytes after it. */
  feed(chunk: Uint8Array): { request: HttpRequest; rest: Uint8Array } | undefined {
    this.stash.push(chunk);
    const n = this.stash.length;
    const scan = Math.min(n, MAX_HTTP_HEAD);
    for (let i = 3; i < scan; i++) {
      if (this.stash.at(i) === 0x0a && this.stash.at(i - 1) === 0x0d && this.stash.at(i - 2) === 0x0a && this.stash.at(i - 3) === 0x0d) {
        const head = this.stash.take(i + 1);
        const rest = this.stash.length ? this.stash.take(this.stash.length) : new Uint8Array(0);
        return { request: parseRequestHead(new TextDecoder('latin1').decode(head)), rest };
      }
    }
    if (n >= MAX_HTTP_HEAD) throw new ParseError(`http: request head larger than ${MAX_HTTP_HEAD} bytes`, 'too-large');
    return undefined;
  }
}

export function parseRequestHead(text: string): HttpRequest {
  const lines = text.split('\r\n');
  const m = /^([A-Z_-]{1,32}) (\S{1,8192}) (HTTP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (!m) throw new ParseError(`http: bad request line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (!l) continue;
    const c = l.indexOf(':');
    if (c <= 0) throw new ParseError(`http: bad header line ${JSON.stringify(l.slice(0, 80))}`);
    const k = l.slice(0, c).trim().toLowerCase();
    const v = l.slice(c + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  const target = m[2];
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new ParseError(`http: bad percent-encoding in ${JSON.stringify(rawPath.slice(0, 80))}`);
  }
  return { method: m[1], target, path, query: q >= 0 ? target.slice(q + 1) : '', version: m[3], headers };
}

/** urls.md §2: `/a/b/c` → { dir: 'a/b', last: 'c' }. */
export function splitUrlPath(path: string): { dir: string; last: string } {
  const p = path.startsWith('/') ? path.slice(1) : path;
  const i = p.lastIndexOf('/');
  if (i < 0) return { dir: '', last: p };
  return { dir: p.slice(0, i), last: p.slice(i + 1) };
}

export function isWebSocketUpgrade(req: HttpRequest): boolean {
  return (
    (req.headers['upgrade'] ?? '').toLowerCase() === 'websocket' &&
    (req.headers['connection'] ?? '').toLowerCase().includes('upgrade')
  );
}
