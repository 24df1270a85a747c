import { test, expect, describe } from 'bun:test';
import type { Logger } from '../core/log.ts';
import { createApiApp, encodeJson, MAX_API_BODY_BYTES, SERVER_HEADER } from './app.ts';
import type { ServerControl, KickResult } from './control.ts';
import type { LalInfo, StatGroup, StatSession, StartRelayPullRequest, StartRtpPubRequest, AddIpBlacklistRequest } from './types.ts';

// --- fixtures: the example of docs/http-api.md §4.3 -------------------------------------------------

const PUB: StatSession = {
  session_id: 'RTMPPUBSUB1', protocol: 'RTMP', base_type: 'PUB', remote_addr: '127.0.0.1:52310',
  start_time: '2024-10-23 10:00:01.12 +0800 CST', read_bytes_sum: 1048576, wrote_bytes_sum: 3500,
  bitrate_kbits: 1200, read_bitrate_kbits: 1200, write_bitrate_kbits: 0,
};
const SUB: StatSession = {
  session_id: 'FLVPUBSUB2', protocol: 'FLV', base_type: 'SUB', remote_addr: '127.0.0.1:52320',
  start_time: '2024-10-23 10:00:05.3 +0800 CST', read_bytes_sum: 0, wrote_bytes_sum: 900000,
  bitrate_kbits: 1190, read_bitrate_kbits: 0, write_bitrate_kbits: 1190,
};
const EMPTY_SESSION: StatSession = {
  session_id: '', protocol: '', base_type: '', remote_addr: '', start_time: '', read_bytes_sum: 0,
  wrote_bytes_sum: 0, bitrate_kbits: 0, read_bitrate_kbits: 0, write_bitrate_kbits: 0,
};
const GROUP: StatGroup = {
  stream_name: 'test110', app_name: 'live', audio_codec: 'AAC', video_codec: 'H264',
  video_width: 640, video_height: 360, pub: PUB, subs: [SUB], pull: EMPTY_SESSION,
  in_frame_per_sec: [{ unix_sec: 1729648810, v: 25 }, { unix_sec: 1729648809, v: 25 }],
};
/** LAL's example response (docs/http-api.md), whitespace between tokens removed. */
const GROUP_JSON =
  '{"stream_name":"test110","app_name":"live",' +
  '"audio_codec":"AAC","video_codec":"H264","video_width":640,"video_height":360,' +
  '"pub":{"session_id":"RTMPPUBSUB1","protocol":"RTMP","base_type":"PUB","remote_addr":"127.0.0.1:52310",' +
  '"start_time":"2024-10-23 10:00:01.12 +0800 CST","read_bytes_sum":1048576,"wrote_bytes_sum":3500,' +
  '"bitrate_kbits":1200,"read_bitrate_kbits":1200,"write_bitrate_kbits":0},' +
  '"subs":[{"session_id":"FLVPUBSUB2","protocol":"FLV","base_type":"SUB","remote_addr":"127.0.0.1:52320",' +
  '"start_time":"2024-10-23 10:00:05.3 +0800 CST","read_bytes_sum":0,"wrote_bytes_sum":900000,' +
  '"bitrate_kbits":1190,"read_bitrate_kbits":0,"write_bitrate_kbits":1190}],' +
  '"pull":{"session_id":"","protocol":"","base_type":"","remote_addr":"","start_time":"","read_bytes_sum":0,' +
  '"wrote_bytes_sum":0,"bitrate_kbits":0,"read_bitrate_kbits":0,"write_bitrate_kbits":0},' +
  '"in_frame_per_sec":[{"unix_sec":1729648810,"v":25},{"unix_sec":1729648809,"v":25}]}';

const INFO: LalInfo = {
  server_id: '1',
  bin_info: 'GitTag=unknown. GitCommitLog=unknown. GitStatus=unknown. BuildTime=unknown. GoVersion=bun 1.4.5. runtime=linux/x64.',
  lal_version: 'v0.1.0',
  api_version: 'v0.4.9',
  notify_version: 'v0.2.5',
  WebUiVersion: 'v0.0.3',
  start_time: '2024-10-23 09:59:00.123 +0800 CST',
};

