import { expect, test } from 'bun:test';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../config.ts';
import type { LiveSession, ServerContext } from '../context.ts';
import { StreamHub } from '../hub.ts';
import { rtpBranchDef } from '../rtp-branch.ts';
import { SessionIdGen } from '../stat.ts';
import { HlsSessionTracker } from './hls.ts';

function context(): ServerContext {
  const config = parseConfig(JSON.stringify({ hls: { enable: true, sub_session_hash_key: 'k', sub_session_timeout_ms: 30000 }, log: { level: 5, filename: '' } })).config;
  return { config, limits: {}, hub: new StreamHub({ gopNum: 1, log: silentLogger }), ids: new SessionIdGen(), log: silentLogger, sessions: new Set<LiveSession>(), branches: { rtp: rtpBranchDef({ log: silentLogger }) } };
}

test('tracked HLS players: a presence on their stream, kicked through it, bitrates refreshed by the tracker', () => {
  const ctx = context();
  const t = new HlsSessionTracker(ctx, silentLogger);
  const s = t.create({ streamName: 'h', appName: 'hls', url: 'http://x/hls/h.m3u8', urlParam: '', remoteAddr: '127.0.0.1:1' })!;
  const stream = ctx.hub.get('h')!;
  expect(stream.sessions().map((p) => p.stat.sessionId)).toEqual([s.id]);
  t.table.addBytes(s, 64 * 1024 * 5); // 64 KiB/s over the 5 s interval
  t.updateBitrate(5);
  expect(stream.sessions()[0].stat.toJSON().bitrate_kbits).toBe(512);
  expect(stream.kick(s.id, 'kicked by api')).toBe(true);
  t.tick();
  expect(ctx.hub.get('h')).toBeUndefined(); // the last presence left: the idle stream is freed
});
