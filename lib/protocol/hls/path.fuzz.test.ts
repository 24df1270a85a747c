/**
 * Seeded fuzz test of HLS request-path resolution (issue #9): 100,000 random and mutated request
 * paths (percent-escapes, dot segments, backslashes, NULs, non-ASCII) under two URL patterns.
 * `resolveHlsRequest` never throws, and every path it accepts names a file strictly inside
 * `<out_path>/<stream>/`, so `hlsFilePath` never refuses it.
 */
import { describe, expect, test } from 'bun:test';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { hlsFilePath, resolveHlsRequest } from './path.ts';

const OUT = '/tmp/lal/hls';
const PATHS = [
  '/hls/test110/playlist.m3u8',
  '/hls/test110.m3u8?session=1',
  '/hls/live/test110/record.m3u8',
  '/hls/test110/test110-1642375465000-7.ts',
  '/hls/a%2Fb/..%2F..%2Fetc-1-2.ts',
  '/hls/%E4%B8%AD-1-2.ts',
];
const DICT = ['/', '..', '.', '%2e', '%2E', '%2f', '%2F', '%5c', '%00', '%', '\\', '\0', '-', '.ts', '.m3u8', 'playlist.m3u8', 'record.m3u8', '?', '中'].map(utf8Encode);

describe('resolveHlsRequest fuzz', () => {
  test('100,000 paths: never throws, accepted ones stay inside out_path', () => {
    const root = resolve(OUT);
    let accepted = 0;
    const r = fuzz('hls request path', { seed: 0x415, corpus: PATHS.map(utf8Encode), dictionary: DICT, allowed: [] }, ({ input, rnd }) => {
      const path = rnd() < 0.8 ? utf8Decode(input) : latin1(input);
      const res = resolveHlsRequest(path, rnd() < 0.8 ? '/hls/' : '/hls');
      if ('error' in res) return;
      accepted++;
      const rel = relative(root, resolve(hlsFilePath(OUT, res.streamName, res.fileName)));
      fuzzCheck(!isAbsolute(rel) && rel.split(sep).length === 2 && rel.split(sep)[0] === res.streamName && rel.split(sep)[1] === res.fileName,
        () => `${JSON.stringify(path)} → ${rel}`);
    });
    expect(r.ok).toBe(r.runs);
    expect(accepted).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
