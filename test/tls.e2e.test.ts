/** RTMPS in and HTTPS-FLV out with the shipped self-signed certificate (conf/cert.pem). */
import { afterAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ffmpegWith } from './helpers/ffmpeg.ts';
import { spawnTracked, stop, stopAll, testSignal, waitFor } from './helpers/proc.ts';
import { startTestServer } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { FlvReader } from '../lib/format/flv/reader.ts';

afterAll(stopAll);
const conf = join(import.meta.dir, '../conf');

test('ffmpeg publishes over RTMPS; a player reads HTTPS-FLV', async () => {
  const tls = { rtmps_enable: true, rtmps_addr: '127.0.0.1:0', rtmps_cert_file: join(conf, 'cert.pem'), rtmps_key_file: join(conf, 'key.pem') };
  await using srv = await startTestServer({
    rtmp: tls,
    default_http: { https_listen_addr: '127.0.0.1:0', https_cert_file: join(conf, 'cert.pem'), https_key_file: join(conf, 'key.pem') },
    httpflv: { enable_https: true, https_listen_addr: '127.0.0.1:0', https_cert_file: join(conf, 'cert.pem'), https_key_file: join(conf, 'key.pem') },
  });
  expect(srv.ports.rtmps).toBeGreaterThan(0);
  expect(srv.ports.https).toBeGreaterThan(0);
  const pub = spawnTracked([ffmpegWith('rtmps-publish'), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '2', '-i', fixturePath('h264-aac.flv'), '-c', 'copy', '-f', 'flv', `rtmps://127.0.0.1:${srv.ports.rtmps}/live/sec`]);
  await waitFor(() => srv.control.statGroup('sec')?.video_width === 320, 10_000, 'RTMPS publisher');
  const res = await fetch(`https://127.0.0.1:${srv.ports.https}/live/sec.flv`, { tls: { rejectUnauthorized: false }, signal: testSignal() } as RequestInit);
  expect(res.status).toBe(200);
  const reader = new FlvReader();
  const tags = [];
  for await (const c of res.body!) {
    tags.push(...reader.feed(c));
    if (tags.filter((t) => t.type === 9).length >= 10) break;
  }
  expect(tags[0].type).toBe(18);
  expect(tags.some((t) => t.type === 9 && t.body[0] === 0x17 && t.body[1] === 1)).toBe(true);
  stop(pub);
}, 30_000);
