/**
 * Seeded fuzz test of the RTMP URL parser (issue #9): 100,000 random and mutated URLs, only
 * ParseError may escape, and accepted URLs decompose consistently.
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { parseRtmpUrl } from './url.ts';

const URLS = [
  'rtmp://127.0.0.1:1935/live/test110?token=abc',
  'rtmps://example.com/app/inst/stream',
  'rtmp://user:p%40ss@[::1]:19350/live/a%20b',
  'rtmp://h/test110',
  'rtmp://127.0.0.1/vyun?vhost=x?token=y/lss_7',
];
const DICT = ['://', '/', '?', '@', ':', '[', ']', '%', '%zz', '%2F', '#', 'rtmp', 'rtmps', '65536', '99999'].map(utf8Encode);

describe('parseRtmpUrl fuzz', () => {
  test('100,000 inputs: only ParseError, consistent parts', () => {
    const r = fuzz('rtmp url', { seed: 0x0421, corpus: URLS.map(utf8Encode), dictionary: DICT }, ({ input, rnd }) => {
      const text = rnd() < 0.8 ? utf8Decode(input) : latin1(input);
      const u = parseRtmpUrl(text);
      fuzzCheck(u.host !== '' && Number.isInteger(u.port) && u.port >= 0 && u.port <= 65535, () => `host ${u.host} port ${u.port}`);
      fuzzCheck(u.tcUrl.startsWith(`${u.scheme}://`) && u.tcUrl.endsWith(`/${u.app}`), () => `tcUrl ${u.tcUrl}`);
      fuzzCheck(u.query === '' || u.streamName.endsWith(`?${u.query}`), 'the query ends the stream name');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
