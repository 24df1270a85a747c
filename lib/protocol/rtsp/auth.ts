/**
 * RTSP authentication: Basic (RFC 2617 §2) and Digest-MD5 (RFC 2617 §3) for the server
 * (docs/protocols.md §3.5, docs/quirks.md Q-RTSP-1/2) and the client (docs/protocols.md §7.2,
 * docs/tests.md `TestGetRtspFirstAuth`, `TestRtspBasicAuth`).
 *
 * Server (`RtspServerAuth`, one per connection):
 * - challenge: `Basic realm="lal"` (method 0) or `Digest realm="lal", nonce="<32 hex>"`
 *   (method 1; nonce = MD5 of 32 random bytes, a new one per challenge, as LAL).
 * - Basic (docs/quirks.md Q-RTSP-1 FIX): user and password must both match.
 * - Digest (docs/quirks.md Q-RTSP-2 FIX): the nonce must be one this connection issued (the last
 *   MAX_ISSUED_NONCES are remembered) and the realm must be `lal`; then
 *   `response = MD5(HA1:nonce:HA2)`, HA1 = MD5(user:realm:password), HA2 = MD5(method:uri)
 *   with the `uri` the client put in its header (LAL does not compare it with the request URI,
 *   nor do we: the response covers it anyway). LAL itself never offers `qop`; a client that
 *   still answers with `qop=auth` is accepted (`response = MD5(HA1:nonce:nc:cnonce:auth:HA2)`),
 *   since RFC 2617 clients may add it. `auth-int` and other algorithms are refused.
 *
 * Client: `pickRtspAuthChallenge` takes the first Basic or Digest challenge among the
 * `WWW-Authenticate` values (Digest when the server offers it first); `rtspAuthorization`
 * builds the header. When the challenge offers `qop=auth` the client uses it (cnonce random,
 * nc counting the requests sent with that nonce), else the RFC 2069-compatible form LAL uses.
 * `opaque` is echoed.
 */
import { createHash } from 'node:crypto';
import { LalError, ParseError } from '../../core/errors.ts';

/** `rtsp.auth_method` values (docs/config.md): 0 Basic, 1 Digest. */
export const RtspAuthMethod = { Basic: 0, Digest: 1 } as const;
export type RtspAuthMethodValue = (typeof RtspAuthMethod)[keyof typeof RtspAuthMethod];

/** Realm of every server challenge (docs/protocols.md §1). */
export const RTSP_AUTH_REALM = 'lal';
/** Nonces remembered per connection: a client re-DESCRIBEs a few times at most. */
export const MAX_ISSUED_NONCES = 8;
/** Authorization / WWW-Authenticate parameters parsed at most (real headers have < 12). */
export const MAX_AUTH_PARAMS = 32;

export function md5Hex(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/** Constant-time string comparison (lengths may leak; the contents do not). */
function safeEqual(a: string, b: string): boolean {
  let d = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) d |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return d === 0;
}

/**
 * `auth-param` list after the scheme: `k=v` or `k="quoted \" value"`, comma-separated.
 * Keys are lower-cased. Throws ParseError when the text is not a parameter list.
 */
export function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++;
  };
  skipWs();
  while (i < n) {
    const keyStart = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text[i])) i++;
    const key = text.slice(keyStart, i).toLowerCase();
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (key === '' || text[i] !== '=') throw new ParseError(`rtsp: malformed auth parameters ${JSON.stringify(text.slice(0, 80))}`);
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new ParseError('rtsp: unterminated quoted auth parameter');
        const c = text[i++];
        if (c === '"') break;
        if (c === '\\' && i < n) value += text[i++];
        else value += c;
      }
    } else {
      const vs = i;
      while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
      value = text.slice(vs, i);
    }
    if (out.size >= MAX_AUTH_PARAMS) throw new ParseError(`rtsp: more than ${MAX_AUTH_PARAMS} auth parameters`);
    out.set(key, value);
    skipWs();
  }
  return out;
}

/** Split `Scheme rest` (scheme compared case-insensitively by callers). */
function splitScheme(value: string): { scheme: string; rest: string } {
  const v = value.trim();
  const sp = v.search(/[ \t]/);
  return sp < 0 ? { scheme: v, rest: '' } : { scheme: v.slice(0, sp), rest: v.slice(sp + 1) };
}