/** Same object with its keys in reverse order, to prove the app re-orders them. */
function reversed<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).reverse()) as T;
}

type Calls = { kick: [string, string][]; relay: StartRelayPullRequest[]; rtp: StartRtpPubRequest[]; black: AddIpBlacklistRequest[] };

function stub(over: Partial<ServerControl> = {}): { control: ServerControl; calls: Calls } {
  const calls: Calls = { kick: [], relay: [], rtp: [], black: [] };
  const groups = new Map<string, StatGroup>([['test110', GROUP]]);
  const control: ServerControl = {
    lalInfo: () => reversed(INFO),
    statGroup: (name) => groups.get(name),
    statAllGroups: () => [...groups.values()],
    kickSession: (streamName, sessionId): KickResult => {
      calls.kick.push([streamName, sessionId]);
      if (!groups.has(streamName)) return 'group-not-found';
      return sessionId === 'RTMPPUBSUB1' || sessionId === 'FLVPUBSUB2' ? 'ok' : 'session-not-found';
    },
    ...over,
  };
  return { control, calls };
}

function capturingLogger(lines: string[]): Logger {
  const push = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
  const l = { trace: push, debug: push, info: push, warn: push, error: push, withTag: () => l };
  return l as unknown as Logger;
}

const JSON_HEADERS = {
  'access-control-allow-credentials': 'true',
  'access-control-allow-headers': 'Content-Type',
  'access-control-allow-origin': '*',
  'content-type': 'application/json',
  server: 'lal0.1.0',
};

/** Asserts LAL's JSON transport rules and returns the body text. */
async function jsonText(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const headers = Object.fromEntries(res.headers.entries());
  expect(headers).toEqual({ ...JSON_HEADERS, 'content-length': headers['content-length'] });
  const text = await res.text();
  expect(text.endsWith('}')).toBe(true); // one object, no trailing newline
  expect(JSON.parse(text)).toBeObject();
  return text;
}

const NOT_FOUND = '{"error_code":404,"desp":"page not found, check this document out: lal"}';
const KICK_OK = '{"error_code":0,"desp":"succ"}';
const PARAM_MISSING = '{"error_code":1002,"desp":"param missing"}';

// --- tests -----------------------------------------------------------------------------------

