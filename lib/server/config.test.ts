import { test, expect, describe, beforeAll, afterAll } from 'bun:test';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import {
  parseConfig,
  defaultConfig,
  findConfigFile,
  loadConfigFile,
  parseListenAddr,
  validateGb28181,
  CONFIG_SEARCH_PATHS,
  type LalConfig,
} from './config.ts';
import { mulberry32 } from '../core/testing.ts';

const CONF = new URL('../../conf/lalserver.conf.json', import.meta.url);
const TMPL = new URL('../../conf/lalserver.conf.json.tmpl', import.meta.url);
const shippedText = readFileSync(CONF, 'utf8');
const tmplText = readFileSync(TMPL, 'utf8');

/** Parses and returns the config, failing the test on any warning. */
function quiet(text: string): LalConfig {
  const { config, warnings } = parseConfig(text);
  expect(warnings.filter((w) => !w.includes('missing keys'))).toEqual([]);
  return config;
}

/** The ConfigError message thrown by `fn` (fails if it throws anything else or nothing). */
function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('shipped files (docs/config.md §3, §4)', () => {
  test('conf/lalserver.conf.json parses with no warnings and equals defaultConfig()', () => {
    const { config, warnings } = parseConfig(shippedText);
    expect(warnings).toEqual([]);
    expect(config).toEqual(defaultConfig());
  });

  test('shipped values are LAL’s, except gop_num 1', () => {
    const c = defaultConfig();
    expect(c.rtmp.gop_num).toBe(1);
    expect(c.httpflv.gop_num).toBe(1);
    expect(c.httpts.gop_num).toBe(1);
    expect([c.rtmp.addr, c.rtmp.rtmps_addr, c.rtsp.addr, c.rtsp.rtsps_addr, c.rtsp.ws_rtsp_addr]).toEqual([
      ':1935', ':4935', ':5544', ':5322', ':5566',
    ]);
    expect([c.default_http.http_listen_addr, c.default_http.https_listen_addr, c.http_api.addr, c.pprof.addr]).toEqual([
      ':8080', ':4433', ':8083', ':8084',
    ]);
    const raw = JSON.parse(shippedText);
    expect(raw['# doc of config']).toStartWith('https://');
    expect(raw.gb28181).toBeUndefined();
    expect(raw.conf_version).toBe('v0.4.1');
  });

  test('every key of the shipped file round-trips into the parsed config', () => {
    const raw = JSON.parse(shippedText) as Record<string, unknown>;
    const c = parseConfig(shippedText).config as unknown as Record<string, Record<string, unknown>>;
    for (const [k, v] of Object.entries(raw)) {
      if (k === '# doc of config') continue;
      if (typeof v !== 'object') {
        expect(c[k] as unknown).toBe(v);
        continue;
      }
      for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) expect([k, kk, c[k][kk]]).toEqual([k, kk, vv]);
    }
  });

  test('the .tmpl differs only by the missing ws_rtsp keys', () => {
    const { config, warnings } = parseConfig(tmplText);
    expect(warnings).toEqual(['config: missing keys, zero values or defaults used: rtsp.ws_rtsp_enable, rtsp.ws_rtsp_addr']);
    const want = defaultConfig();
    want.rtsp.ws_rtsp_enable = false;
    want.rtsp.ws_rtsp_addr = '';
    expect(config).toEqual(want);
    const a = JSON.parse(shippedText);
    delete a.rtsp.ws_rtsp_enable;
    delete a.rtsp.ws_rtsp_addr;
    expect(JSON.parse(tmplText)).toEqual(a);
  });

  test('defaultConfig() returns a fresh object each time', () => {
    const a = defaultConfig();
    a.relay_push.addr_list.push('x:1');
    a.rtmp.gop_num = 9;
    expect(defaultConfig().relay_push.addr_list).toEqual([]);
    expect(defaultConfig().rtmp.gop_num).toBe(1);
  });
});