function digestResponse(p: { username: string; realm: string; password: string; method: string; uri: string; nonce: string; qop?: string; nc?: string; cnonce?: string }): string {
  const ha1 = md5Hex(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = md5Hex(`${p.method}:${p.uri}`);
  if (p.qop) return md5Hex(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
  return md5Hex(`${ha1}:${p.nonce}:${ha2}`);
}

export type RtspAuthResult = 'ok' | 'missing' | 'scheme-mismatch' | 'bad-credentials' | 'unknown-nonce' | 'malformed';

/** Server side, one per connection (see the file comment). */
export class RtspServerAuth {
  private readonly method: RtspAuthMethodValue;
  private readonly username: string;
  private readonly password: string;
  private readonly random: (n: number) => Uint8Array;
  private readonly nonces: string[] = [];

  constructor(opts: { method: RtspAuthMethodValue; username: string; password: string; random?: (n: number) => Uint8Array }) {
    if (opts.method !== RtspAuthMethod.Basic && opts.method !== RtspAuthMethod.Digest) {
      throw new LalError('config', `rtsp: auth method ${String(opts.method)} is not 0 (Basic) or 1 (Digest)`);
    }
    this.method = opts.method;
    this.username = opts.username;
    this.password = opts.password;
    this.random = opts.random ?? defaultRandom;
  }

  /** A `WWW-Authenticate` value; for Digest a fresh nonce, remembered for `verify`. */
  challenge(): string {
    if (this.method === RtspAuthMethod.Basic) return `Basic realm="${RTSP_AUTH_REALM}"`;
    const nonce = createHash('md5').update(this.random(32)).digest('hex');
    this.nonces.push(nonce);
    if (this.nonces.length > MAX_ISSUED_NONCES) this.nonces.shift();
    return `Digest realm="${RTSP_AUTH_REALM}", nonce="${nonce}"`;
  }

  /** Check the `Authorization` header of a `method` request. */
  verify(method: string, authorization: string | undefined): RtspAuthResult {
    if (authorization === undefined || authorization.trim() === '') return 'missing';
    const { scheme, rest } = splitScheme(authorization);
    const s = scheme.toLowerCase();
    if (this.method === RtspAuthMethod.Basic) {
      if (s !== 'basic') return 'scheme-mismatch';
      const b64 = rest.trim();
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return 'malformed';
      const text = Buffer.from(b64, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon < 0) return 'malformed';
      const ok = safeEqual(text.slice(0, colon), this.username) && safeEqual(text.slice(colon + 1), this.password);
      return ok ? 'ok' : 'bad-credentials';
    }
    if (s !== 'digest') return 'scheme-mismatch';
    let p: Map<string, string>;
    try {
      p = parseAuthParams(rest);
    } catch {
      return 'malformed';
    }
    const username = p.get('username');
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return 'malformed';
    const algorithm = p.get('algorithm');
    if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') return 'malformed';
    const qop = p.get('qop');
    if (qop !== undefined && (qop !== 'auth' || p.get('nc') === undefined || p.get('cnonce') === undefined)) return 'malformed';
    if (!this.nonces.includes(nonce)) return 'unknown-nonce';
    if (realm !== RTSP_AUTH_REALM || !safeEqual(username, this.username)) return 'bad-credentials';
    const want = digestResponse({ username, realm, password: this.password, method, uri, nonce, qop, nc: p.get('nc'), cnonce: p.get('cnonce') });
    return safeEqual(response.toLowerCase(), want) ? 'ok' : 'bad-credentials';
  }
}

export type RtspAuthChallenge =
  | { scheme: 'basic'; realm: string }
  | { scheme: 'digest'; realm: string; nonce: string; opaque?: string; algorithm?: string; qopAuth: boolean };

/**
 * First usable challenge among `WWW-Authenticate` values, in order (docs/tests.md
 * `TestGetRtspFirstAuth`: Digest when offered first). Digest challenges with an algorithm
 * other than MD5 or without a nonce are skipped. Undefined when none is usable.
 */
export function pickRtspAuthChallenge(values: readonly string[]): RtspAuthChallenge | undefined {
  for (const v of values) {
    const { scheme, rest } = splitScheme(v);
    const s = scheme.toLowerCase();
    if (s !== 'basic' && s !== 'digest') continue;
    let p: Map<string, string>;
    try {
      p = parseAuthParams(rest);
    } catch {
      continue;
    }
    const realm = p.get('realm') ?? '';
    if (s === 'basic') return { scheme: 'basic', realm };
    const nonce = p.get('nonce');
    const algorithm = p.get('algorithm');
    if (nonce === undefined || (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5')) continue;
    const qop = p.get('qop');
    const qopAuth = qop !== undefined && qop.split(',').some((q) => q.trim().toLowerCase() === 'auth');
    return { scheme: 'digest', realm, nonce, opaque: p.get('opaque'), algorithm, qopAuth };
  }
  return undefined;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The `Authorization` value answering `ch` for a `method` request on `uri`.
 * `Basic YWRtaW46YWRtaW4=` for admin/admin (docs/tests.md `TestRtspBasicAuth`).
 */
export function rtspAuthorization(
  ch: RtspAuthChallenge,
  cred: { username: string; password: string; method: string; uri: string; cnonce?: string; nc?: number },
): string {
  if (ch.scheme === 'basic') return `Basic ${Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64')}`;
  const qop = ch.qopAuth ? 'auth' : undefined;
  const nc = ((cred.nc ?? 1) >>> 0).toString(16).padStart(8, '0');
  const cnonce = cred.cnonce ?? hex(defaultRandom(8));
  const response = digestResponse({ username: cred.username, realm: ch.realm, password: cred.password, method: cred.method, uri: cred.uri, nonce: ch.nonce, qop, nc, cnonce });
  let h = `Digest username=${quote(cred.username)}, realm=${quote(ch.realm)}, nonce=${quote(ch.nonce)}, uri=${quote(cred.uri)}, response=${quote(response)}`;
  if (ch.algorithm !== undefined) h += `, algorithm=${ch.algorithm}`;
  if (ch.opaque !== undefined) h += `, opaque=${quote(ch.opaque)}`;
  if (qop) h += `, qop=${qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  return h;
}
