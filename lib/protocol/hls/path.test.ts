import { test, expect, describe } from 'bun:test';
import { resolve, relative, isAbsolute } from 'node:path';
import { LalError } from '../../core/errors.ts';
import {
  hlsFilePath,
  hlsFragmentName,
  hlsStreamDir,
  resolveHlsRequest,
  streamNameOfFragment,
  MAX_HLS_REQUEST_PATH,
  type HlsRequestInfo,
} from './path.ts';

const OUT = '/tmp/lal/hls/';

/** Percent-encode like a browser does for the path (keeps `/`). */
function enc(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function ok(urlPath: string): HlsRequestInfo {
  const r = resolveHlsRequest(urlPath, '/hls/');
  if ('error' in r) throw new Error(`${urlPath}: ${r.reason}`);
  return r;
}

function fileOf(urlPath: string): string {
  const r = ok(urlPath);
  return hlsFilePath(OUT, r.streamName, r.fileName);
}

describe('upstream TestDefaultPathStrategy_GetRequestInfo (docs/urls.md §8)', () => {
  test.each([
    ['1 hls/[].m3u8', '/hls/test1.m3u8', 'test1', '/tmp/lal/hls/test1/playlist.m3u8'],
    ['2 hls/[].m3u8', '/hls/test2.m3u8', 'test2', '/tmp/lal/hls/test2/playlist.m3u8'],
    ['3 hls/[]/record.m3u8', '/hls/test3/record.m3u8', 'test3', '/tmp/lal/hls/test3/record.m3u8'],
    ['4 hls/[]/[]-timestamp-seq.ts', '/hls/test4/test4-1620540712084-0.ts', 'test4', '/tmp/lal/hls/test4/test4-1620540712084-0.ts'],
    ['5 hls/[]-timestamp-seq.ts', '/hls/test5-1620540712084-0.ts', 'test5', '/tmp/lal/hls/test5/test5-1620540712084-0.ts'],
    ['6 name with -', '/hls/test6/test6-0-1620540712084-0.ts', 'test6-0', '/tmp/lal/hls/test6-0/test6-0-1620540712084-0.ts'],
    ['7 name with -', '/hls/test7-0-1620540712084-0.ts', 'test7-0', '/tmp/lal/hls/test7-0/test7-0-1620540712084-0.ts'],
    ['8 non-ASCII name', '/hls/中文测试-1620540712084-0.ts', '中文测试', '/tmp/lal/hls/中文测试/中文测试-1620540712084-0.ts'],
    ['9 non-ASCII name with -', '/hls/中文测试-zh-0-1620540712084-0.ts', '中文测试-zh-0', '/tmp/lal/hls/中文测试-zh-0/中文测试-zh-0-1620540712084-0.ts'],
    ['10 fewer than two -', '/hls/中文测试-1620540712084.ts', '中文测试-1620540712084.ts', '/tmp/lal/hls/中文测试-1620540712084.ts/中文测试-1620540712084.ts'],
  ])('%s', (_name, path, stream, file) => {
    // As sent on the wire (percent-encoded) — and raw, for clients that do not encode.
    for (const p of [enc(path), path]) {
      const r = ok(p);
      expect(r.streamName).toBe(stream);
      expect(hlsFilePath(OUT, r.streamName, r.fileName)).toBe(file);
    }
  });
});

describe('resolveHlsRequest details', () => {
  test.each([
    ['/hls/test110.m3u8', { streamName: 'test110', fileName: 'playlist.m3u8', fileType: 'm3u8', playlist: 'live', appName: '' }],
    ['/hls/test110/playlist.m3u8', { streamName: 'test110', fileName: 'playlist.m3u8', fileType: 'm3u8', playlist: 'live', appName: 'test110' }],
    ['/hls/test110/record.m3u8', { streamName: 'test110', fileName: 'record.m3u8', fileType: 'm3u8', playlist: 'record', appName: 'test110' }],
    ['/hls/x/y/test.m3u8', { streamName: 'test', fileName: 'playlist.m3u8', fileType: 'm3u8', playlist: 'live', appName: 'x/y' }],
    ['/hls/a.b.c.m3u8', { streamName: 'a.b.c', fileName: 'playlist.m3u8', fileType: 'm3u8', playlist: 'live', appName: '' }],
    ['/hls/test110-1620540712084-0.ts?session_id=abc', { streamName: 'test110', fileName: 'test110-1620540712084-0.ts', fileType: 'ts', appName: '' }],
    ['/hls/live/test110/test110-1-2.ts', { streamName: 'test110', fileName: 'test110-1-2.ts', fileType: 'ts', appName: 'live/test110' }],
    ['/hls/a%20b.m3u8', { streamName: 'a b', fileName: 'playlist.m3u8', fileType: 'm3u8', playlist: 'live', appName: '' }],
  ] as [string, HlsRequestInfo][])('%s', (path, want) => {
    expect(resolveHlsRequest(path, '/hls/')).toEqual(want);
  });

  test('pattern without trailing slash behaves the same', () => {
    expect(ok('/hls/test110.m3u8')).toEqual(resolveHlsRequest('/hls/test110.m3u8', '/hls') as HlsRequestInfo);
  });

  test.each([
    ['/hls/', 'empty file name'],
    ['/hls/test110/', 'empty file name'],
    ['/hls/test110', 'neither m3u8 nor ts'],
    ['/hls/test110.flv', 'neither m3u8 nor ts'],
    ['/hls/test110.M3U8', 'neither m3u8 nor ts'],
    ['/hls/.m3u8', 'unusable stream name'],
    ['/hls//playlist.m3u8', 'unusable stream name'],
    ['/other/test110.m3u8', 'not under /hls/'],
    ['/hls/%zz.m3u8', 'bad percent-escape'],
    ['/hls/%E4%B8.m3u8', 'bad percent-escape'],
    ['hls/test110.m3u8', 'not absolute-path form'],
    [`/hls/${'a'.repeat(MAX_HLS_REQUEST_PATH)}.m3u8`, 'longer than'],
  ])('invalid: %s', (path, reason) => {
    const r = resolveHlsRequest(path, '/hls/');
    expect('error' in r && r.error).toBe('invalid');
    expect('error' in r && r.reason).toContain(reason);
  });
});

describe('traversal attacks never leave out_path', () => {
  test.each([
    ['raw ..', '/hls/../../etc/passwd.ts'],
    ['raw .. as stream dir', '/hls/../record.m3u8'],
    ['raw . segment', '/hls/./x/../../../etc/x.m3u8'],
    ['encoded %2e%2e', '/hls/%2e%2e/%2e%2e/etc/x.m3u8'],
    ['encoded %2E%2E upper case', '/hls/%2E%2E/record.m3u8'],
    ['..%2f in one segment', '/hls/..%2f..%2fetc%2fpasswd.ts'],
    ['%2e%2e%2f in one segment', '/hls/%2e%2e%2f%2e%2e%2fsecret-1-2.ts'],
    ['.. then encoded slash before the file', '/hls/x/..%2F..%2Fplaylist.m3u8'],
    ['stream name .. via <x>.m3u8', '/hls/%2e%2e.m3u8'],
    ['stream name .. via ...m3u8', '/hls/...m3u8'],
    ['stream name . via ..m3u8', '/hls/..m3u8'],
    ['stream name .. via fragment name', '/hls/..-1-2.ts'],
    ['stream name . via fragment name', '/hls/.-1-2.ts'],
    ['stream name .. via encoded fragment name', '/hls/%2e%2e-1-2.ts'],
    ['raw backslash', '/hls/..\\..\\win.ini.ts'],
    ['encoded backslash %5c', '/hls/..%5c..%5cwin.ini.ts'],
    ['encoded backslash in stream', '/hls/a%5Cb.m3u8'],
    ['raw NUL', '/hls/test\0.m3u8'],
    ['encoded NUL', '/hls/test%00.m3u8'],
    ['NUL before the extension', '/hls/passwd%00-1-2.ts'],
    ['double-encoded is decoded once, then refused as a dot segment? no: stays literal', '/hls/%252e%252e/x.m3u8'],
    ['overlong UTF-8 dot %c0%ae', '/hls/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/x.m3u8'],
    ['absolute URL instead of a path', 'http://evil/hls/x.m3u8'],
    ['scheme-relative', '//evil/hls/x.m3u8'],
  ])('%s: %s', (_name, path) => {
    const r = resolveHlsRequest(path, '/hls/');
    if ('error' in r) {
      expect(r.error).toBe('invalid');
      return;
    }
    // The only accepted case above is the double-encoded one, which names the literal
    // directory `%2e%2e` (one decode only) and stays inside out_path.
    expect(path).toBe('/hls/%252e%252e/x.m3u8');
    expect(r.streamName).toBe('x');
    const file = hlsFilePath(OUT, r.streamName, r.fileName);
    expect(file).toBe('/tmp/lal/hls/x/playlist.m3u8');
  });

  test('harmless odd paths are confined to <out>/<stream>/<file>', () => {
    expect(fileOf('/hls//etc/passwd.ts')).toBe('/tmp/lal/hls/passwd.ts/passwd.ts');
    expect(fileOf('/hls/%2Fetc%2Fpasswd.ts')).toBe('/tmp/lal/hls/passwd.ts/passwd.ts');
    expect(fileOf('/hls//etc/playlist.m3u8')).toBe('/tmp/lal/hls/etc/playlist.m3u8');
    expect(fileOf('/hls/C:/x.m3u8')).toBe('/tmp/lal/hls/x/playlist.m3u8');
  });

  test('random hostile paths: either invalid or a file strictly inside out_path', () => {
    let a = 0x9e3779b9;
    const rnd = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const parts = ['..', '.', '%2e', '%2E', '%2f', '%2F', '/', '\\', '%5c', '%00', '%', 'a', '-', '1', '.ts', '.m3u8', 'playlist.m3u8', 'record.m3u8', '中', '%E4%B8%AD', '~', ':'];
    const root = resolve(OUT);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      let p = '/hls/';
      const n = 1 + Math.floor(rnd() * 10);
      for (let j = 0; j < n; j++) p += parts[Math.floor(rnd() * parts.length)];
      if (rnd() < 0.5) p += rnd() < 0.5 ? '.ts' : '.m3u8';
      const r = resolveHlsRequest(p, '/hls/');
      if ('error' in r) continue;
      accepted++;
      const file = hlsFilePath(OUT, r.streamName, r.fileName);
      const rel = relative(root, resolve(file));
      expect(rel === '..' || rel.startsWith('../') || isAbsolute(rel)).toBe(false);
      expect(rel.split('/').length).toBe(2);
      expect(rel.split('/')[0]).toBe(r.streamName);
      expect(rel.split('/')[1]).toBe(r.fileName);
    }
    expect(accepted).toBeGreaterThan(100);
  });

  test('arbitrary strings never make resolveHlsRequest throw', () => {
    let a = 7;
    const rnd = () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < 500; i++) {
      let p = rnd() < 0.8 ? '/hls/' : '';
      const n = Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) p += String.fromCharCode(rnd() < 0.7 ? 0x20 + Math.floor(rnd() * 0x5f) : Math.floor(rnd() * 0xffff));
      const r = resolveHlsRequest(p, '/hls/');
      if (!('error' in r)) expect(() => hlsFilePath(OUT, r.streamName, r.fileName)).not.toThrow();
    }
  });
});

