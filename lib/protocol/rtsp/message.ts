/**
 * RTSP message codec (RFC 2326 §4, §6, §7, §10.12; RFC 7826 §20 grammar; docs/protocols.md §3.1).
 *
 * `RtspMessageReader` is a push parser for one direction of an RTSP connection. It yields, in
 * order, requests, responses and `$`-framed interleaved data (RFC 2326 §10.12) mixed in between:
 *
 *   request   = Method SP Request-URI SP RTSP-Version CRLF *(header CRLF) CRLF [body]
 *   response  = RTSP-Version SP Status-Code SP Reason-Phrase CRLF *(header CRLF) CRLF [body]
 *   body      = exactly `Content-Length` bytes (0 when the header is absent)
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  '$' = 0x24   |    channel    |     payload length (BE)       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 payload (RTP or RTCP packet) ...              |
 *
 * Tolerated (peer quirks, as HTTP parsers do): bare LF line ends, stray CR/LF between messages,
 * obsolete header folding (continuation lines starting with SP/HT), any `RTSP/x.y` version.
 * Bodies and interleaved payloads are views of the fed chunks when they lie in one chunk (one
 * copy otherwise), so a caller must not reuse a chunk's memory after `feed()` returned.
 */
import { LalError, ParseError } from '../../core/errors.ts';
import { ByteStash } from '../../core/bytes.ts';
import { INTERLEAVED_MAGIC } from './interleaved.ts';

/**
 * Start line + headers + the blank line. Real requests are < 1 KiB (a SETUP with a long
 * Authorization header is ~600 bytes); 16 KiB is HTTP servers' usual floor and makes a
 * 100 KB header fail as soon as 16 KiB arrived without its end.
 */
export const MAX_RTSP_HEADER_BYTES = 16 * 1024;
/** Bodies are SDP (ANNOUNCE, DESCRIBE answers) or GET/SET_PARAMETER text: a few KiB at most. */
export const MAX_RTSP_BODY_BYTES = 64 * 1024;

/** Reason phrases (RFC 2326 §7.1.1) for the codes lal sends or meets. */
export const RtspStatusText: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

/** Ordered header list with case-insensitive lookup (RFC 2326 §4.2: names are case-insensitive). */
export class RtspHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [n, v] of init) this.list.push([n, v]);
  }

  add(name: string, value: string): void {
    this.list.push([name, value]);
  }

  /** First value of `name` (undefined when absent). */
  get(name: string): string | undefined {
    const k = name.toLowerCase();
    for (const [n, v] of this.list) if (n.toLowerCase() === k) return v;
    return undefined;
  }

  /** Every value of `name`, in arrival order (e.g. several `WWW-Authenticate` lines). */
  getAll(name: string): string[] {
    const k = name.toLowerCase();
    const out: string[] = [];
    for (const [n, v] of this.list) if (n.toLowerCase() === k) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  entries(): readonly (readonly [string, string])[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }
}