describe('missing keys (docs/config.md §2)', () => {
  test('{} gives zero values, log defaults and gb28181 defaults', () => {
    const { config, warnings } = parseConfig('{}');
    const sections = config as unknown as Record<string, unknown>;
    for (const [name, section] of Object.entries(sections)) {
      if (typeof section !== 'object') {
        expect([name, section]).toEqual([name, '']);
        continue;
      }
      if (name === 'log' || name === 'gb28181') continue;
      for (const [k, v] of Object.entries(section as Record<string, unknown>)) {
        const zero = Array.isArray(v) ? v.length === 0 : v === false || v === 0 || v === '';
        expect([name, k, zero]).toEqual([name, k, true]);
      }
    }
    expect(config.log).toEqual({
      level: 1,
      filename: './logs/lalserver.log',
      is_to_stdout: true,
      is_rotate_daily: true,
      is_rotate_hourly: false,
      short_file_flag: true,
      timestamp_flag: true,
      timestamp_with_ms_flag: true,
      level_flag: true,
      assert_behavior: 1,
    });
    expect(config.gb28181).toEqual({
      enable: false, local_sip_id: '', local_sip_ip: '', local_sip_port: 5060, local_sip_domain: '',
      username: '', password: '', expires: 3600,
    });
    expect(warnings).toEqual([
      'config: missing keys, zero values or defaults used: conf_version, server_id, rtmp.*, in_session.*, ' +
        'default_http.*, httpflv.*, httpts.*, hls.*, rtsp.*, record.*, relay_push.*, static_relay_pull.*, ' +
        'http_api.*, http_notify.*, simple_auth.*, pprof.*, debug.*',
    ]);
  });

  test('the missing list names single keys and skips log.* and per-module HTTP address keys', () => {
    const raw = JSON.parse(shippedText);
    delete raw.rtmp.merge_write_size;
    delete raw.hls.sub_session_hash_key;
    delete raw.log.level;
    delete raw.server_id;
    const { config, warnings } = parseConfig(JSON.stringify(raw));
    expect(warnings).toEqual([
      'config: missing keys, zero values or defaults used: server_id, rtmp.merge_write_size, hls.sub_session_hash_key',
    ]);
    expect(config.log.level).toBe(1);
    expect(config.server_id).toBe('');
  });

  test('null counts as present and gives the zero value', () => {
    const c = quiet('{"log":{"is_to_stdout":null,"level":null},"hls":{"enable":true,"cleanup_mode":null}}');
    expect(c.log.is_to_stdout).toBe(false);
    expect(c.log.level).toBe(0);
    expect(c.hls.cleanup_mode).toBe(0);
    expect(quiet('{"rtmp":null}').rtmp.enable).toBe(false);
    expect(quiet('{"relay_push":{"addr_list":["a:1",null]}}').relay_push.addr_list).toEqual(['a:1', '']);
  });
});