describe('stat endpoints', () => {
  test('lal_info: keys in documented order, CamelCase WebUiVersion', async () => {
    const app = createApiApp(stub().control);
    const text = await jsonText(await app.request('/api/stat/lal_info'));
    expect(text).toBe(
      '{"error_code":0,"desp":"succ","data":{"server_id":"1","bin_info":"GitTag=unknown. GitCommitLog=unknown. ' +
        'GitStatus=unknown. BuildTime=unknown. GoVersion=bun 1.4.5. runtime=linux/x64.","lal_version":"v0.1.0",' +
        '"api_version":"v0.4.9","notify_version":"v0.2.5","WebUiVersion":"v0.0.3",' +
        '"start_time":"2024-10-23 09:59:00.123 +0800 CST"}}',
    );
  });

  test('group: success is the spec example byte for byte, whatever the stub key order', async () => {
    const g = reversed({ ...GROUP, pub: reversed(PUB), subs: [reversed(SUB)] });
    const app = createApiApp(stub({ statGroup: () => g }).control);
    const text = await jsonText(await app.request('/api/stat/group?stream_name=test110'));
    expect(text).toBe(`{"error_code":0,"desp":"succ","data":${GROUP_JSON}}`);
  });

  test.each([
    ['/api/stat/group', 1002],
    ['/api/stat/group?stream_name=', 1002],
    ['/api/stat/group?other=test110', 1002],
    ['/api/stat/group?stream_name=nope', 1001],
    ['/api/stat/group?stream_name=TEST110', 1001],
  ])('group errors: %s → %i with data null', async (path, code) => {
    const app = createApiApp(stub().control);
    const desp = code === 1002 ? 'param missing' : 'group not found';
    expect(await jsonText(await app.request(path))).toBe(`{"error_code":${code},"desp":"${desp}","data":null}`);
  });

  test('group: query is read whatever the method, and decoded like Go (%xx and +)', async () => {
    const seen: string[] = [];
    const app = createApiApp(stub({ statGroup: (n) => (seen.push(n), undefined) }).control);
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const text = await jsonText(await app.request('/api/stat/group?stream_name=a%2Fb+c', { method }));
      expect(text).toBe('{"error_code":1001,"desp":"group not found","data":null}');
    }
    expect(seen).toEqual(Array(6).fill('a/b c'));
  });

  test('group: empty subs become null, empty frame list stays []', async () => {
    const lonely: StatGroup = { ...GROUP, subs: [], in_frame_per_sec: [] };
    const app = createApiApp(stub({ statGroup: () => lonely }).control);
    const data = JSON.parse(await jsonText(await app.request('/api/stat/group?stream_name=test110'))).data;
    expect(data.subs).toBeNull();
    expect(data.in_frame_per_sec).toEqual([]);
  });

  test('all_group: groups is null when there is none (docs/quirks.md Q-API-2)', async () => {
    const app = createApiApp(stub({ statAllGroups: () => [] }).control);
    expect(await jsonText(await app.request('/api/stat/all_group'))).toBe(
      '{"error_code":0,"desp":"succ","data":{"groups":null}}',
    );
  });

  test('all_group: the spec example byte for byte', async () => {
    const app = createApiApp(stub({ statAllGroups: () => [reversed(GROUP)] }).control);
    for (const method of ['GET', 'POST']) {
      expect(await jsonText(await app.request('/api/stat/all_group', { method }))).toBe(
        `{"error_code":0,"desp":"succ","data":{"groups":[${GROUP_JSON}]}}`,
      );
    }
  });

  test('strings are escaped like Go: & < > U+2028', async () => {
    const g: StatGroup = { ...GROUP, stream_name: 'a<b>&c\u2028', subs: null };
    const app = createApiApp(stub({ statAllGroups: () => [g] }).control);
    const text = await jsonText(await app.request('/api/stat/all_group'));
    expect(text).toContain('"stream_name":"a\\u003cb\\u003e\\u0026c\\u2028"');
    expect(JSON.parse(text).data.groups[0].stream_name).toBe('a<b>&c\u2028');
    expect(encodeJson({ s: '"\\/' })).toBe('{"s":"\\"\\\\/"}');
  });
});

