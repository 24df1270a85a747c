import { test, expect, describe } from 'bun:test';
import {
  HlsSessions,
  hlsSessionHash,
  rewritePlaylistForSession,
  sessionIdFromQuery,
  sessionRedirectBody,
  sessionRedirectLocation,
  type HlsSessionInfo,
} from './sessions.ts';

const KEY = 'q191201771';
/** md5("HLSSUB1q191201771") and md5("HLSSUB2q191201771"), computed with md5sum. */
const HASH1 = '12b09efa145288cff9917d55e0034a83';
const HASH2 = '794104c12454357647c10ca83707f790';

const INFO: HlsSessionInfo = {
  streamName: 'test110',
  appName: 'test110',
  url: 'http://127.0.0.1:8080/hls/test110/playlist.m3u8?token=1',
  urlParam: 'token=1',
  remoteAddr: '127.0.0.1:50000',
};

function setup(over: { hashKey?: string; maxSessions?: number } = {}) {
  let n = 0;
  const clock = { t: 1_000 };
  const s = new HlsSessions({
    hashKey: over.hashKey ?? KEY,
    timeoutMs: 30_000,
    nextId: () => `HLSSUB${++n}`,
    now: () => clock.t,
    maxSessions: over.maxSessions,
  });
  return { s, clock };
}

describe('HlsSessions (docs/hls.md §7)', () => {
  test('hash = lowercase hex md5 of id + key', () => {
    expect(hlsSessionHash('HLSSUB1', KEY)).toBe(HASH1);
    expect(hlsSessionHash('HLSSUB2', KEY)).toBe(HASH2);
  });

  test('create: ids from the generator, hash, info, times', () => {
    const { s } = setup();
    const a = s.create(INFO)!;
    const b = s.create({ ...INFO, remoteAddr: '10.0.0.1:1' })!;
    expect(a).toEqual({ id: 'HLSSUB1', hash: HASH1, ...INFO, startMs: 1000, lastRequestMs: 1000, wroteBytes: 0, kicked: false });
    expect(b.id).toBe('HLSSUB2');
    expect(b.hash).toBe(HASH2);
    expect(s.size).toBe(2);
    expect(s.byHash(HASH2)).toBe(b);
    expect(s.byId('HLSSUB1')).toBe(a);
    expect(s.byId('HLSSUB9')).toBeUndefined();
    expect(s.list()).toEqual([a, b]);
  });

  test('disabled without a hash key: no sessions at all', () => {
    const { s } = setup({ hashKey: '' });
    expect(s.enabled).toBe(false);
    expect(s.create(INFO)).toBeUndefined();
    expect(s.size).toBe(0);
  });

  test('touch refreshes expiry; unknown hash → undefined (404)', () => {
    const { s, clock } = setup();
    const a = s.create(INFO)!;
    clock.t += 29_000;
    expect(s.touch(HASH1)).toBe(a);
    expect(a.lastRequestMs).toBe(30_000);
    expect(s.touch('deadbeef')).toBeUndefined();
  });

  test('sweep removes sessions idle for longer than the timeout, and only those', () => {
    const { s, clock } = setup();
    const a = s.create(INFO)!;
    clock.t += 10_000;
    const b = s.create(INFO)!;
    clock.t += 20_000; // a idle exactly 30 s: kept
    expect(s.sweep()).toEqual([]);
    clock.t += 1; // a idle 30.001 s
    expect(s.sweep()).toEqual([a]);
    expect(s.touch(a.hash)).toBeUndefined();
    expect(s.touch(b.hash)).toBe(b);
    clock.t += 30_001;
    expect(s.sweep()).toEqual([b]);
    expect(s.size).toBe(0);
  });

  test('kick: refused at once, removed by the next sweep', () => {
    const { s } = setup();
    const a = s.create(INFO)!;
    expect(s.kick(s.byId('HLSSUB1'))).toBe(true);
    expect(s.kick(a)).toBe(false);
    expect(s.kick(undefined)).toBe(false);
    expect(s.touch(a.hash)).toBeUndefined();
    expect(s.size).toBe(1);
    expect(s.sweep()).toEqual([a]);
    expect(s.size).toBe(0);
  });

  test('bytes served are summed per session', () => {
    const { s } = setup();
    const a = s.create(INFO)!;
    s.addBytes(a, 300);
    s.addBytes(s.touch(a.hash)!, 1_000_000);
    expect(a.wroteBytes).toBe(1_000_300);
  });

  test('the table is bounded', () => {
    const { s, clock } = setup({ maxSessions: 2 });
    expect(s.create(INFO)).toBeDefined();
    expect(s.create(INFO)).toBeDefined();
    expect(s.create(INFO)).toBeUndefined();
    clock.t += 60_000;
    s.sweep();
    expect(s.create(INFO)?.id).toBe('HLSSUB3');
  });
});