describe('exception rules, in order (docs/config.md §2)', () => {
  test('1. log defaults apply key by key; explicit values are kept', () => {
    const c = quiet('{"log":{"level":3,"is_to_stdout":false,"filename":""}}');
    expect(c.log.level).toBe(3);
    expect(c.log.is_to_stdout).toBe(false);
    expect(c.log.filename).toBe('');
    expect(c.log.is_rotate_daily).toBe(true);
    expect(c.log.assert_behavior).toBe(1);
    expect(c.log.is_rotate_hourly).toBe(false);
    expect(quiet('{"log":{"level":0,"assert_behavior":2,"is_rotate_hourly":true}}').log).toMatchObject({
      level: 0,
      assert_behavior: 2,
      is_rotate_hourly: true,
    });
  });

  test('2. empty per-module HTTP settings are copied from default_http', () => {
    const c = quiet(
      JSON.stringify({
        default_http: { http_listen_addr: ':8080', https_listen_addr: ':4433', https_cert_file: 'c.pem', https_key_file: 'k.pem' },
        httpflv: { http_listen_addr: ':9000', https_key_file: '' },
        hls: { https_listen_addr: ':9443' },
      }),
    );
    expect(c.httpflv).toMatchObject({ http_listen_addr: ':9000', https_listen_addr: ':4433', https_cert_file: 'c.pem', https_key_file: 'k.pem' });
    expect(c.httpts).toMatchObject({ http_listen_addr: ':8080', https_listen_addr: ':4433', https_cert_file: 'c.pem', https_key_file: 'k.pem' });
    expect(c.hls).toMatchObject({ http_listen_addr: ':8080', https_listen_addr: ':9443' });
  });

  test('3. hls.cleanup_mode defaults to 1 only when hls.enable and absent', () => {
    expect(quiet('{"hls":{"enable":true}}').hls.cleanup_mode).toBe(1);
    expect(quiet('{"hls":{"enable":true,"cleanup_mode":0}}').hls.cleanup_mode).toBe(0);
    expect(quiet('{"hls":{"enable":true,"cleanup_mode":2}}').hls.cleanup_mode).toBe(2);
    expect(quiet('{"hls":{"enable":false}}').hls.cleanup_mode).toBe(0);
    expect(quiet('{"hls":{"enable_https":true}}').hls.cleanup_mode).toBe(0);
  });

  test('4. hls.delete_threshold defaults to fragment_num only when hls.enable and absent', () => {
    expect(quiet('{"hls":{"enable":true,"fragment_num":8}}').hls.delete_threshold).toBe(8);
    expect(quiet('{"hls":{"enable":true,"fragment_num":8,"delete_threshold":0}}').hls.delete_threshold).toBe(0);
    expect(quiet('{"hls":{"enable":true,"fragment_num":8,"delete_threshold":3}}').hls.delete_threshold).toBe(3);
    expect(quiet('{"hls":{"enable":false,"fragment_num":8}}').hls.delete_threshold).toBe(0);
  });

  test('5. hls.sub_session_timeout_ms = fragment_num * fragment_duration_ms * 2 when a hash key is set and it is 0', () => {
    const base = { fragment_num: 6, fragment_duration_ms: 3000, sub_session_hash_key: 'k' };
    expect(quiet(JSON.stringify({ hls: base })).hls.sub_session_timeout_ms).toBe(36000);
    expect(quiet(JSON.stringify({ hls: { ...base, sub_session_timeout_ms: 0 } })).hls.sub_session_timeout_ms).toBe(36000);
    expect(quiet(JSON.stringify({ hls: { ...base, sub_session_timeout_ms: 5000 } })).hls.sub_session_timeout_ms).toBe(5000);
    expect(quiet(JSON.stringify({ hls: { ...base, sub_session_hash_key: '' } })).hls.sub_session_timeout_ms).toBe(0);
  });

  test('6. url_pattern defaults per module when enabled and absent', () => {
    const c = quiet('{"httpflv":{"enable":true},"httpts":{"enable_https":true},"hls":{"enable":true}}');
    expect([c.httpflv.url_pattern, c.httpts.url_pattern, c.hls.url_pattern]).toEqual(['/live/', '/live/', '/hls/']);
    const off = quiet('{"httpflv":{"enable":false},"hls":{}}');
    expect([off.httpflv.url_pattern, off.httpts.url_pattern, off.hls.url_pattern]).toEqual(['', '', '']);
    // An explicit "" is present: it is kept (and stays empty after normalisation).
    expect(quiet('{"hls":{"enable":true,"url_pattern":""}}').hls.url_pattern).toBe('');
  });

  test('6. docs/quirks.md Q-CFG-1 FIXed: a missing hls.url_pattern does not touch httpflv', () => {
    const c = quiet('{"httpflv":{"enable":true,"url_pattern":"/flv/"},"hls":{"enable":true}}');
    expect(c.httpflv.url_pattern).toBe('/flv/');
    expect(c.hls.url_pattern).toBe('/hls/');
  });

  test.each([
    ['live', '/live/'],
    ['/live', '/live/'],
    ['live/', '/live/'],
    ['/live/', '/live/'],
    ['/', '/'],
    ['a/b', '/a/b/'],
    ['', ''],
  ])('7. url_pattern %j is normalised to %j in each module', (given, want) => {
    const c = quiet(
      JSON.stringify({
        httpflv: { url_pattern: given },
        httpts: { url_pattern: given },
        hls: { url_pattern: given },
      }),
    );
    expect([c.httpflv.url_pattern, c.httpts.url_pattern, c.hls.url_pattern]).toEqual([want, want, want]);
  });

  test('7. docs/quirks.md Q-CFG-1 FIXed: normalising httpts/hls leaves httpflv alone', () => {
    const c = quiet('{"httpflv":{"url_pattern":"/"},"httpts":{"url_pattern":"ts"},"hls":{"url_pattern":"h"}}');
    expect([c.httpflv.url_pattern, c.httpts.url_pattern, c.hls.url_pattern]).toEqual(['/', '/ts/', '/h/']);
  });
});