describe('kick_session', () => {
  const body = (o: unknown) => ({ method: 'POST', body: typeof o === 'string' ? o : JSON.stringify(o) });

  test('success, 1001, 1003', async () => {
    const { control, calls } = stub();
    const app = createApiApp(control);
    const kick = (o: unknown) => Promise.resolve(app.request('/api/ctrl/kick_session', body(o))).then(jsonText);
    expect(await kick({ stream_name: 'test110', session_id: 'FLVPUBSUB2' })).toBe(KICK_OK);
    expect(await kick({ stream_name: 'nope', session_id: 'FLVPUBSUB2' })).toBe('{"error_code":1001,"desp":"group not found"}');
    expect(await kick({ stream_name: 'test110', session_id: 'RTMPPUSH1' })).toBe('{"error_code":1003,"desp":"session not found"}');
    expect(calls.kick).toEqual([
      ['test110', 'FLVPUBSUB2'],
      ['nope', 'FLVPUBSUB2'],
      ['test110', 'RTMPPUSH1'],
    ]);
  });

  test.each([
    ['empty body', ''],
    ['whitespace body', '  \n'],
    ['invalid JSON', '{"stream_name":"test110",'],
    ['not JSON at all', 'stream_name=test110&session_id=x'],
    ['JSON array', '[{"stream_name":"test110","session_id":"FLVPUBSUB2"}]'],
    ['JSON string', '"test110"'],
    ['JSON number', '42'],
    ['JSON null', 'null'],
    ['JSON true', 'true'],
    ['missing stream_name', { session_id: 'FLVPUBSUB2' }],
    ['missing session_id', { stream_name: 'test110' }],
    ['missing both', {}],
    ['stream_name a number', { stream_name: 110, session_id: 'FLVPUBSUB2' }],
    ['session_id an object', { stream_name: 'test110', session_id: { id: 1 } }],
    ['session_id an array', { stream_name: 'test110', session_id: ['FLVPUBSUB2'] }],
    ['session_id a bool', { stream_name: 'test110', session_id: true }],
  ])('1002: %s', async (_name, o) => {
    const { control, calls } = stub();
    const app = createApiApp(control);
    expect(await jsonText(await app.request('/api/ctrl/kick_session', body(o)))).toBe(PARAM_MISSING);
    expect(calls.kick).toEqual([]);
  });

  test('1002: a body over the limit is refused unread', async () => {
    const { control, calls } = stub();
    const app = createApiApp(control);
    const big = JSON.stringify({ stream_name: 'test110', session_id: 'FLVPUBSUB2', pad: 'x'.repeat(MAX_API_BODY_BYTES) });
    expect(await jsonText(await app.request('/api/ctrl/kick_session', body(big)))).toBe(PARAM_MISSING);
    // Same size streamed without a Content-Length.
    const stream = new Blob([big]).stream();
    const req = new Request('http://x/api/ctrl/kick_session', { method: 'POST', body: stream });
    expect(req.headers.get('content-length')).toBeNull();
    expect(await jsonText(await app.request(req))).toBe(PARAM_MISSING);
    expect(calls.kick).toEqual([]);
  });

  test('null counts as present (zero value); unknown keys are ignored', async () => {
    const { control, calls } = stub();
    const app = createApiApp(control);
    const r1 = await app.request('/api/ctrl/kick_session', body({ stream_name: null, session_id: 'FLVPUBSUB2' }));
    expect(await jsonText(r1)).toBe('{"error_code":1001,"desp":"group not found"}');
    const r2 = await app.request('/api/ctrl/kick_session', body({ extra: [1], stream_name: 'test110', session_id: 'RTMPPUBSUB1' }));
    expect(await jsonText(r2)).toBe(KICK_OK);
    expect(calls.kick).toEqual([
      ['', 'FLVPUBSUB2'],
      ['test110', 'RTMPPUBSUB1'],
    ]);
  });

  test('any method: the body is read for PUT/DELETE/PATCH; GET/HEAD/OPTIONS without body → 1002', async () => {
    const app = createApiApp(stub().control);
    const b = JSON.stringify({ stream_name: 'test110', session_id: 'FLVPUBSUB2' });
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      expect(await jsonText(await app.request('/api/ctrl/kick_session', { method, body: b }))).toBe(KICK_OK);
    }
    for (const method of ['GET', 'OPTIONS']) {
      expect(await jsonText(await app.request('/api/ctrl/kick_session', { method }))).toBe(PARAM_MISSING);
    }
    const head = await app.request('/api/ctrl/kick_session', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');
  });
});

describe('page not found', () => {
  test.each([
    ['/', 'GET'],
    ['/api/stat/foo', 'GET'],
    ['/api/stat/foo', 'POST'],
    ['/api/stat/group/', 'GET'],
    ['/api/stat/all_group/x', 'GET'],
    ['/API/stat/lal_info', 'GET'],
    ['/api/ctrl/kick', 'DELETE'],
    ['/lal.htm', 'GET'],
    ['/api/ctrl/start_relay_pull', 'POST'],
    ['/api/ctrl/stop_relay_pull?stream_name=x', 'GET'],
    ['/api/ctrl/start_rtp_pub', 'POST'],
    ['/api/ctrl/add_ip_blacklist', 'PUT'],
  ])('%s (%s) → 404 JSON with HTTP 200', async (path, method) => {
    const app = createApiApp(stub().control);
    expect(await jsonText(await app.request(path, { method }))).toBe(NOT_FOUND);
  });
});