describe('redirect and rewritten playlist', () => {
  test.each([
    ['/hls/test110.m3u8', '', `/hls/test110.m3u8?session_id=${HASH1}`],
    ['/hls/test110/playlist.m3u8', 'token=1', `/hls/test110/playlist.m3u8?session_id=${HASH1}&token=1`],
    // keys sorted, values of one key keep their order, re-encoded as Go's url.Values.Encode
    ['/hls/t.m3u8', 'z=1&b=2&a=x+y&b=1', `/hls/t.m3u8?a=x+y&b=2&b=1&session_id=${HASH1}&z=1`],
    ['/hls/t.m3u8', 'lal_secret=700997E1595A06C9FFA60EBEF79105B0', `/hls/t.m3u8?lal_secret=700997E1595A06C9FFA60EBEF79105B0&session_id=${HASH1}`],
    ['/hls/t.m3u8', 'q=%7Ea%2Fb%21&flag', `/hls/t.m3u8?flag=&q=~a%2Fb%21&session_id=${HASH1}`],
    ["/hls/t.m3u8", "p=it's(*)", `/hls/t.m3u8?p=it%27s%28%2A%29&session_id=${HASH1}`],
    // an empty or stale session_id is replaced, not duplicated
    ['/hls/t.m3u8', 'session_id=&a=1', `/hls/t.m3u8?a=1&session_id=${HASH1}`],
    // unparsable parts are dropped as Go does (bad escape, semicolon)
    ['/hls/t.m3u8', 'a=%zz&b=1;c=2&d=4', `/hls/t.m3u8?d=4&session_id=${HASH1}`],
    // UTF-8 query values survive (percent-encoded bytes)
    ['/hls/t.m3u8', 'n=%E4%B8%AD', `/hls/t.m3u8?n=%E4%B8%AD&session_id=${HASH1}`],
    // non-ASCII in the path is escaped
    ['/hls/中文.m3u8', '', `/hls/%E4%B8%AD%E6%96%87.m3u8?session_id=${HASH1}`],
    ['/hls/%E4%B8%AD.m3u8', '', `/hls/%E4%B8%AD.m3u8?session_id=${HASH1}`],
  ])('%s ? %s', (path, query, want) => {
    expect(sessionRedirectLocation(path, query, HASH1)).toBe(want);
  });

  test('redirect body is what Go http.Redirect writes, HTML-escaped', () => {
    expect(sessionRedirectBody(`/hls/t.m3u8?a=1&session_id=${HASH1}`)).toBe(`<a href="/hls/t.m3u8?a=1&amp;session_id=${HASH1}">Found</a>.\n\n`);
    expect(sessionRedirectBody(`/x"'<>`)).toBe('<a href="/x&#34;&#39;&lt;&gt;">Found</a>.\n\n');
  });

  test('session id from a query', () => {
    expect(sessionIdFromQuery(`session_id=${HASH1}`)).toBe(HASH1);
    expect(sessionIdFromQuery(`a=1&session_id=${HASH1}&session_id=x`)).toBe(HASH1);
    expect(sessionIdFromQuery('session_id=')).toBeUndefined();
    expect(sessionIdFromQuery('a=1')).toBeUndefined();
    expect(sessionIdFromQuery('')).toBeUndefined();
    expect(sessionIdFromQuery('session_id=%zz')).toBeUndefined();
  });

  test('playlist served under a session: every .ts gets ?session_id=', () => {
    const text = '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n\n#EXTINF:3.333,\ntest110-1642375465000-2.ts\n#EXTINF:4.000,\ntest110-1642375465000-3.ts\n';
    expect(rewritePlaylistForSession(text, HASH1)).toBe(
      `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n\n#EXTINF:3.333,\ntest110-1642375465000-2.ts?session_id=${HASH1}\n#EXTINF:4.000,\ntest110-1642375465000-3.ts?session_id=${HASH1}\n`,
    );
  });
});
