import { test, expect, describe } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { parseRtspUrl, rtspTrackUrl } from './url.ts';
import { mulberry32 } from '../../core/testing.ts';

describe('parseRtspUrl (docs/urls.md §4, docs/tests.md TestParseRtspUrl)', () => {
  const cases: [string, { username: string; password: string; host: string; port: number; appName: string; streamName: string; query: string; baseUrl: string }][] = [
    [
      'rtsp://localhost:5544/live/test110',
      { username: '', password: '', host: 'localhost', port: 5544, appName: 'live', streamName: 'test110', query: '', baseUrl: 'rtsp://localhost:5544/live/test110' },
    ],
    [
      'rtsp://localhost:5544/a/b/c/d/test110?p1=1&p2=2',
      { username: '', password: '', host: 'localhost', port: 5544, appName: 'a/b/c/d', streamName: 'test110', query: 'p1=1&p2=2', baseUrl: 'rtsp://localhost:5544/a/b/c/d/test110?p1=1&p2=2' },
    ],
    [
      'rtsp://admin:P!@1988@127.0.0.1:5554/h264/ch33/main/av_stream',
      { username: 'admin', password: 'P!@1988', host: '127.0.0.1', port: 5554, appName: 'h264/ch33/main', streamName: 'av_stream', query: '', baseUrl: 'rtsp://127.0.0.1:5554/h264/ch33/main/av_stream' },
    ],
    [
      'rtsp://admin:admin@10.0.0.2/live/x',
      { username: 'admin', password: 'admin', host: '10.0.0.2', port: 554, appName: 'live', streamName: 'x', query: '', baseUrl: 'rtsp://10.0.0.2/live/x' },
    ],
    [
      'rtsps://h/live/x',
      { username: '', password: '', host: 'h', port: 322, appName: 'live', streamName: 'x', query: '', baseUrl: 'rtsps://h/live/x' },
    ],
    [
      'rtsp://127.0.0.1:5544',
      { username: '', password: '', host: '127.0.0.1', port: 5544, appName: '', streamName: '', query: '', baseUrl: 'rtsp://127.0.0.1:5544' },
    ],
    ['rtsp://h/', { username: '', password: '', host: 'h', port: 554, appName: '', streamName: '', query: '', baseUrl: 'rtsp://h/' }],
    ['rtsp://h/c', { username: '', password: '', host: 'h', port: 554, appName: '', streamName: 'c', query: '', baseUrl: 'rtsp://h/c' }],
    ['rtsp://h/a/', { username: '', password: '', host: 'h', port: 554, appName: 'a', streamName: '', query: '', baseUrl: 'rtsp://h/a/' }],
    [
      'RTSP://u%40x:p%3Aw@[::1]:8554/live/%E6%B5%8B',
      { username: 'u@x', password: 'p:w', host: '::1', port: 8554, appName: 'live', streamName: '测', query: '', baseUrl: 'rtsp://[::1]:8554/live/%E6%B5%8B' },
    ],
    [
      'rtsp://192.168.1.64:554/cam/realmonitor?channel=1&subtype=0',
      { username: '', password: '', host: '192.168.1.64', port: 554, appName: 'cam', streamName: 'realmonitor', query: 'channel=1&subtype=0', baseUrl: 'rtsp://192.168.1.64:554/cam/realmonitor?channel=1&subtype=0' },
    ],
  ];
  test.each(cases)('%s', (url, want) => {
    expect(parseRtspUrl(url)).toMatchObject(want);
  });

  test.each(['http://h/live/x', 'rtmp://h/live/x', 'rtsp:///live/x', 'rtsp://h:99999/x', 'rtsp://h:x/y', 'live/x', 'rtsp://[::1/x', 'rtsp://h/%zz', 'rtsp://u:%zz@h/x'])(
    'invalid: %s',
    (url) => {
      expect(() => parseRtspUrl(url)).toThrow(ParseError);
    },
  );

  test('hostile strings throw only ParseError', () => {
    const rnd = mulberry32(3);
    const alphabet = 'rtsp:/@?#%[]:.-_aZ09 \u00e9';
    for (let i = 0; i < 300; i++) {
      let s = i % 2 === 0 ? 'rtsp://' : '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        parseRtspUrl(s);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
  });
});

describe('rtspTrackUrl (docs/protocols.md §7.2)', () => {
  test.each([
    ['rtsp://h:5544/live/x', 'streamid=0', 'rtsp://h:5544/live/x/streamid=0'],
    ['rtsp://h:5544/live/x/', 'trackID=1', 'rtsp://h:5544/live/x/trackID=1'],
    ['rtsp://h/live/x', 'rtsp://h/live/x/trackID=1?transportmode=unicast', 'rtsp://h/live/x/trackID=1?transportmode=unicast'],
    ['rtsp://h/live/x', 'RTSP://other/abs', 'RTSP://other/abs'],
    ['rtsp://h/live/x', '*', 'rtsp://h/live/x'],
    ['rtsp://h/live/x', '', 'rtsp://h/live/x'],
  ])('%s + %s', (base, control, want) => {
    expect(rtspTrackUrl(base, control)).toBe(want);
  });
});