describe('web UI', () => {
  test('/lal.html is served as HTML for any method', async () => {
    const app = createApiApp(stub().control);
    for (const method of ['GET', 'POST']) {
      const res = await app.request('/lal.html?interval=2&sort=start&desc=1&auto=1', { method });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('server')).toBe(SERVER_HEADER);
      const html = await res.text();
      expect(html).toStartWith('<!DOCTYPE html>');
      expect(html).toContain('/api/stat/all_group');
      expect(html).toContain('/api/stat/lal_info');
      expect(html).toContain('/api/ctrl/kick_session');
      // Self-contained: no external scripts, styles or fonts.
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    }
  });
});

describe('failures never become a 500', () => {
  test('a throwing control gives a JSON error with the endpoint’s data shape, logged once', async () => {
    const lines: string[] = [];
    const boom = () => {
      throw new Error('boom');
    };
    const app = createApiApp(
      stub({ lalInfo: boom, statGroup: boom, statAllGroups: boom, kickSession: boom }).control,
      { log: capturingLogger(lines) },
    );
    const kickBody = { method: 'POST', body: '{"stream_name":"a","session_id":"b"}' };
    expect(await jsonText(await app.request('/api/stat/lal_info'))).toBe('{"error_code":500,"desp":"internal error: boom","data":null}');
    expect(await jsonText(await app.request('/api/stat/group?stream_name=a'))).toBe('{"error_code":500,"desp":"internal error: boom","data":null}');
    expect(await jsonText(await app.request('/api/stat/all_group'))).toBe('{"error_code":500,"desp":"internal error: boom","data":{"groups":null}}');
    expect(await jsonText(await app.request('/api/ctrl/kick_session', kickBody))).toBe('{"error_code":500,"desp":"internal error: boom"}');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('api: GET /api/stat/lal_info failed: boom');
  });

  test('a rejected async optional op gives the JSON error too', async () => {
    const lines: string[] = [];
    const app = createApiApp(
      stub({ startRelayPull: async () => Promise.reject(new TypeError('x is undefined')) }).control,
      { log: capturingLogger(lines) },
    );
    const res = await app.request('/api/ctrl/start_relay_pull', { method: 'POST', body: '{"url":"rtmp://h/a/b"}' });
    expect(await jsonText(res)).toBe('{"error_code":500,"desp":"internal error: x is undefined","data":{"stream_name":"","session_id":""}}');
    expect(lines).toEqual(['api: POST /api/ctrl/start_relay_pull failed: x is undefined']);
  });
});

