/** `lal bench -i URL -n N [--duration S] [--ramp PER_SEC]`: N players of one stream, with figures. */
import { defineCommand } from 'citty';
import { runBench, type BenchResult } from '../lib/client/bench.ts';
import { CLIError, fail, shutdownSignal } from './_cli.ts';

function num(v: string | undefined, name: string, def: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CLIError(`bench: --${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

const mbps = (bps: number) => `${(bps / 1e6).toFixed(2)} Mbit/s`;

export function formatBenchResult(r: BenchResult): string {
  return [
    `players: ${r.started}/${r.n} started, ${r.failed} failed`,
    `first video frame: median ${r.firstFrameMs.median.toFixed(1)} ms, p95 ${r.firstFrameMs.p95.toFixed(1)} ms, max ${r.firstFrameMs.max.toFixed(1)} ms (${r.firstFrameMs.count} players)`,
    `stream ${mbps(r.streamBitsPerSec)}; aggregate ${mbps(r.aggregateBitsPerSec)}; players below 95% of the stream: ${r.slowPlayers}`,
    ...r.failures.map((f) => `  ${f}`),
  ].join('\n');
}

export default defineCommand({
  meta: { name: 'bench', description: 'Load a stream with N RTMP, RTSP (TCP) or HTTP-FLV players and report latency and throughput' },
  args: {
    input: { type: 'string', alias: 'i', required: true, description: 'rtmp://host:port/app/stream, rtsp://host:port/app/stream or http://host:port/app/stream.flv' },
    n: { type: 'string', alias: 'n', default: '100', description: 'number of players' },
    duration: { type: 'string', alias: 'd', default: '20', description: 'seconds to hold all players after the ramp' },
    ramp: { type: 'string', default: '200', description: 'players started per second' },
    bitrate: { type: 'string', description: 'expected stream bitrate in kbit/s (default: 90th percentile of the players)' },
    json: { type: 'boolean', default: false, description: 'print the result as JSON' },
  },
  async run({ args }) {
    try {
      const signal = shutdownSignal();
      const tty = process.stdout.isTTY;
      const res = await runBench({
        url: args.input,
        n: Math.floor(num(args.n, 'n', 100)),
        durationSec: num(args.duration, 'duration', 20),
        rampPerSec: num(args.ramp, 'ramp', 200),
        referenceBitsPerSec: args.bitrate ? num(args.bitrate, 'bitrate', 0) * 1000 : undefined,
        signal,
        onHold: (phase) => {
          if (!tty) console.log(`hold: ${phase}`);
        },
        onSecond: (s) => {
          const line = `t=${String(s.elapsedSec).padStart(3)}s started=${s.started} alive=${s.alive} playing=${s.playing} failed=${s.failed} ${mbps(s.bitsPerSec)}`;
          if (tty) process.stdout.write(`\r${line}\x1b[K`);
          else console.log(line);
        },
      });
      if (tty) process.stdout.write('\n');
      console.log(args.json ? JSON.stringify({ ...res, perPlayerBitsPerSec: undefined }) : formatBenchResult(res));
      process.exit(res.failed > 0 ? 2 : 0);
    } catch (e) {
      fail(e);
    }
  },
});
