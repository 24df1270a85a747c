/**
 * LAL-compatible server configuration: schema, defaults, file discovery and parsing
 * (docs/config.md §1–§3, docs/quirks.md Q-CFG-1).
 *
 * Keys are LAL's exact snake_case names. Missing keys take their type's zero value, then the
 * exception rules of docs/config.md §2 run in order; the `gb28181` block (§3.18, seed-only) gets its
 * own defaults. Deviations from upstream, on purpose:
 * - docs/quirks.md Q-CFG-1 FIXed: each HTTP module defaults and normalises its *own* `url_pattern`.
 * - Unknown keys are warned about (`config: unknown key rtmp.foo (ignored)`), not silent.
 * - A JSON error names the line and column; a number written with a fraction or exponent where
 *   an int is expected is an error, as in Go's decoder (we parse the text ourselves to see it).
 * - JSON `null` counts as present and yields the zero value (Go's decoder leaves the field
 *   untouched, and LAL's presence check sees the key).
 */
import { statSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { CONF_VERSION } from '../core/version.ts';

// ---------------------------------------------------------------------------------------------
// Types (docs/config.md §3)

/** §3.2 */
export interface RtmpConfig {
  enable: boolean;
  addr: string;
  rtmps_enable: boolean;
  rtmps_addr: string;
  rtmps_cert_file: string;
  rtmps_key_file: string;
  /** GOPs cached for late RTMP subscribers and relay push; 0 = none. */
  gop_num: number;
  single_gop_max_frame_num: number;
  merge_write_size: number;
}

/** §3.3 */
export interface InSessionConfig {
  add_dummy_audio_enable: boolean;
  add_dummy_audio_wait_audio_ms: number;
}

/** §3.4 */
export interface DefaultHttpConfig {
  http_listen_addr: string;
  https_listen_addr: string;
  https_cert_file: string;
  https_key_file: string;
}

/**
 * Per-module listen settings of httpflv/httpts/hls. Optional in the file; after parsing they
 * always hold the effective value (copied from `default_http` when empty, docs/config.md §2 rule 2).
 */
export interface HttpListenConfig {
  http_listen_addr: string;
  https_listen_addr: string;
  https_cert_file: string;
  https_key_file: string;
}

/** §3.5 */
export interface HttpFlvConfig extends HttpListenConfig {
  enable: boolean;
  enable_https: boolean;
  url_pattern: string;
  gop_num: number;
  single_gop_max_frame_num: number;
}

/** §3.6 */
export interface HttpTsConfig extends HttpListenConfig {
  enable: boolean;
  enable_https: boolean;
  url_pattern: string;
  gop_num: number;
  single_gop_max_frame_num: number;
}

/** §3.7 */
export interface HlsConfig extends HttpListenConfig {
  enable: boolean;
  enable_https: boolean;
  url_pattern: string;
  out_path: string;
  fragment_duration_ms: number;
  fragment_num: number;
  delete_threshold: number;
  /** 0 never delete, 1 delete the stream directory after the end, 2 delete while streaming. */
  cleanup_mode: number;
  use_memory_as_disk_flag: boolean;
  sub_session_timeout_ms: number;
  sub_session_hash_key: string;
}

/** §3.8 */
export interface RtspConfig {
  enable: boolean;
  addr: string;
  rtsps_enable: boolean;
  rtsps_addr: string;
  rtsps_cert_file: string;
  rtsps_key_file: string;
  out_wait_key_frame_flag: boolean;
  auth_enable: boolean;
  /** 0 Basic, 1 Digest (MD5). */
  auth_method: number;
  username: string;
  password: string;
  ws_rtsp_enable: boolean;
  ws_rtsp_addr: string;
}

/** §3.9 */
export interface RecordConfig {
  enable_flv: boolean;
  flv_out_path: string;
  enable_mpegts: boolean;
  mpegts_out_path: string;
}

/** §3.10 */
export interface RelayPushConfig {
  enable: boolean;
  addr_list: string[];
}

/** §3.11 */
export interface StaticRelayPullConfig {
  enable: boolean;
  addr: string;
}

/** §3.12 */
export interface HttpApiConfig {
  enable: boolean;
  addr: string;
}

/** §3.13 — an empty URL disables that event. */
export interface HttpNotifyConfig {
  enable: boolean;
  update_interval_sec: number;
  on_server_start: string;
  on_update: string;
  on_pub_start: string;
  on_pub_stop: string;
  on_sub_start: string;
  on_sub_stop: string;
  on_relay_pull_start: string;
  on_relay_pull_stop: string;
  on_rtmp_connect: string;
  on_hls_make_ts: string;
}

/** §3.14 */
export interface SimpleAuthConfig {
  key: string;
  dangerous_lal_secret: string;
  pub_rtmp_enable: boolean;
  sub_rtmp_enable: boolean;
  sub_httpflv_enable: boolean;
  sub_httpts_enable: boolean;
  pub_rtsp_enable: boolean;
  sub_rtsp_enable: boolean;
  hls_m3u8_enable: boolean;
}

/** §3.15 */
export interface PprofConfig {
  enable: boolean;
  addr: string;
}

/** §3.16 — `level`: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 fatal, 6 panic, 7 nothing. */
export interface LogConfig {
  level: number;
  filename: string;
  is_to_stdout: boolean;
  is_rotate_daily: boolean;
  is_rotate_hourly: boolean;
  short_file_flag: boolean;
  timestamp_flag: boolean;
  timestamp_with_ms_flag: boolean;
  level_flag: boolean;
  assert_behavior: number;
}

/** §3.17 */
export interface DebugConfig {
  log_group_interval_sec: number;
  log_group_max_group_num: number;
  log_group_max_sub_num_per_group: number;
}

/** §3.18 [SEED] */
export interface Gb28181Config {
  enable: boolean;
  local_sip_id: string;
  local_sip_ip: string;
  local_sip_port: number;
  local_sip_domain: string;
  username: string;
  password: string;
  expires: number;
}

/** The whole file (docs/config.md §3), after defaults were applied. */
export interface LalConfig {
  conf_version: string;
  server_id: string;
  rtmp: RtmpConfig;
  in_session: InSessionConfig;
  default_http: DefaultHttpConfig;
  httpflv: HttpFlvConfig;
  httpts: HttpTsConfig;
  hls: HlsConfig;
  rtsp: RtspConfig;
  record: RecordConfig;
  relay_push: RelayPushConfig;
  static_relay_pull: StaticRelayPullConfig;
  http_api: HttpApiConfig;
  http_notify: HttpNotifyConfig;
  simple_auth: SimpleAuthConfig;
  pprof: PprofConfig;
  log: LogConfig;
  debug: DebugConfig;
  gb28181: Gb28181Config;
}

// ---------------------------------------------------------------------------------------------
// Schema: one entry per key, checked against the interfaces above by the type system.

type Kind = 'bool' | 'int' | 'string' | 'string[]';
type KindOf<T> = T extends boolean ? 'bool' : T extends number ? 'int' : T extends string ? 'string' : 'string[]';
type SchemaOf<T> = { readonly [K in keyof T]-?: KindOf<T[K]> };
type ScalarKey = 'conf_version' | 'server_id';
type SectionName = Exclude<keyof LalConfig, ScalarKey>;

const HTTP_LISTEN_SCHEMA = {
  http_listen_addr: 'string',
  https_listen_addr: 'string',
  https_cert_file: 'string',
  https_key_file: 'string',
} as const satisfies SchemaOf<HttpListenConfig>;

const SECTIONS: { readonly [S in SectionName]: SchemaOf<LalConfig[S]> } = {
  rtmp: {
    enable: 'bool', addr: 'string', rtmps_enable: 'bool', rtmps_addr: 'string',
    rtmps_cert_file: 'string', rtmps_key_file: 'string', gop_num: 'int',
    single_gop_max_frame_num: 'int', merge_write_size: 'int',
  },
  in_session: { add_dummy_audio_enable: 'bool', add_dummy_audio_wait_audio_ms: 'int' },
  default_http: HTTP_LISTEN_SCHEMA,
  httpflv: {
    enable: 'bool', enable_https: 'bool', url_pattern: 'string', gop_num: 'int',
    single_gop_max_frame_num: 'int', ...HTTP_LISTEN_SCHEMA,
  },
  httpts: {
    enable: 'bool', enable_https: 'bool', url_pattern: 'string', gop_num: 'int',
    single_gop_max_frame_num: 'int', ...HTTP_LISTEN_SCHEMA,
  },
  hls: {
    enable: 'bool', enable_https: 'bool', url_pattern: 'string', out_path: 'string',
    fragment_duration_ms: 'int', fragment_num: 'int', delete_threshold: 'int',
    cleanup_mode: 'int', use_memory_as_disk_flag: 'bool', sub_session_timeout_ms: 'int',
    sub_session_hash_key: 'string', ...HTTP_LISTEN_SCHEMA,
  },
  rtsp: {
    enable: 'bool', addr: 'string', rtsps_enable: 'bool', rtsps_addr: 'string',
    rtsps_cert_file: 'string', rtsps_key_file: 'string', out_wait_key_frame_flag: 'bool',
    auth_enable: 'bool', auth_method: 'int', username: 'string', password: 'string',
    ws_rtsp_enable: 'bool', ws_rtsp_addr: 'string',
  },
  record: {
    enable_flv: 'bool', flv_out_path: 'string', enable_mpegts: 'bool', mpegts_out_path: 'string',
  },
  relay_push: { enable: 'bool', addr_list: 'string[]' },
  static_relay_pull: { enable: 'bool', addr: 'string' },
  http_api: { enable: 'bool', addr: 'string' },
  http_notify: {
    enable: 'bool', update_interval_sec: 'int', on_server_start: 'string', on_update: 'string',
    on_pub_start: 'string', on_pub_stop: 'string', on_sub_start: 'string', on_sub_stop: 'string',
    on_relay_pull_start: 'string', on_relay_pull_stop: 'string', on_rtmp_connect: 'string',
    on_hls_make_ts: 'string',
  },
  simple_auth: {
    key: 'string', dangerous_lal_secret: 'string', pub_rtmp_enable: 'bool', sub_rtmp_enable: 'bool',
    sub_httpflv_enable: 'bool', sub_httpts_enable: 'bool', pub_rtsp_enable: 'bool',
    sub_rtsp_enable: 'bool', hls_m3u8_enable: 'bool',
  },
  pprof: { enable: 'bool', addr: 'string' },
  log: {
    level: 'int', filename: 'string', is_to_stdout: 'bool', is_rotate_daily: 'bool',
    is_rotate_hourly: 'bool', short_file_flag: 'bool', timestamp_flag: 'bool',
    timestamp_with_ms_flag: 'bool', level_flag: 'bool', assert_behavior: 'int',
  },
  debug: {
    log_group_interval_sec: 'int', log_group_max_group_num: 'int',
    log_group_max_sub_num_per_group: 'int',
  },
  gb28181: {
    enable: 'bool', local_sip_id: 'string', local_sip_ip: 'string', local_sip_port: 'int',
    local_sip_domain: 'string', username: 'string', password: 'string', expires: 'int',
  },
};

const SCALARS: { readonly [K in ScalarKey]: 'string' } = { conf_version: 'string', server_id: 'string' };

/** Top-level comment key of the shipped file; ignored whatever its type. */
export const DOC_KEY = '# doc of config';

/** Modules whose listen settings fall back to `default_http` (docs/config.md §2 rule 2). */
export const HTTP_MODULES = ['httpflv', 'httpts', 'hls'] as const;
export type HttpModule = (typeof HTTP_MODULES)[number];

/** `url_pattern` used when an enabled module has none (docs/config.md §2 rule 6, docs/quirks.md Q-CFG-1 FIXed). */
export const DEFAULT_URL_PATTERNS: { readonly [M in HttpModule]: string } = {
  httpflv: '/live/',
  httpts: '/live/',
  hls: '/hls/',
};

/** Log defaults applied key by key when absent (docs/config.md §2 rule 1). */
const LOG_DEFAULTS: Omit<LogConfig, 'is_rotate_hourly'> = {
  level: 1,
  filename: './logs/lalserver.log',
  is_to_stdout: true,
  is_rotate_daily: true,
  short_file_flag: true,
  timestamp_flag: true,
  timestamp_with_ms_flag: true,
  level_flag: true,
  assert_behavior: 1,
};

/** gb28181 defaults (docs/config.md §3.18), applied when absent **or** zero/empty. */
export const GB28181_DEFAULT_SIP_PORT = 5060;
export const GB28181_DEFAULT_EXPIRES_SEC = 3600;

/** Sections left out of the "missing keys" warning: log has defaults, gb28181 is seed-only. */
const UNLISTED_SECTIONS: ReadonlySet<string> = new Set(['log', 'gb28181']);

// ---------------------------------------------------------------------------------------------
// JSON text → values, with line/column errors and the raw text of numbers.

/** A JSON number with its literal, so `1.0` and `1e3` can be refused where Go wants an int. */
class JsonNum {
  constructor(readonly value: number, readonly raw: string) {}
}
type JsonValue = null | boolean | string | JsonNum | JsonValue[] | Map<string, JsonValue>;

/** The config is two levels deep; this only keeps a hostile file from exhausting the stack. */
const MAX_JSON_DEPTH = 64;

class JsonSyntaxError extends Error {}

/** Recursive-descent JSON (RFC 8259) reader; errors carry 1-based line and column. */
class JsonReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1; // tolerate a UTF-8 BOM
    const v = this.value(0);
    this.ws();
    if (this.pos < this.text.length) this.fail(`Unexpected ${this.tokenText()} after the top-level value`);
    return v;
  }

  private where(at: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    // Columns count code points, as editors do (an emoji is one column, not two UTF-16 units).
    let column = 1;
    for (let i = lineStart; i < at && i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) column++;
    }
    return `line ${line} column ${column}`;
  }

  private fail(what: string, at = this.pos): never {
    throw new JsonSyntaxError(`${what} at ${this.where(at)}`);
  }

  private tokenText(): string {
    if (this.pos >= this.text.length) return 'end of input';
    const cp = this.text.codePointAt(this.pos) ?? 0;
    return `token ${JSON.stringify(String.fromCodePoint(cp))}`;
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`Nesting deeper than ${MAX_JSON_DEPTH} levels`);
    this.ws();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (this.text.startsWith('true', this.pos)) return this.literal('true', true);
    if (this.text.startsWith('false', this.pos)) return this.literal('false', false);
    if (this.text.startsWith('null', this.pos)) return this.literal('null', null);
    return this.fail(`Unexpected ${this.tokenText()}`);
  }

  private literal<T>(word: string, v: T): T {
    this.pos += word.length;
    return v;
  }

  private object(depth: number): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    this.pos++; // {
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail(`Unexpected ${this.tokenText()}, expected a string key`);
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') this.fail(`Unexpected ${this.tokenText()}, expected ':'`);
      this.pos++;
      out.set(key, this.value(depth + 1)); // duplicate keys: the last one wins, as in Go
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      this.fail(`Unexpected ${this.tokenText()}, expected ',' or '}'`);
    }
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      this.fail(`Unexpected ${this.tokenText()}, expected ',' or ']'`);
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    let run = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('Unterminated string', start);
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('Control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(run, this.pos);
      const e = t[this.pos + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = t.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\u escape in string');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(e === undefined ? 'Unterminated string' : `Invalid escape ${JSON.stringify('\\' + e)} in string`);
      }
      this.pos += 2;
      run = this.pos;
    }
  }

  private number(): JsonNum {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const hit = m.exec(this.text);
    if (!hit) return this.fail('Invalid number');
    const raw = hit[0];
    const next = this.text[this.pos + raw.length];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail('Invalid number');
    this.pos += raw.length;
    return new JsonNum(Number(raw), raw);
  }
}