describe('optional operations, when the control implements them', () => {
  test('start_relay_pull: defaults for absent keys only, 1002, 2001, success', async () => {
    const { control, calls } = stub();
    control.startRelayPull = (req) => {
      calls.relay.push(req);
      if (req.url.includes('busy')) return { status: 'refused', reason: 'lal.logic: in stream already exist at group' };
      return { status: 'ok', stream_name: req.stream_name || 'b', session_id: 'RTMPPULL1' };
    };
    const app = createApiApp(control);
    const post = (o: unknown) => Promise.resolve(app.request('/api/ctrl/start_relay_pull', { method: 'POST', body: JSON.stringify(o) })).then(jsonText);
    expect(await post({ url: 'rtmp://h/a/b' })).toBe('{"error_code":0,"desp":"succ","data":{"stream_name":"b","session_id":"RTMPPULL1"}}');
    expect(
      await post({ url: 'rtsp://h/busy', stream_name: 's', pull_timeout_ms: 0, pull_retry_num: -1, auto_stop_pull_after_no_out_ms: 0, rtsp_mode: 1, debug_dump_packet: '/tmp/d' }),
    ).toBe('{"error_code":2001,"desp":"lal.logic: in stream already exist at group","data":{"stream_name":"","session_id":""}}');
    const zero = '{"error_code":1002,"desp":"param missing","data":{"stream_name":"","session_id":""}}';
    expect(await post({ stream_name: 's' })).toBe(zero);
    expect(await post({ url: 'rtmp://h/a/b', pull_timeout_ms: '30000' })).toBe(zero);
    expect(await post({ url: 'rtmp://h/a/b', pull_retry_num: 1.5 })).toBe(zero);
    expect(await post([])).toBe(zero);
    expect(calls.relay).toEqual([
      { url: 'rtmp://h/a/b', stream_name: '', pull_timeout_ms: 10000, pull_retry_num: 0, auto_stop_pull_after_no_out_ms: -1, rtsp_mode: 0, debug_dump_packet: '' },
      { url: 'rtsp://h/busy', stream_name: 's', pull_timeout_ms: 0, pull_retry_num: -1, auto_stop_pull_after_no_out_ms: 0, rtsp_mode: 1, debug_dump_packet: '/tmp/d' },
    ]);
  });

  test('stop_relay_pull: 1002, 1001, 1003, success', async () => {
    const { control } = stub();
    control.stopRelayPull = async (name) => {
      if (name === 'none') return { status: 'group-not-found' };
      if (name === 'idle') return { status: 'session-not-found' };
      return { status: 'ok', session_id: 'RTSPPULL3' };
    };
    const app = createApiApp(control);
    const get = (q: string) => Promise.resolve(app.request(`/api/ctrl/stop_relay_pull${q}`)).then(jsonText);
    expect(await get('')).toBe('{"error_code":1002,"desp":"param missing","data":{"session_id":""}}');
    expect(await get('?stream_name=none')).toBe('{"error_code":1001,"desp":"group not found","data":{"session_id":""}}');
    expect(await get('?stream_name=idle')).toBe('{"error_code":1003,"desp":"session not found","data":{"session_id":""}}');
    expect(await get('?stream_name=s')).toBe('{"error_code":0,"desp":"succ","data":{"session_id":"RTSPPULL3"}}');
  });

  test('start_rtp_pub: defaults, 1002, 2002, success', async () => {
    const { control, calls } = stub();
    control.startRtpPub = async (req) => {
      calls.rtp.push(req);
      if (req.port === 1) return { status: 'failed', reason: 'listen udp :1: bind: permission denied' };
      return { status: 'ok', stream_name: req.stream_name, session_id: 'PSPUB1', port: req.port || 30000 };
    };
    const app = createApiApp(control);
    const post = (o: unknown) => Promise.resolve(app.request('/api/ctrl/start_rtp_pub', { method: 'POST', body: JSON.stringify(o) })).then(jsonText);
    expect(await post({ stream_name: 's1' })).toBe('{"error_code":0,"desp":"succ","data":{"stream_name":"s1","session_id":"PSPUB1","port":30000}}');
    expect(await post({ stream_name: 's1', port: 1, timeout_ms: 0, is_tcp_flag: 1 })).toBe(
      '{"error_code":2002,"desp":"listen udp :1: bind: permission denied","data":{"stream_name":"","session_id":"","port":0}}',
    );
    expect(await post({ port: 30000 })).toBe('{"error_code":1002,"desp":"param missing","data":{"stream_name":"","session_id":"","port":0}}');
    expect(await post({ stream_name: 's1', port: '30000' })).toBe('{"error_code":1002,"desp":"param missing","data":{"stream_name":"","session_id":"","port":0}}');
    expect(calls.rtp).toEqual([
      { stream_name: 's1', port: 0, timeout_ms: 60000, is_tcp_flag: 0, debug_dump_packet: '' },
      { stream_name: 's1', port: 1, timeout_ms: 0, is_tcp_flag: 1, debug_dump_packet: '' },
    ]);
  });

  test('add_ip_blacklist: both keys required, types checked', async () => {
    const { control, calls } = stub();
    control.addIpBlacklist = (req) => void calls.black.push(req);
    const app = createApiApp(control);
    const post = (o: unknown) => Promise.resolve(app.request('/api/ctrl/add_ip_blacklist', { method: 'POST', body: JSON.stringify(o) })).then(jsonText);
    expect(await post({ ip: '127.0.0.1', duration_sec: 60 })).toBe(KICK_OK);
    expect(await post({ ip: '127.0.0.1' })).toBe(PARAM_MISSING);
    expect(await post({ ip: '127.0.0.1', duration_sec: '60' })).toBe(PARAM_MISSING);
    expect(calls.black).toEqual([{ ip: '127.0.0.1', duration_sec: 60 }]);
  });
});
