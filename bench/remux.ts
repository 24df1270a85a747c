#!/usr/bin/env bun
/**
 * Remux benchmark (issue #3 target): `lal remux` FLV → TS against `ffmpeg -c copy -f mpegts` on the
 * same file in the same run, whole-process wall time (start to exit), outputs deleted before
 * every run, the tools alternating. Prints MB/s (input bytes / wall time) and the ratio.
 *
 * `lal` is `bun bin/lal.ts` as an installed lal runs it: from the prebuilt bytecode bundle
 * (dist/, `bun run build`, which `npm install` runs; rebuilt here first when stale). The row
 * `lal-src` runs the same command with LAL_BUILT=0, from the TypeScript sources, for comparison.
 *
 *   bun bench/remux.ts [--seconds 30] [--kbps 2000] [--runs 15] [--size 1280x720]
 * The input is generated once with ffmpeg (testsrc2 + sine, x264 CBR, AAC) in a temp directory.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../test/helpers/ffmpeg.ts';
import { TsDemuxer, TsPesToAv } from '../lib/format/mpegts/demuxer.ts';
import { BUILT_MANIFEST, staleReason, type BuiltManifest } from '../bin/lal.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    kbps: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '15' },
    size: { type: 'string', default: '1280x720' },
  },
});
const seconds = Number(values.seconds);
const kbps = Number(values.kbps);
const runs = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lal-remux-bench-'));
const ff = ffmpegPath();

const lalRemux = [process.execPath, join(root, 'bin/lal.ts'), 'remux'];

function sh(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

// The build `lal` runs from must match the sources (bin/lal.ts would silently run the sources).
const stale = staleReason(readManifest(), 'remux', root);
if (stale !== undefined) {
  console.log(`dist/ is not current (${stale}): bun bin/build.ts`);
  const b = sh([process.execPath, join(root, 'bin/build.ts')]);
  if (b.code !== 0) {
    console.error(`bench: the build failed: ${b.stderr}`);
    process.exit(1);
  }
}
function readManifest(): BuiltManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'dist', BUILT_MANIFEST), 'utf8')) as BuiltManifest;
  } catch {
    return undefined;
  }
}
if (staleReason(readManifest(), 'remux', root) !== undefined) {
  console.error('bench: dist/ is still not current after the build');
  process.exit(1);
}

// The temporary directory goes away however the run ends.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const input = join(tmp, `in-${seconds}s-${kbps}k.flv`);
console.log(`making ${seconds} s ${values.size} H.264 ${kbps} kbit/s + AAC 128 kbit/s …`);
const make = sh([
  ff, '-hide_banner', '-loglevel', 'error', '-y',
  '-f', 'lavfi', '-i', `testsrc2=size=${values.size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
  '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
  '-g', '60', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', input,
]);
if (make.code !== 0) {
  console.error(`bench: making the input failed: ${make.stderr}`);
  process.exit(1);
}
const inBytes = statSync(input).size;

const lalOut = join(tmp, 'lal.ts');
const srcOut = join(tmp, 'lal-src.ts');
const ffOut = join(tmp, 'ffmpeg.ts');
const tools = {
  lal: [...lalRemux, '-i', input, '-o', lalOut],
  'lal-src': [...lalRemux, '-i', input, '-o', srcOut],
  ffmpeg: [ff, '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-c', 'copy', '-f', 'mpegts', ffOut],
} as const;
type Tool = keyof typeof tools;
const outOf: Record<Tool, string> = { lal: lalOut, 'lal-src': srcOut, ffmpeg: ffOut };
const envOf: Record<Tool, Record<string, string | undefined>> = { lal: process.env, 'lal-src': { ...process.env, LAL_BUILT: '0' }, ffmpeg: process.env };

async function once(tool: Tool): Promise<number> {
  rmSync(outOf[tool], { force: true });
  const t0 = performance.now();
  const p = Bun.spawn([...tools[tool]], { stdout: 'ignore', stderr: 'pipe', env: envOf[tool] });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${tool} exited ${code}: ${await new Response(p.stderr).text()}`);
  return ms;
}

// Warm the page cache and both binaries, then check the outputs hold the same frames (counted
// with lal's own demuxer: the ffprobe build beside the old static ffmpeg crashes on its TS).
await once('ffmpeg');
await once('lal');
await once('lal-src');
function frames(file: string): string {
  const demuxer = new TsDemuxer();
  const conv = new TsPesToAv();
  const n = { video: 0, audio: 0 };
  const take = (evs: ReturnType<TsDemuxer['feed']>) => {
    for (const ev of evs) if (ev.type === 'pes') for (const p of conv.push(ev).packets) n[p.kind]++;
  };
  take(demuxer.feed(readFileSync(file)));
  take(demuxer.flush());
  return `${n.video} video / ${n.audio} audio frames`;
}
const fLal = frames(lalOut);
const fFf = frames(ffOut);
if (fLal !== fFf) console.log(`warning: outputs differ: lal ${fLal}, ffmpeg ${fFf}`);
if (!readFileSync(lalOut).equals(readFileSync(srcOut))) console.log('warning: the built and the source lal wrote different bytes');

const times: Record<Tool, number[]> = { lal: [], 'lal-src': [], ffmpeg: [] };
const orders: Tool[][] = [['ffmpeg', 'lal', 'lal-src'], ['lal', 'lal-src', 'ffmpeg'], ['lal-src', 'ffmpeg', 'lal']];
for (let i = 0; i < runs; i++) {
  for (const tool of orders[i % orders.length]) times[tool].push(await once(tool));
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mbps = (ms: number) => inBytes / 1e6 / (ms / 1000);
const row = (tool: Tool) => {
  const med = median(times[tool]);
  const min = Math.min(...times[tool]);
  return `${tool.padEnd(8)} median ${med.toFixed(1).padStart(6)} ms (${mbps(med).toFixed(0).padStart(4)} MB/s)   best ${min.toFixed(1).padStart(6)} ms (${mbps(min).toFixed(0).padStart(4)} MB/s)   out ${(statSync(outOf[tool]).size / 1e6).toFixed(2)} MB`;
};
console.log(`input: ${(inBytes / 1e6).toFixed(2)} MB FLV (${seconds} s, ${kbps} kbit/s video); ${runs} runs each, whole-process wall time`);
console.log(`both outputs: ${fLal}`);
console.log(row('ffmpeg'));
console.log(row('lal'));
console.log(row('lal-src'));
const ratio = median(times.ffmpeg) / median(times.lal);
const bestRatio = Math.min(...times.ffmpeg) / Math.min(...times.lal);
console.log(`lal/ffmpeg speed ratio (median): ${ratio.toFixed(2)}, best: ${bestRatio.toFixed(2)} (${ratio >= 1 ? 'lal at least as fast: target met' : 'lal slower: target missed'})`);