describe('gb28181 (docs/config.md §3.18)', () => {
  const id = '34020000002000000001';
  test('defaults apply when absent or zero/empty', () => {
    const g = quiet(JSON.stringify({ gb28181: { local_sip_id: id, local_sip_port: 0, expires: 0, local_sip_domain: '' } })).gb28181;
    expect(g).toEqual({
      enable: false, local_sip_id: id, local_sip_ip: '', local_sip_port: 5060, local_sip_domain: id,
      username: '', password: '', expires: 3600,
    });
    const h = quiet(JSON.stringify({ gb28181: { local_sip_port: 15060, expires: 60, local_sip_domain: '3402000000' } })).gb28181;
    expect([h.local_sip_port, h.expires, h.local_sip_domain]).toEqual([15060, 60, '3402000000']);
  });

  test('an enabled block that cannot start is warned about', () => {
    const bad = parseConfig(JSON.stringify({ gb28181: { enable: true, local_sip_id: '123', local_sip_ip: '10.0.0.1' } }));
    expect(bad.warnings).toContain(
      'config: gb28181.local_sip_id must be exactly 20 digits, got "123"; the SIP service will not start',
    );
    const ok = parseConfig(JSON.stringify({ gb28181: { enable: true, local_sip_id: id, local_sip_ip: '10.0.0.1' } }));
    expect(ok.warnings.filter((w) => w.includes('gb28181'))).toEqual([]);
  });

  test.each([
    [{ enable: false, local_sip_id: '' }, undefined],
    [{ enable: true, local_sip_id: id, local_sip_ip: '1.2.3.4' }, undefined],
    [{ enable: true, local_sip_id: `${id}0`, local_sip_ip: '1.2.3.4' }, 'gb28181.local_sip_id must be exactly 20 digits, got "340200000020000000010"'],
    [{ enable: true, local_sip_id: id, local_sip_ip: '' }, 'gb28181.local_sip_ip must not be empty when gb28181.enable is true'],
    [{ enable: true, local_sip_id: id, local_sip_ip: '1.2.3.4', local_sip_port: 70000 }, 'gb28181.local_sip_port must be 1..65535, got 70000'],
  ])('validateGb28181(%j)', (over, want) => {
    const g = { ...defaultConfig().gb28181, ...over };
    expect(validateGb28181(g)).toBe(want);
  });
});