describe('names and file paths', () => {
  test('fragment names and the stream they map back to', () => {
    expect(hlsFragmentName('test110', 1642375465000, 7)).toBe('test110-1642375465000-7.ts');
    for (const s of ['test110', 'a-b', 'a-b-c', '中文-x', 'x.y', '-', 'a--b']) {
      expect(streamNameOfFragment(hlsFragmentName(s, 1620540712084, 3))).toBe(s);
    }
    expect(streamNameOfFragment('abc.ts')).toBe('abc.ts');
    expect(streamNameOfFragment('a-1.ts')).toBe('a-1.ts');
    expect(streamNameOfFragment('-1-2.ts')).toBe('');
  });

  test('hlsFilePath / hlsStreamDir join and clean, and refuse unsafe names', () => {
    expect(hlsFilePath('./lal_record/hls/', 'test110', 'test110-1729648800123-5.ts')).toBe('lal_record/hls/test110/test110-1729648800123-5.ts');
    expect(hlsStreamDir('./lal_record/hls/', 'test110')).toBe('lal_record/hls/test110');
    // names that merely start with dots are ordinary names
    expect(hlsFilePath(OUT, '..x', '..y.ts')).toBe('/tmp/lal/hls/..x/..y.ts');
    for (const [s, f] of [
      ['..', 'playlist.m3u8'],
      ['.', 'playlist.m3u8'],
      ['a/../..', 'x.ts'],
      ['ok', '../x.ts'],
      ['ok', '..'],
      ['ok', 'a\\b'],
      ['ok', ''],
      ['', 'x.ts'],
      ['/etc', 'passwd'],
    ]) {
      expect(() => hlsFilePath(OUT, s, f)).toThrow(LalError);
    }
    expect(() => hlsStreamDir(OUT, '../x')).toThrow('unsafe stream name');
  });

  test('stream names go through checkStreamName: control characters and over-long names are refused', () => {
    expect(() => hlsFilePath(OUT, 'a\nb', 'x.ts')).toThrow('control character');
    expect(() => hlsStreamDir(OUT, 'x'.repeat(60_000))).toThrow('longer than 1024');
    // 300 bytes passes the stream-name limit but is no file name (NAME_MAX 255)
    expect(() => hlsStreamDir(OUT, 'x'.repeat(300))).toThrow('longer than 255');
    expect('error' in resolveHlsRequest('/hls/a%01b.m3u8', '/hls/')).toBe(true);
    expect('error' in resolveHlsRequest(`/hls/${'x'.repeat(2000)}.m3u8`, '/hls/')).toBe(true);
  });
});
