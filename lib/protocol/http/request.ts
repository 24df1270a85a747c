/**
 * Minimal HTTP/1.x request-head parser for the media port (RFC 9112 §2–§5), sans-I/O.
 * It parses one request head; what follows (WebSocket frames, stray bytes) is returned as `rest`.
 */
import { ParseError } from '../../core/errors.ts';

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

/**
 * Push parser for one request head. Each input byte is examined once, whatever the chunking (a
 * client sending one byte at a time costs what one sending the head at once costs): a small
 * state machine tracks how much of CRLFCRLF the bytes so far end with, and an incomplete head
 * is kept in one buffer that grows by doubling up to MAX_HTTP_HEAD.
 */
export class HttpRequestParser {
  private buf = new Uint8Array(0);
  private len = 0;
  /** Bytes of CRLFCRLF matched at the end of what was scanned (0..3). */
  private matched = 0;
  private _work = 0;

  /** Bytes examined plus bytes copied so far: linear in the input (for tests). */
  get work(): number {
    return this._work;
  }

  /** Feed bytes; returns the request once its head is complete, plus any bytes after it. */
  feed(chunk: Uint8Array): { request: HttpRequest; rest: Uint8Array } | undefined {
    const scan = Math.min(chunk.length, MAX_HTTP_HEAD - this.len);
    let m = this.matched;
    for (let i = 0; i < scan; i++) {
      const b = chunk[i];
      if (b === (m & 1 ? 0x0a : 0x0d)) m++;
      else m = b === 0x0d ? 1 : 0;
      if (m === 4) {
        this._work += i + 1;
        const head = this.len === 0 ? chunk.subarray(0, i + 1) : this.append(chunk.subarray(0, i + 1));
        const rest = chunk.subarray(i + 1);
        this.buf = new Uint8Array(0);
        this.len = 0;
        this.matched = 0;
        return { request: parseRequestHead(new TextDecoder('latin1').decode(head)), rest };
      }
    }
    this._work += scan;
    this.matched = m;
    if (this.len + chunk.length >= MAX_HTTP_HEAD) throw new ParseError(`http: request head larger than ${MAX_HTTP_HEAD} bytes`, 'too-large');
    this.append(chunk);
    return undefined;
  }

  /** Add bytes to the held head (≤ MAX_HTTP_HEAD by the caller's checks); returns all of it. */
  private append(bytes: Uint8Array): Uint8Array {
    const need = this.len + bytes.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(MAX_HTTP_HEAD, Math.max(256, this.buf.length * 2, need)));
      grown.set(this.buf.subarray(0, this.len));
      this._work += this.len;
      this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this._work += bytes.length;
    this.len = need;
    return this.buf.subarray(0, this.len);
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

/** docs/urls.md §2: `/a/b/c` → { dir: 'a/b', last: 'c' }. */
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