// ---------------------------------------------------------------------------------------------
// Values → LalConfig

/** `string "1"`, `number 1.5`, `boolean true`, `null`, `array`, `object` — for type errors. */
function describe(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (typeof v === 'string') {
    const s = JSON.stringify(v);
    return `string ${s.length > 60 ? s.slice(0, 57) + '…"' : s}`;
  }
  if (v instanceof JsonNum) return `number ${v.raw}`;
  return Array.isArray(v) ? 'array' : 'object';
}

function zeroOf(kind: Kind): boolean | number | string | string[] {
  switch (kind) {
    case 'bool': return false;
    case 'int': return 0;
    case 'string': return '';
    case 'string[]': return [];
  }
}

/** Converts one present value; `null` gives the zero value (Go leaves the field untouched). */
function convert(path: string, kind: Kind, v: JsonValue): boolean | number | string | string[] {
  if (v === null) return zeroOf(kind);
  switch (kind) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      throw new ConfigError(`config: ${path} must be a boolean, got ${describe(v)}`);
    case 'string':
      if (typeof v === 'string') return v;
      throw new ConfigError(`config: ${path} must be a string, got ${describe(v)}`);
    case 'int':
      if (v instanceof JsonNum && /^-?\d+$/.test(v.raw)) {
        if (!Number.isSafeInteger(v.value)) {
          throw new ConfigError(`config: ${path} must be an integer within ±${Number.MAX_SAFE_INTEGER}, got ${describe(v)}`);
        }
        return v.value;
      }
      throw new ConfigError(`config: ${path} must be an integer, got ${describe(v)}`);
    case 'string[]':
      if (!Array.isArray(v)) throw new ConfigError(`config: ${path} must be an array of strings, got ${describe(v)}`);
      return v.map((item, i) => convert(`${path}[${i}]`, 'string', item) as string);
  }
}

