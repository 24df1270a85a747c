/**
 * Seeded fuzz test of the RTSP URL parser (issue #9): 100,000 random and mutated URLs, only
 * ParseError may escape, and the credential-free base URL parses back to the same parts.
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { parseRtspUrl } from './url.ts';

const URLS = [
  'rtsp://admin:P!@1988@127.0.0.1:5554/h264/ch33/main/av_stream',
  'rtsps://[::1]:322/live/test?token=a%20b',
  'rtsp://user%40x:p%3Aw@cam.local/Streaming/Channels/101',
  'rtsp://h/',
  'rtsp://h:554/a/',
];
const DICT = ['://', '/', '?', '@', ':', '[', ']', '%', '%zz', '%2F', '#', 'rtsp', 'rtsps', '65536', '99999'].map(utf8Encode);

describe('parseRtspUrl fuzz', () => {
  test('100,000 inputs: only ParseError, base URL round trip', () => {
    const r = fuzz('rtsp url', { seed: 0x0554, corpus: URLS.map(utf8Encode), dictionary: DICT }, ({ input, rnd }) => {
      const u = parseRtspUrl(rnd() < 0.8 ? utf8Decode(input) : latin1(input));
      fuzzCheck(u.host !== '' && u.port >= 0 && u.port <= 65535 && Number.isInteger(u.port), () => `host ${u.host} port ${u.port}`);
      const b = parseRtspUrl(u.baseUrl);
      fuzzCheck(b.username === '' && b.password === '', 'no credentials in the base URL');
      fuzzCheck(b.baseUrl === u.baseUrl && b.host === u.host && b.port === u.port && b.path === u.path && b.query === u.query && b.appName === u.appName && b.streamName === u.streamName,
        () => `base URL ${u.baseUrl} parses to other parts`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