describe('wrong JSON types are errors', () => {
  test.each([
    ['{"rtmp":{"gop_num":"1"}}', 'config: rtmp.gop_num must be an integer, got string "1"'],
    ['{"rtmp":{"gop_num":1.5}}', 'config: rtmp.gop_num must be an integer, got number 1.5'],
    ['{"rtmp":{"gop_num":1.0}}', 'config: rtmp.gop_num must be an integer, got number 1.0'],
    ['{"rtmp":{"gop_num":1e3}}', 'config: rtmp.gop_num must be an integer, got number 1e3'],
    ['{"rtmp":{"gop_num":true}}', 'config: rtmp.gop_num must be an integer, got boolean true'],
    ['{"rtmp":{"gop_num":[1]}}', 'config: rtmp.gop_num must be an integer, got array'],
    ['{"rtmp":{"gop_num":99999999999999999999}}', 'config: rtmp.gop_num must be an integer within ±9007199254740991, got number 99999999999999999999'],
    ['{"rtmp":{"enable":"true"}}', 'config: rtmp.enable must be a boolean, got string "true"'],
    ['{"rtmp":{"enable":1}}', 'config: rtmp.enable must be a boolean, got number 1'],
    ['{"rtmp":{"addr":1935}}', 'config: rtmp.addr must be a string, got number 1935'],
    ['{"rtmp":{"addr":{}}}', 'config: rtmp.addr must be a string, got object'],
    ['{"server_id":1}', 'config: server_id must be a string, got number 1'],
    ['{"relay_push":{"addr_list":"a:1"}}', 'config: relay_push.addr_list must be an array of strings, got string "a:1"'],
    ['{"relay_push":{"addr_list":["a:1",2]}}', 'config: relay_push.addr_list[1] must be a string, got number 2'],
    ['{"rtmp":[]}', 'config: rtmp must be an object, got array'],
    ['{"hls":"on"}', 'config: hls must be an object, got string "on"'],
    ['[]', 'config: the top level must be a JSON object, got array'],
    ['"x"', 'config: the top level must be a JSON object, got string "x"'],
    ['null', 'config: the top level must be a JSON object, got null'],
  ])('%s', (text, want) => {
    expect(configErrorOf(() => parseConfig(text))).toBe(want);
  });

  test('negative ints are accepted', () => {
    expect(quiet('{"rtmp":{"gop_num":-1}}').rtmp.gop_num).toBe(-1);
  });
});

describe('unknown keys and version', () => {
  test('each unknown key is warned about once; the doc key is not', () => {
    const { config, warnings } = parseConfig(
      '{"# doc of config":5,"relay_pull":{"enable":true},"rtmp":{"foo":1,"enable":true,"toString":2},"__proto__":{}}',
    );
    expect(config.rtmp.enable).toBe(true);
    expect(warnings.filter((w) => w.includes('unknown'))).toEqual([
      'config: unknown key relay_pull (ignored)',
      'config: unknown key __proto__ (ignored)',
      'config: unknown key rtmp.foo (ignored)',
      'config: unknown key rtmp.toString (ignored)',
    ]);
  });

  test('a different conf_version is only a warning', () => {
    const raw = JSON.parse(shippedText);
    raw.conf_version = 'v0.3.3';
    const { config, warnings } = parseConfig(JSON.stringify(raw));
    expect(config.conf_version).toBe('v0.3.3');
    expect(warnings).toEqual(['config: conf_version "v0.3.3" differs from v0.4.1 expected by this build']);
  });
});