function normaliseUrlPattern(p: string): string {
  if (p === '') return p;
  let out = p.startsWith('/') ? p : `/${p}`;
  if (!out.endsWith('/')) out += '/';
  return out;
}

/**
 * Parses the text of `lalserver.conf.json` (docs/config.md §2–§3). Throws `ConfigError` for invalid
 * JSON (naming line and column) and for a value of the wrong JSON type; everything else is a
 * warning: the list of missing keys (log.* and per-module HTTP address keys excluded), each
 * unknown key, a `conf_version` other than this build's, and an unusable enabled gb28181 block.
 */
export function parseConfig(text: string, opts: { file?: string } = {}): { config: LalConfig; warnings: string[] } {
  let root: JsonValue;
  try {
    root = new JsonReader(text).parseDocument();
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const where = opts.file ? ` in ${opts.file}` : '';
    throw new ConfigError(`config: invalid JSON${where}: ${e.message}`);
  }
  if (!(root instanceof Map)) {
    throw new ConfigError(`config: the top level must be a JSON object, got ${describe(root)}`);
  }

  const warnings: string[] = [];
  const present = new Set<string>();
  const missing: string[] = [];
  const out: Record<string, unknown> = {};

  for (const key of root.keys()) {
    if (key !== DOC_KEY && !Object.hasOwn(SCALARS, key) && !Object.hasOwn(SECTIONS, key)) {
      warnings.push(`config: unknown key ${key} (ignored)`);
    }
  }

  for (const key of Object.keys(SCALARS) as ScalarKey[]) {
    const v = root.get(key);
    if (v === undefined) {
      out[key] = '';
      missing.push(key);
    } else {
      out[key] = convert(key, 'string', v);
      present.add(key);
    }
  }

  for (const name of Object.keys(SECTIONS) as SectionName[]) {
    const schema = SECTIONS[name] as Record<string, Kind>;
    const section: Record<string, unknown> = {};
    const raw = root.get(name);
    let obj: Map<string, JsonValue> | undefined;
    if (raw !== undefined && raw !== null) {
      if (!(raw instanceof Map)) throw new ConfigError(`config: ${name} must be an object, got ${describe(raw)}`);
      obj = raw;
      for (const k of obj.keys()) {
        if (!Object.hasOwn(schema, k)) warnings.push(`config: unknown key ${name}.${k} (ignored)`);
      }
    }
    const sectionMissing: string[] = [];
    for (const [k, kind] of Object.entries(schema)) {
      const path = `${name}.${k}`;
      const v = obj?.get(k);
      if (v === undefined) {
        section[k] = zeroOf(kind);
        const isHttpAddr = name !== 'default_http' && Object.hasOwn(HTTP_LISTEN_SCHEMA, k);
        if (!isHttpAddr) sectionMissing.push(path);
      } else {
        section[k] = convert(path, kind, v);
        present.add(path);
      }
    }
    if (!UNLISTED_SECTIONS.has(name)) {
      if (obj === undefined) missing.push(`${name}.*`);
      else missing.push(...sectionMissing);
    }
    out[name] = section;
  }

  const config = out as unknown as LalConfig;
  applyExceptions(config, present);
  applyGb28181Defaults(config.gb28181);

  if (missing.length > 0) {
    warnings.push(`config: missing keys, zero values or defaults used: ${missing.join(', ')}`);
  }
  if (present.has('conf_version') && config.conf_version !== CONF_VERSION) {
    warnings.push(
      `config: conf_version ${JSON.stringify(config.conf_version)} differs from ${CONF_VERSION} expected by this build`,
    );
  }
  const gbProblem = validateGb28181(config.gb28181);
  if (gbProblem) warnings.push(`config: ${gbProblem}; the SIP service will not start`);
  return { config, warnings };
}

