import { test, expect } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { parseRtmpUrl } from './url.ts';

// docs/urls.md §3 client rules and LAL's TestParseRtmpUrl cases.
test.each([
  {
    url: 'rtmp://127.0.0.1:1935/live/test110',
    want: { scheme: 'rtmp', host: '127.0.0.1', port: 1935, app: 'live', streamName: 'test110', tcUrl: 'rtmp://127.0.0.1:1935/live', query: '' },
  },
  {
    url: 'rtmp://127.0.0.1/live/test110?lal_secret=700997e1595a06c9ffa60ebef79105b0',
    want: {
      scheme: 'rtmp',
      host: '127.0.0.1',
      port: 1935,
      app: 'live',
      streamName: 'test110?lal_secret=700997e1595a06c9ffa60ebef79105b0',
      tcUrl: 'rtmp://127.0.0.1/live',
      query: 'lal_secret=700997e1595a06c9ffa60ebef79105b0',
    },
  },
  {
    url: 'rtmps://example.com/live/s',
    want: { scheme: 'rtmps', host: 'example.com', port: 443, app: 'live', streamName: 's', tcUrl: 'rtmps://example.com/live', query: '' },
  },
  {
    url: 'rtmp://127.0.0.1:19350/a/b/test110',
    want: { scheme: 'rtmp', host: '127.0.0.1', port: 19350, app: 'a/b', streamName: 'test110', tcUrl: 'rtmp://127.0.0.1:19350/a/b', query: '' },
  },
  {
    // single segment: app with empty stream (ffmpeg compatible)
    url: 'rtmp://127.0.0.1/test110',
    want: { scheme: 'rtmp', host: '127.0.0.1', port: 1935, app: 'test110', streamName: '', tcUrl: 'rtmp://127.0.0.1/test110', query: '' },
  },
  {
    url: 'rtmp://127.0.0.1:19350/live/',
    want: { scheme: 'rtmp', host: '127.0.0.1', port: 19350, app: 'live', streamName: '', tcUrl: 'rtmp://127.0.0.1:19350/live', query: '' },
  },
  {
    url: 'rtmp://127.0.0.1:19350/',
    want: { scheme: 'rtmp', host: '127.0.0.1', port: 19350, app: '', streamName: '', tcUrl: 'rtmp://127.0.0.1:19350/', query: '' },
  },
  {
    // more than one `?`: up to the last `/` is the app, query empty (docs/urls.md §3)
    url: 'rtmp://xxx.com:1935/vyun?vhost=thirdVhost?token=88F4/lss_7',
    want: {
      scheme: 'rtmp',
      host: 'xxx.com',
      port: 1935,
      app: 'vyun?vhost=thirdVhost?token=88F4',
      streamName: 'lss_7',
      tcUrl: 'rtmp://xxx.com:1935/vyun?vhost=thirdVhost?token=88F4',
      query: '',
    },
  },
  {
    url: 'rtmp://xxx.net/vhall?vhost=thirdVhost?token=2A317D14t25690/138521921',
    want: {
      scheme: 'rtmp',
      host: 'xxx.net',
      port: 1935,
      app: 'vhall?vhost=thirdVhost?token=2A317D14t25690',
      streamName: '138521921',
      tcUrl: 'rtmp://xxx.net/vhall?vhost=thirdVhost?token=2A317D14t25690',
      query: '',
    },
  },
  {
    url: 'rtmp://user:p@ss@[::1]:1936/live/%E7%9B%B4%E6%92%AD?a=1&b=2',
    want: { scheme: 'rtmp', host: '::1', port: 1936, app: 'live', streamName: '直播?a=1&b=2', tcUrl: 'rtmp://[::1]:1936/live', query: 'a=1&b=2' },
  },
])('$url', ({ url, want }) => {
  expect(parseRtmpUrl(url)).toEqual(want as ReturnType<typeof parseRtmpUrl>);
});

test.each([
  'invalidurl',
  'http://127.0.0.1/live/test',
  'rtmp://127.0.0.1',
  'rtmp:///live/test',
  'rtmp://h:99999/live/test',
  'rtmp://h:x/live/test',
  'rtmp://[::1/live/t',
  'rtmp://h/live/%E7%9B',
])('invalid: %s', (url) => {
  expect(() => parseRtmpUrl(url)).toThrow(ParseError);
});