export interface RtspRequest {
  type: 'request';
  method: string;
  uri: string;
  version: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

export interface RtspResponse {
  type: 'response';
  version: string;
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

export interface RtspInterleavedFrame {
  type: 'interleaved';
  channel: number;
  /** ≤ 65535 bytes by construction (16-bit length field). */
  payload: Uint8Array;
}

export type RtspItem = RtspRequest | RtspResponse | RtspInterleavedFrame;

const EMPTY = new Uint8Array(0);
const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** The body as text (UTF-8, lenient). */
export function rtspBodyText(msg: { body: Uint8Array }): string {
  return msg.body.length === 0 ? '' : utf8Decoder.decode(msg.body);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]+(\S+)[ \t]+(RTSP\/\d+\.\d+)$/;
const STATUS_LINE = /^(RTSP\/\d+\.\d+)[ \t]+(\d{3})(?:[ \t]+(.*))?$/;

/**
 * Index just past the blank line ending the header block in `b`, searching from `from`;
 * -1 when not there yet. Throws on control bytes, so binary garbage fails at once instead of
 * after MAX_RTSP_HEADER_BYTES.
 */
function findHeaderEnd(b: Uint8Array, from: number): number {
  for (let i = from; i < b.length; i++) {
    const c = b[i];
    if (c === 0x0a) {
      if (i + 1 < b.length && b[i + 1] === 0x0a) return i + 2;
      if (i + 2 < b.length && b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
    } else if (c < 0x20 && c !== 0x0d && c !== 0x09) {
      throw new ParseError(`rtsp: control byte 0x${c.toString(16).padStart(2, '0')} at offset ${i} of a message header`);
    } else if (c === 0x7f) {
      throw new ParseError(`rtsp: control byte 0x7f at offset ${i} of a message header`);
    }
  }
  return -1;
}

type Head =
  | { type: 'request'; method: string; uri: string; version: string; headers: RtspHeaders }
  | { type: 'response'; version: string; status: number; reason: string; headers: RtspHeaders };

function parseHead(bytes: Uint8Array): { head: Head; bodyLength: number } {
  const lines = utf8Decoder.decode(bytes).split(/\r?\n/);
  const first = lines[0];
  let head: Head;
  const headers = new RtspHeaders();
  if (first.startsWith('RTSP/')) {
    const m = STATUS_LINE.exec(first);
    if (!m) throw new ParseError(`rtsp: malformed status line ${JSON.stringify(first.slice(0, 80))}`);
    head = { type: 'response', version: m[1], status: Number(m[2]), reason: m[3] ?? '', headers };
  } else {
    const m = REQUEST_LINE.exec(first);
    if (!m) throw new ParseError(`rtsp: malformed request line ${JSON.stringify(first.slice(0, 80))}`);
    head = { type: 'request', method: m[1], uri: m[2], version: m[3], headers };
  }
  let lastName = '';
  let lastValue = '';
  const flush = () => {
    if (lastName !== '') headers.add(lastName, lastValue.trim());
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') break; // the blank line (the tail after it is empty)
    if (line[0] === ' ' || line[0] === '\t') {
      if (lastName === '') throw new ParseError('rtsp: header continuation line before any header');
      if (line.includes('\r')) throw new ParseError(`rtsp: bare CR in header ${lastName}`);
      lastValue += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError(`rtsp: malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) throw new ParseError(`rtsp: malformed header name ${JSON.stringify(name.slice(0, 80))}`);
    if (line.includes('\r')) throw new ParseError(`rtsp: bare CR in header ${name}`);
    flush();
    lastName = name;
    lastValue = line.slice(colon + 1);
  }
  flush();
  let bodyLength = 0;
  const lens = headers.getAll('Content-Length');
  if (lens.length > 0) {
    for (const l of lens) {
      if (!/^\d{1,10}$/.test(l)) throw new ParseError(`rtsp: invalid Content-Length ${JSON.stringify(l.slice(0, 20))}`);
      if (Number(l) !== Number(lens[0])) throw new ParseError('rtsp: conflicting Content-Length headers');
    }
    bodyLength = Number(lens[0]);
    if (bodyLength > MAX_RTSP_BODY_BYTES) {
      throw new ParseError(`rtsp: Content-Length ${bodyLength} exceeds ${MAX_RTSP_BODY_BYTES}`, 'too-large');
    }
  }
  return { head, bodyLength };
}

/**
 * Push parser: see the file comment. Throws ParseError on violations (the caller closes).
 * A header that does not arrive in one piece is accumulated in its own growing buffer
 * (amortised linear even when fed byte by byte); everything else stays in a ByteStash.
 */
export class RtspMessageReader {
  private readonly stash = new ByteStash(undefined, 'rtsp');
  /** Partial header (and whatever followed it) while its blank line is missing. */
  private hdr: Uint8Array | undefined;
  private hdrLen = 0;
  private pending: { head: Head; bodyLength: number } | undefined;

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.stash.length + this.hdrLen;
  }

  feed(chunk: Uint8Array): RtspItem[] {
    const out: RtspItem[] = [];
    if (this.hdr !== undefined) {
      if (!this.appendHeader(chunk)) return out;
    } else {
      this.stash.push(chunk);
    }
    this.drain(out);
    return out;
  }

  /** Add `chunk` to the partial header; true once the header is complete (rest → stash). */
  private appendHeader(chunk: Uint8Array): boolean {
    let hdr = this.hdr as Uint8Array;
    const from = Math.max(0, this.hdrLen - 3);
    if (this.hdrLen + chunk.length > hdr.length) {
      const grown = new Uint8Array(Math.max(hdr.length * 2, this.hdrLen + chunk.length));
      grown.set(hdr.subarray(0, this.hdrLen));
      hdr = grown;
      this.hdr = grown;
    }
    hdr.set(chunk, this.hdrLen);
    this.hdrLen += chunk.length;
    const end = findHeaderEnd(hdr.subarray(0, Math.min(this.hdrLen, MAX_RTSP_HEADER_BYTES)), from);
    if (end < 0) {
      if (this.hdrLen >= MAX_RTSP_HEADER_BYTES) {
        throw new ParseError(`rtsp: message header exceeds ${MAX_RTSP_HEADER_BYTES} bytes`, 'too-large');
      }
      return false;
    }
    this.pending = parseHead(hdr.subarray(0, end));
    // The buffer is dropped, so the tail may stay a view of it.
    this.stash.push(hdr.subarray(end, this.hdrLen));
    this.hdr = undefined;
    this.hdrLen = 0;
    return true;
  }

  private drain(out: RtspItem[]): void {
    const s = this.stash;
    for (;;) {
      if (this.pending !== undefined) {
        const { head, bodyLength } = this.pending;
        if (s.length < bodyLength) return;
        const body = bodyLength === 0 ? EMPTY : s.take(bodyLength);
        this.pending = undefined;
        out.push({ ...head, body });
        continue;
      }
      // Stray line ends between messages (some clients end a body with an extra CRLF).
      while (s.length > 0 && (s.at(0) === 0x0d || s.at(0) === 0x0a)) s.skip(1);
      if (s.length === 0) return;
      if (s.at(0) === INTERLEAVED_MAGIC) {
        if (s.length < 4) return;
        const len = (s.at(2) << 8) | s.at(3);
        if (s.length < 4 + len) return;
        const channel = s.at(1);
        s.skip(4);
        out.push({ type: 'interleaved', channel, payload: len === 0 ? EMPTY : s.take(len) });
        continue;
      }
      const avail = Math.min(s.length, MAX_RTSP_HEADER_BYTES);
      const headBytes = s.peek(avail);
      const end = findHeaderEnd(headBytes, 0);
      if (end < 0) {
        if (s.length >= MAX_RTSP_HEADER_BYTES) {
          throw new ParseError(`rtsp: message header exceeds ${MAX_RTSP_HEADER_BYTES} bytes`, 'too-large');
        }
        // Incomplete: move it (avail = everything buffered) into the header buffer.
        const hdr = new Uint8Array(Math.max(1024, avail * 2));
        hdr.set(headBytes);
        this.hdr = hdr;
        this.hdrLen = avail;
        s.skip(avail);
        return;
      }
      this.pending = parseHead(headBytes.subarray(0, end));
      s.skip(end);
    }
  }
}

/** `[name, value]` pairs in wire order. */
export type RtspHeaderList = readonly (readonly [string, string])[];

function headerBlock(startLine: string, headers: RtspHeaderList, body: Uint8Array): Uint8Array {
  let text = startLine + '\r\n';
  let hasLength = false;
  for (const [n, v] of headers) {
    if (!TOKEN.test(n) || /[\r\n]/.test(v)) throw new LalError('rtsp-header', `rtsp: invalid header ${JSON.stringify(n)}: ${JSON.stringify(v)}`);
    if (n.toLowerCase() === 'content-length') hasLength = true;
    text += `${n}: ${v}\r\n`;
  }
  if (body.length > 0 && !hasLength) text += `Content-Length: ${body.length}\r\n`;
  text += '\r\n';
  const head = utf8Encoder.encode(text);
  if (body.length === 0) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return EMPTY;
  return typeof body === 'string' ? utf8Encoder.encode(body) : body;
}

/**
 * `RTSP/1.0 <status> <reason>` + headers in the given order + blank line + body.
 * `Content-Length` is appended when there is a body and the list does not name it. The status
 * is written as the three digits the grammar wants (RFC 2326 §7.1.1 Status-Code = 3DIGIT), so a
 * status the reader accepted (even `000`) is written back the same way.
 */
export function encodeRtspResponse(res: { status: number; reason?: string; headers: RtspHeaderList; body?: Uint8Array | string }): Uint8Array {
  if (!Number.isInteger(res.status) || res.status < 0 || res.status > 999) {
    throw new LalError('rtsp-response', `rtsp: status ${res.status} is not three digits`);
  }
  const reason = res.reason ?? RtspStatusText[res.status] ?? 'Unknown';
  return headerBlock(`RTSP/1.0 ${String(res.status).padStart(3, '0')} ${reason}`, res.headers, bodyBytes(res.body));
}

/** `<method> <uri> RTSP/1.0` + headers in the given order + blank line + body (see above). */
export function encodeRtspRequest(req: { method: string; uri: string; headers: RtspHeaderList; body?: Uint8Array | string }): Uint8Array {
  if (!TOKEN.test(req.method) || /\s/.test(req.uri) || req.uri === '') {
    throw new LalError('rtsp-request', `rtsp: invalid request line ${JSON.stringify(req.method)} ${JSON.stringify(req.uri)}`);
  }
  return headerBlock(`${req.method} ${req.uri} RTSP/1.0`, req.headers, bodyBytes(req.body));
}