/** docs/config.md §2 exceptions 1–7, in order (rules 6–7 with docs/quirks.md Q-CFG-1 FIXed). */
function applyExceptions(c: LalConfig, present: ReadonlySet<string>): void {
  // 1. log defaults, key by key.
  const log = c.log as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(LOG_DEFAULTS)) {
    if (!present.has(`log.${k}`)) log[k] = v;
  }
  // 2. per-module HTTP listen settings fall back to default_http when empty.
  for (const m of HTTP_MODULES) {
    const mod = c[m];
    for (const k of Object.keys(HTTP_LISTEN_SCHEMA) as (keyof HttpListenConfig)[]) {
      if (mod[k] === '') mod[k] = c.default_http[k];
    }
  }
  // 3–4. hls cleanup defaults (only when hls.enable).
  if (c.hls.enable && !present.has('hls.cleanup_mode')) c.hls.cleanup_mode = 1;
  if (c.hls.enable && !present.has('hls.delete_threshold')) c.hls.delete_threshold = c.hls.fragment_num;
  // 5. HLS player-session timeout.
  if (c.hls.sub_session_hash_key !== '' && c.hls.sub_session_timeout_ms === 0) {
    c.hls.sub_session_timeout_ms = c.hls.fragment_num * c.hls.fragment_duration_ms * 2;
  }
  // 6–7. url patterns: default and normalise each module's own (docs/quirks.md Q-CFG-1 FIX).
  for (const m of HTTP_MODULES) {
    const mod = c[m];
    if ((mod.enable || mod.enable_https) && !present.has(`${m}.url_pattern`)) {
      mod.url_pattern = DEFAULT_URL_PATTERNS[m];
    }
    mod.url_pattern = normaliseUrlPattern(mod.url_pattern);
  }
}