describe('invalid JSON names line and column', () => {
  test.each([
    ['{\n  "rtmp": {\n    "enable": tru\n  }\n}', 'Unexpected token "t" at line 3 column 15'],
    ['{\n  "a": 1,\n}', 'Unexpected token "}", expected a string key at line 3 column 1'],
    ['{"a": 1 "b": 2}', `Unexpected token "\\"", expected ',' or '}' at line 1 column 9`],
    ['{"a" 1}', `Unexpected token "1", expected ':' at line 1 column 6`],
    ['[1, 2', `Unexpected end of input, expected ',' or ']' at line 1 column 6`],
    ['{"a": "b', 'Unterminated string at line 1 column 7'],
    ['{"a": "\\x"}', 'Invalid escape "\\\\x" in string at line 1 column 8'],
    ['{"a": "\\u12"}', 'Invalid \\u escape in string at line 1 column 8'],
    ['{"a": "x\ny"}', 'Control character in string at line 1 column 9'],
    ['{"a": 01}', 'Invalid number at line 1 column 7'],
    ['{"a": -}', 'Invalid number at line 1 column 7'],
    ['{"a": 1.}', 'Invalid number at line 1 column 7'],
    ['{} {}', 'Unexpected token "{" after the top-level value at line 1 column 4'],
    ['', 'Unexpected end of input at line 1 column 1'],
    ['  \n  ', 'Unexpected end of input at line 2 column 3'],
    ['{"a": 1} // note', 'Unexpected token "/" after the top-level value at line 1 column 10'],
    ['{"a": "😀" x}', `Unexpected token "x", expected ',' or '}' at line 1 column 11`],
  ])('%j', (text, want) => {
    expect(configErrorOf(() => parseConfig(text, { file: 'conf/x.json' }))).toBe(`config: invalid JSON in conf/x.json: ${want}`);
  });

  test('without a file name', () => {
    expect(configErrorOf(() => parseConfig('{'))).toBe(
      `config: invalid JSON: Unexpected end of input, expected a string key at line 1 column 2`,
    );
  });

  test('escapes, CRLF, a BOM and duplicate keys decode like JSON.parse', () => {
    const c = quiet('\ufeff{\r\n"server_id": "a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00",\r\n"conf_version":"x","conf_version":"v0.4.1"}');
    expect(c.server_id).toBe('a"\\/\b\f\n\r\t\u00e9😀');
    expect(c.conf_version).toBe('v0.4.1');
  });

  test('deep nesting is refused, not a stack overflow', () => {
    const deep = '{"x":' + '['.repeat(10000) + ']'.repeat(10000) + '}';
    expect(configErrorOf(() => parseConfig(deep))).toStartWith('config: invalid JSON: Nesting deeper than 64 levels');
  });

  test('hostile input: truncations and random text only throw ConfigError', () => {
    const rand = mulberry32(0x1a1);
    const alphabet = '{}[]:,"\\ntrufalse0123456789.-eE abc\u00e9';
    const inputs: string[] = [];
    for (let i = 0; i < shippedText.length; i += 7) inputs.push(shippedText.slice(0, i));
    for (let i = 0; i < 200; i++) {
      const n = Math.floor(rand() * 80);
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      inputs.push(s);
      // Mutate one character of the shipped file.
      const at = Math.floor(rand() * shippedText.length);
      inputs.push(shippedText.slice(0, at) + alphabet[Math.floor(rand() * alphabet.length)] + shippedText.slice(at + 1));
    }
    let errors = 0;
    for (const s of inputs) {
      try {
        parseConfig(s);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`non-ConfigError for ${JSON.stringify(s)}: ${String(e)}`);
        expect(e.message).toStartWith('config: ');
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(200);
  });
});

describe('files (docs/config.md §1)', () => {
  let root: string;
  let cwd: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lal-config-'));
    cwd = join(root, 'a', 'b', 'c');
    mkdirSync(cwd, { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('the nine search paths, in order', () => {
    expect(CONFIG_SEARCH_PATHS).toHaveLength(9);
    const misses: string[] = [];
    expect(findConfigFile(cwd, (w) => misses.push(w))).toBeUndefined();
    expect(misses).toHaveLength(9);
    expect(misses[0]).toBe('config: no usable config file at lalserver.conf.json (not found)');

    // Create the files from last to first: each time the newest (earliest in order) wins.
    for (let i = CONFIG_SEARCH_PATHS.length - 1; i >= 0; i--) {
      const abs = join(cwd, CONFIG_SEARCH_PATHS[i]);
      mkdirSync(join(abs, '..'), { recursive: true });
      writeFileSync(abs, '{}');
      const seen: string[] = [];
      expect(findConfigFile(cwd, (w) => seen.push(w))).toBe(abs);
      expect(seen).toHaveLength(i);
    }
    expect(join(cwd, CONFIG_SEARCH_PATHS[6])).toBe(join(root, 'lalserver.conf.json'));
    expect(join(cwd, CONFIG_SEARCH_PATHS[8])).toBe(join(cwd, 'lal', 'conf', 'lalserver.conf.json'));
  });

  test('empty files and directories are skipped', () => {
    const dir = join(root, 'other', 'x', 'y', 'z'); // its ../../.. stays inside root/other
    mkdirSync(join(dir, 'lalserver.conf.json'), { recursive: true });
    mkdirSync(join(dir, 'conf'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'lalserver.conf.json'), '');
    mkdirSync(join(dir, 'lal', 'conf'), { recursive: true });
    writeFileSync(join(dir, 'lal', 'conf', 'lalserver.conf.json'), '{}');
    const seen: string[] = [];
    expect(findConfigFile(dir, (w) => seen.push(w))).toBe(join(dir, 'lal', 'conf', 'lalserver.conf.json'));
    expect(seen).toEqual([
      'config: no usable config file at lalserver.conf.json (not a regular file)',
      'config: no usable config file at ./conf/lalserver.conf.json (empty file)',
      ...CONFIG_SEARCH_PATHS.slice(2, 8).map((p) => `config: no usable config file at ${p} (not found)`),
    ]);
  });

  test('loadConfigFile returns config, warnings and the raw text', () => {
    const p = join(root, 'x.json');
    writeFileSync(p, '{"server_id":"9","zzz":1}');
    const r = loadConfigFile(p);
    expect(r.raw).toBe('{"server_id":"9","zzz":1}');
    expect(r.config.server_id).toBe('9');
    expect(r.warnings).toContain('config: unknown key zzz (ignored)');
    expect(loadConfigFile(CONF.pathname).warnings).toEqual([]);
  });

  test('loadConfigFile errors name the path and the reason', () => {
    expect(configErrorOf(() => loadConfigFile(join(root, 'nope.json')))).toBe(
      `config: cannot read ${join(root, 'nope.json')}: ENOENT: no such file or directory`,
    );
    expect(configErrorOf(() => loadConfigFile(root))).toStartWith(`config: cannot read ${root}: EISDIR`);
    const p = join(root, 'bad.json');
    writeFileSync(p, '{\n  "rtmp": {,\n}');
    expect(configErrorOf(() => loadConfigFile(p))).toBe(
      `config: invalid JSON in ${p}: Unexpected token ",", expected a string key at line 2 column 12`,
    );
  });
});

describe('parseListenAddr', () => {
  test.each([
    [':1935', '0.0.0.0', 1935],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['[::1]:8080', '::1', 8080],
    ['[::]:80', '::', 80],
    ['localhost:65535', 'localhost', 65535],
    ['0.0.0.0:8083', '0.0.0.0', 8083],
  ])('%s', (addr, host, port) => {
    expect(parseListenAddr(addr)).toEqual({ host, port });
  });

  test.each([
    ['', 'missing port'],
    ['1935', 'missing port'],
    ['127.0.0.1:', 'missing port'],
    [':65536', 'port 65536 out of range 0..65535'],
    [':http', 'invalid port "http"'],
    [':-1', 'invalid port "-1"'],
    [':123456', 'invalid port "123456"'],
    ['::1:80', 'too many colons (IPv6 hosts go in brackets: [::1]:8080)'],
    ['[::1:80', 'missing ] in address'],
    ['[::1]80', 'missing port'],
    ['[]:80', 'empty IPv6 host'],
    ['a b:80', 'invalid host'],
  ])('%j is refused', (addr, why) => {
    expect(configErrorOf(() => parseListenAddr(addr))).toBe(`config: invalid listen address ${JSON.stringify(addr)}: ${why}`);
  });
});
