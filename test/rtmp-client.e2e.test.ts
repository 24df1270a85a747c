/**
 * The shared RTMP client session (lib/client/rtmp-session.ts, used by push, pull, remux and the
 * relay) against a real server over loopback: publish and play, how a started session ends
 * (read timeout, signal, close) and how a start fails (refused connection, a server that never
 * answers, a stop, a refused publish), each with the caller's tag in the message.
 */
import { afterAll, expect, test } from 'bun:test';
import { rejection } from '../lib/core/testing.ts';
import { openRtmpClient } from '../lib/client/rtmp-session.ts';
import type { RtmpMessage } from '../lib/protocol/rtmp/chunk-reader.ts';
import { startTestServer } from './helpers/server.ts';
import { fixtureTags } from './flv-tools.ts';

/** A TCP listener that accepts and never says a word (a stuck server). */
const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
afterAll(() => silent.stop(true));


test('publish and play; a started session ends by read timeout, signal or close, with its reason', async () => {
  await using srv = await startTestServer();
  const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/rc`;
  const got: RtmpMessage[] = [];
  const player = await openRtmpClient({ url, mode: 'play', tag: 'relay', readTimeoutMs: 400, onMedia: (m) => got.push(m) });
  const ac = new AbortController();
  const aborted = await openRtmpClient({ url, mode: 'play', signal: ac.signal });
  const closed = await openRtmpClient({ url, mode: 'play' });
  const pub = await openRtmpClient({ url, mode: 'publish', tag: 'relay' });
  const tags = fixtureTags('h264-aac.flv').slice(0, 40);
  for (const t of tags) pub.client.writeMedia(t.type as 8 | 9 | 18, t.timestamp, t.body);
  await Bun.sleep(200);
  expect(got.length).toBeGreaterThan(10);
  expect(player.bytesIn).toBeGreaterThan(1000);

  ac.abort();
  expect(await aborted.ended).toEqual({ reason: 'aborted' });
  expect(aborted.closed).toBe(true);
  closed.close();
  expect(await closed.ended).toEqual({ reason: 'local' });
  pub.close();
  expect((await pub.ended).reason).toBe('local');
  // nothing more arrives: the player's read timeout ends it
  const end = await player.ended;
  expect(end.reason).toBe('read-timeout');
  expect(end.error?.message).toBe(`relay: ${url}: no data for 400 ms`);
}, 20_000);

test('a start that fails says why, with the caller tag: refused, no answer, stopped, publish refused', async () => {
  const refused = await rejection(openRtmpClient({ url: 'rtmp://127.0.0.1:1/live/x', mode: 'play', tag: 'remux' }));
  expect(refused.code).toBe('connect-failed');
  expect(refused.message).toMatch(/^remux: cannot connect to 127\.0\.0\.1:1: /);

  const stuck = `rtmp://127.0.0.1:${silent.port}/live/x`;
  const t0 = performance.now();
  const timeout = await rejection(openRtmpClient({ url: stuck, mode: 'play', timeoutMs: 300 }));
  expect(timeout.code).toBe('timeout');
  expect(timeout.message).toBe(`pull: ${stuck}: not playing after 300 ms`);
  expect(performance.now() - t0).toBeLessThan(3000);

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const stopped = await rejection(openRtmpClient({ url: stuck, mode: 'publish', signal: ac.signal, timeoutMs: 5000 }));
  expect(stopped.code).toBe('aborted');
  expect(stopped.message).toBe(`push: ${stuck}: stopped before publish started`);
  const already = new AbortController();
  already.abort();
  expect((await rejection(openRtmpClient({ url: stuck, mode: 'play', signal: already.signal }))).code).toBe('aborted');

  // a second publisher of the same stream is refused by the server
  await using srv = await startTestServer();
  const url = `rtmp://127.0.0.1:${srv.ports.rtmp}/live/dup`;
  const first = await openRtmpClient({ url, mode: 'publish' });
  const second = await rejection(openRtmpClient({ url, mode: 'publish', tag: 'relay', timeoutMs: 3000 }));
  expect(second.message.startsWith(`relay: ${url}: `)).toBe(true);
  expect(second.code).not.toBe('timeout');
  first.close();
}, 20_000);