function applyGb28181Defaults(g: Gb28181Config): void {
  if (g.local_sip_port === 0) g.local_sip_port = GB28181_DEFAULT_SIP_PORT;
  if (g.local_sip_domain === '') g.local_sip_domain = g.local_sip_id;
  if (g.expires === 0) g.expires = GB28181_DEFAULT_EXPIRES_SEC;
}

/**
 * Why an enabled gb28181 block cannot start the SIP service (docs/config.md §3.18 [PROPOSED]),
 * or `undefined` when it can (or is disabled).
 */
export function validateGb28181(g: Gb28181Config): string | undefined {
  if (!g.enable) return undefined;
  if (!/^[0-9]{20}$/.test(g.local_sip_id)) {
    return `gb28181.local_sip_id must be exactly 20 digits, got ${JSON.stringify(g.local_sip_id)}`;
  }
  if (g.local_sip_ip === '') return 'gb28181.local_sip_ip must not be empty when gb28181.enable is true';
  if (g.local_sip_port < 1 || g.local_sip_port > 65535) {
    return `gb28181.local_sip_port must be 1..65535, got ${g.local_sip_port}`;
  }
  return undefined;
}

/**
 * The values of this repo's shipped `conf/lalserver.conf.json` (LAL's file with `gop_num` 1 for
 * rtmp/httpflv/httpts), plus gb28181 defaults. A fresh object on each call.
 */
