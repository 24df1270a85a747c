#!/usr/bin/env bun
/**
 * A healthy stream running beside an attack: ffmpeg publishes fixtures/h264-aac.flv over RTMP in
 * a loop (real time), and one HTTP-FLV player counts the media frames it receives. The player
 * runs in its own process (this file run as a script), so the attack's work in the test process
 * never slows it down and its count says only what the server delivered.
 *
 *   const healthy = await startHealthyStream({ rtmpPort, httpPort });
 *   … the attack …
 *   await healthy.assertStillFlowing();   // the count keeps growing: the attack disturbed nothing
 *   await healthy.stop();
 *
 * As a script: `bun test/helpers/healthy-stream.ts URL` prints `frames <video> <audio> <bytes>`
 * every 200 ms, and `end` when the response ends.
 */
import { FlvReader } from '../../lib/format/flv/reader.ts';
import { ffmpegPath } from './ffmpeg.ts';
import { spawnTracked, stop, waitFor } from './proc.ts';

export interface HealthyStream {
  readonly name: string;
  /** Media frames (video + audio, sequence headers excluded) the player has received so far. */
  frames(): number;
  /** Video frames received so far. */
  videoFrames(): number;
  /** True once the player's response ended (the server closed it). */
  ended(): boolean;
  /**
   * Wait until the player received at least `minFrames` more frames (default 50: about a second
   * of the fixture's video and audio) within `timeoutMs`; throws when it did not, or when the
   * publisher or the player is gone.
   */
  assertStillFlowing(minFrames?: number, timeoutMs?: number): Promise<void>;
  /** Stop the player and the publisher (by PID) and wait for both. */
  stop(): Promise<void>;
}

export interface HealthyStreamOptions {
  rtmpPort: number;
  httpPort: number;
  /** Stream name (default `healthy`), under app `live`. */
  name?: string;
  host?: string;
  /** FLV file to loop (default fixtures/h264-aac.flv). */
  file?: string;
  /** Query string of the publish URL, without `?` (e.g. a simple-auth `lal_secret=…`). */
  publishQuery?: string;
  /** How long to wait for the first frames (default 15 s). */
  startTimeoutMs?: number;
  /**
   * How long the processes live when nobody stops them, as test/helpers/proc.ts understands it:
   * `file` for a stream a beforeAll starts for every test of the file.
   */
  lifetime?: 'test' | 'file';
}

const fixture = new URL('../../fixtures/h264-aac.flv', import.meta.url).pathname;

export async function startHealthyStream(opts: HealthyStreamOptions): Promise<HealthyStream> {
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? 'healthy';
  const lifetime = { lifetime: opts.lifetime };
  const player = spawnTracked([process.execPath, import.meta.path, `http://${host}:${opts.httpPort}/live/${name}.flv`], lifetime);
  const query = opts.publishQuery ? `?${opts.publishQuery}` : '';
  const publisher = spawnTracked([
    ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', opts.file ?? fixture,
    '-c', 'copy', '-f', 'flv', `rtmp://${host}:${opts.rtmpPort}/live/${name}${query}`,
  ], lifetime);
  let video = 0;
  let audio = 0;
  let ended = false;
  const reading = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    for await (const c of player.stdout) {
      buf += dec.decode(c, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^frames (\d+) (\d+) \d+$/.exec(line);
        if (m) {
          video = Number(m[1]);
          audio = Number(m[2]);
        } else if (line === 'end') {
          ended = true;
        }
      }
    }
    ended = true;
  })();
  const frames = () => video + audio;
  const alive = () => {
    if (publisher.exitCode !== null || publisher.signalCode !== null) throw new Error(`healthy stream ${name}: the publisher exited (${publisher.exitCode ?? publisher.signalCode})`);
    if (ended) throw new Error(`healthy stream ${name}: the server ended the player's response`);
  };
  try {
    await waitFor(() => (alive(), frames() >= 50), opts.startTimeoutMs ?? 15_000, `healthy stream ${name}: first frames`);
  } catch (e) {
    stop(player);
    stop(publisher);
    throw e;
  }
  return {
    name,
    frames,
    videoFrames: () => video,
    ended: () => ended,
    async assertStillFlowing(minFrames = 50, timeoutMs = 10_000) {
      const from = frames();
      await waitFor(() => (alive(), frames() >= from + minFrames), timeoutMs, `healthy stream ${name}: ${minFrames} more frames after ${from}`);
    },
    async stop() {
      stop(player);
      stop(publisher);
      await Promise.all([player.exited, publisher.exited]);
      await reading.catch(() => undefined);
    },
  };
}

// ---- the player process ----------------------------------------------------------------------

if (import.meta.main) {
  const url = process.argv[2];
  const reader = new FlvReader();
  let video = 0;
  let audio = 0;
  let bytes = 0;
  const report = () => process.stdout.write(`frames ${video} ${audio} ${bytes}\n`);
  const timer = setInterval(report, 200);
  try {
    const res = await fetch(url);
    for await (const c of res.body!) {
      bytes += c.length;
      for (const t of reader.feed(c)) {
        if (t.type === 8 && !(t.body[0] >> 4 === 10 && t.body[1] === 0)) audio++;
        if (t.type === 9 && t.body[1] !== 0) video++;
      }
    }
  } catch {
    /* the response ended with an error: reported as the end */
  }
  clearInterval(timer);
  report();
  process.stdout.write('end\n');
  process.exit(0);
}
