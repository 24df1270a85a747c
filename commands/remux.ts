/**
 * `lal remux -i IN -o OUT [-d MS] [-n N]` (issue #3; docs/clients-and-demos.md §3, pullrtmp2hls):
 * FLV ⇄ MPEG-TS, a file → HLS VOD (`-o DIR/NAME.m3u8`), or rtmp:// → live HLS until Ctrl-C.
 * Thin: parses the flags, draws a progress bar on a TTY, prints one summary line.
 */
import type { FileSink } from 'bun';
import { defineCommand } from 'citty';
import { ConfigError } from '../lib/core/errors.ts';
import { remux, type RemuxProgress, type RemuxSummary } from '../lib/client/remux.ts';
import { fail, shutdownSignal } from './_cli.ts';

// Start-up is a visible share of a short conversion (ffmpeg -c copy converts an 8 MB FLV in
// ~20 ms). Touching `process.stderr` or node:tty costs ~7 ms, so a terminal is recognised as a
// character device with Bun.file(2).stat() (off the main thread), the progress bar is drawn
// through a FileSink on fd 2 and lines go out through console.

function positiveInt(v: string | undefined, flag: string, def: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`remux: ${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

const mb = (n: number) => (n / 1e6).toFixed(2);

/** `remux: in.flv → out.ts: 100 video / 174 audio frames, 4.00 s, 0.23 MB in 0.02 s (11 MB/s)`. */
export function formatRemuxSummary(s: RemuxSummary): string {
  const sec = s.elapsedMs / 1000;
  const rate = sec > 0 ? s.bytesIn / 1e6 / sec : 0;
  const segs = s.outputKind === 'hls' ? `, ${s.segments.length} segment${s.segments.length === 1 ? '' : 's'}` : '';
  return (
    `remux: ${s.input} → ${s.output}: ${s.videoFrames} video / ${s.audioFrames} audio frames, ` +
    `${(s.durationMs / 1000).toFixed(2)} s${segs}, ${mb(s.bytesIn)} MB in ${sec.toFixed(2)} s (${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} MB/s)`
  );
}

const BAR_WIDTH = 30;
/** No progress bar before this: most file conversions are over by then. */
const PROGRESS_AFTER_MS = 300;

/** stderr is a terminal (or /dev/null, where a progress bar does no harm). */
async function isTerminal(): Promise<boolean> {
  try {
    return (await Bun.file(2).stat()).isCharacterDevice();
  } catch {
    return false;
  }
}

function progressLine(p: RemuxProgress): string {
  const frames = `${p.videoFrames} video / ${p.audioFrames} audio frames, ${(p.mediaMs / 1000).toFixed(1)} s`;
  if (!p.totalBytes) return `remux: ${mb(p.bytesIn)} MB, ${frames} (Ctrl-C to stop)`;
  const f = Math.min(1, p.bytesIn / p.totalBytes);
  const done = Math.round(f * BAR_WIDTH);
  return `[${'#'.repeat(done)}${'-'.repeat(BAR_WIDTH - done)}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(p.bytesIn)}/${mb(p.totalBytes)} MB, ${frames}`;
}

export default defineCommand({
  meta: { name: 'remux', description: 'Convert FLV ⇄ MPEG-TS, write HLS (VOD from a file, live from rtmp://)' },
  args: {
    input: { type: 'string', alias: 'i', required: true, description: 'in.flv, in.ts or rtmp://host/app/stream' },
    output: { type: 'string', alias: 'o', required: true, description: 'out.flv, out.ts or DIR/NAME.m3u8 (HLS)' },
    duration: { type: 'string', alias: 'd', default: '3000', description: 'HLS fragment duration in ms' },
    num: { type: 'string', alias: 'n', default: '6', description: 'fragments in the live HLS playlist (rtmp:// input)' },
  },
  async run({ args }) {
    try {
      const signal = shutdownSignal();
      // A bar only for runs long enough to watch: the terminal check starts with the first report
      // after PROGRESS_AFTER_MS, so a conversion of a few MB does not pay for it at all.
      const started = performance.now();
      let tty: boolean | undefined;
      let checking = false;
      let drawn: FileSink | undefined;
      const summary = await remux({
        input: args.input,
        output: args.output,
        fragmentMs: positiveInt(args.duration, '-d/--duration', 3000),
        fragmentNum: positiveInt(args.num, '-n/--num', 6),
        signal,
        onProgress: (p) => {
          if (tty === undefined && !checking && performance.now() - started >= PROGRESS_AFTER_MS) {
            checking = true;
            void isTerminal().then((t) => (tty = t));
          }
          if (!tty) return;
          (drawn ??= Bun.stderr.writer()).write(`\r${progressLine(p)}\x1b[K`);
          drawn.flush();
        },
      }).finally(() => {
        if (drawn) {
          drawn.write('\r\x1b[K');
          drawn.flush();
        }
      });
      for (const w of summary.warnings) console.error(`remux: warning: ${w}`);
      console.log(formatRemuxSummary(summary));
      process.exit(0);
    } catch (e) {
      fail(e);
    }
  },
});