export function defaultConfig(): LalConfig {
  const http = {
    http_listen_addr: ':8080',
    https_listen_addr: ':4433',
    https_cert_file: './conf/cert.pem',
    https_key_file: './conf/key.pem',
  };
  const notify = (ev: string) => `http://127.0.0.1:10101/${ev}`;
  return {
    conf_version: CONF_VERSION,
    server_id: '1',
    rtmp: {
      enable: true,
      addr: ':1935',
      rtmps_enable: true,
      rtmps_addr: ':4935',
      rtmps_cert_file: './conf/cert.pem',
      rtmps_key_file: './conf/key.pem',
      gop_num: 1,
      single_gop_max_frame_num: 0,
      merge_write_size: 0,
    },
    in_session: { add_dummy_audio_enable: false, add_dummy_audio_wait_audio_ms: 150 },
    default_http: { ...http },
    httpflv: { enable: true, enable_https: true, url_pattern: '/', gop_num: 1, single_gop_max_frame_num: 0, ...http },
    httpts: { enable: true, enable_https: true, url_pattern: '/', gop_num: 1, single_gop_max_frame_num: 0, ...http },
    hls: {
      enable: true,
      enable_https: true,
      url_pattern: '/hls/',
      out_path: './lal_record/hls/',
      fragment_duration_ms: 3000,
      fragment_num: 6,
      delete_threshold: 6,
      cleanup_mode: 1,
      use_memory_as_disk_flag: false,
      sub_session_timeout_ms: 30000,
      sub_session_hash_key: '',
      ...http,
    },
    rtsp: {
      enable: true,
      addr: ':5544',
      rtsps_enable: true,
      rtsps_addr: ':5322',
      rtsps_cert_file: './conf/cert.pem',
      rtsps_key_file: './conf/key.pem',
      out_wait_key_frame_flag: true,
      auth_enable: false,
      auth_method: 1,
      username: 'q191201771',
      password: 'pengrl',
      ws_rtsp_enable: true,
      ws_rtsp_addr: ':5566',
    },
    record: {
      enable_flv: false,
      flv_out_path: './lal_record/flv/',
      enable_mpegts: false,
      mpegts_out_path: './lal_record/mpegts',
    },
    relay_push: { enable: false, addr_list: [] },
    static_relay_pull: { enable: false, addr: '' },
    http_api: { enable: true, addr: ':8083' },
    http_notify: {
      enable: false,
      update_interval_sec: 5,
      on_server_start: notify('on_server_start'),
      on_update: notify('on_update'),
      on_pub_start: notify('on_pub_start'),
      on_pub_stop: notify('on_pub_stop'),
      on_sub_start: notify('on_sub_start'),
      on_sub_stop: notify('on_sub_stop'),
      on_relay_pull_start: notify('on_relay_pull_start'),
      on_relay_pull_stop: notify('on_relay_pull_stop'),
      on_rtmp_connect: notify('on_rtmp_connect'),
      on_hls_make_ts: notify('on_hls_make_ts'),
    },
    simple_auth: {
      key: 'q191201771',
      dangerous_lal_secret: '', // LAL ships "pengrl" (docs/quirks.md Q-CFG-5)
      pub_rtmp_enable: false,
      sub_rtmp_enable: false,
      sub_httpflv_enable: false,
      sub_httpts_enable: false,
      pub_rtsp_enable: false,
      sub_rtsp_enable: false,
      hls_m3u8_enable: false,
    },
    pprof: { enable: true, addr: ':8084' },
    log: { ...LOG_DEFAULTS, is_rotate_hourly: false },
    debug: { log_group_interval_sec: 30, log_group_max_group_num: 10, log_group_max_sub_num_per_group: 10 },
    gb28181: {
      enable: false,
      local_sip_id: '',
      local_sip_ip: '',
      local_sip_port: GB28181_DEFAULT_SIP_PORT,
      local_sip_domain: '',
      username: '',
      password: '',
      expires: GB28181_DEFAULT_EXPIRES_SEC,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Files (docs/config.md §1)

/** Searched in this order, relative to the working directory, when no `-c` is given. */
export const CONFIG_SEARCH_PATHS = [
  'lalserver.conf.json',
  './conf/lalserver.conf.json',
  '../lalserver.conf.json',
  '../conf/lalserver.conf.json',
  '../../lalserver.conf.json',
  '../../conf/lalserver.conf.json',
  '../../../lalserver.conf.json',
  '../../../conf/lalserver.conf.json',
  'lal/conf/lalserver.conf.json',
] as const;

/**
 * First entry of `CONFIG_SEARCH_PATHS` under `cwd` that is a regular file with size > 0, as an
 * absolute path; `undefined` when none is (the command then prints usage and exits 1). Each
 * miss is reported through `onMiss` as a warning line.
 */
export function findConfigFile(cwd: string, onMiss?: (warning: string) => void): string | undefined {
  for (const rel of CONFIG_SEARCH_PATHS) {
    const abs = resolve(cwd, rel);
    let why: string;
    try {
      const st = statSync(abs);
      if (!st.isFile()) why = 'not a regular file';
      else if (st.size === 0) why = 'empty file';
      else return abs;
    } catch (e) {
      why = (e as { code?: string }).code === 'ENOENT' ? 'not found' : osReason(e);
    }
    onMiss?.(`config: no usable config file at ${rel} (${why})`);
  }
  return undefined;
}

/** `ENOENT: no such file or directory` from a Node/Bun fs error (without the repeated path). */
function osReason(e: unknown): string {
  if (e instanceof Error) return e.message.split(', ')[0] || e.name;
  return String(e);
}

/** Reads and parses a config file; an unreadable file is a `ConfigError` naming path and reason. */
export function loadConfigFile(path: string): { config: LalConfig; warnings: string[]; raw: string } {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`config: cannot read ${path}: ${osReason(e)}`);
  }
  const { config, warnings } = parseConfig(raw, { file: path });
  return { config, warnings, raw };
}

// ---------------------------------------------------------------------------------------------
// Listen addresses

/**
 * Splits a Go-style listen address: `":1935"` → all interfaces (`0.0.0.0`), `"127.0.0.1:0"`,
 * `"[::1]:8080"` → `::1`, `"localhost:80"`. IPv6 hosts need brackets; the port is 0–65535
 * (0 = any free port). Anything else is a `ConfigError`.
 */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const bad = (why: string): never => {
    throw new ConfigError(`config: invalid listen address ${JSON.stringify(addr)}: ${why}`);
  };
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0) bad('missing ] in address');
    host = addr.slice(1, close);
    if (addr[close + 1] !== ':') bad('missing port');
    portText = addr.slice(close + 2);
    if (host === '') bad('empty IPv6 host');
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon < 0) bad('missing port');
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(':')) bad('too many colons (IPv6 hosts go in brackets: [::1]:8080)');
    if (/[\s/\[\]]/.test(host)) bad('invalid host');
  }
  if (!/^[0-9]{1,5}$/.test(portText)) bad(portText === '' ? 'missing port' : `invalid port ${JSON.stringify(portText)}`);
  const port = Number(portText);
  if (port > 65535) bad(`port ${port} out of range 0..65535`);
  return { host: host === '' ? '0.0.0.0' : host, port };
}
