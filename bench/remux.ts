/**
 * Remux benchmark (issue #3 target): `lal remux` FLV → TS against `ffmpeg -c copy -f mpegts` on the
 * same file in the same run, whole-process wall time (start to exit), outputs deleted before
 * every run, the tools alternating. Prints MB/s (input bytes / wall time) and the ratio.
 *
 * `--lal` says which lal to time, and may be given more than once to compare them in one run:
 * `src` (the default) is `bun bin/lal.ts`, from the TypeScript sources; anything else is the path
 * of a lal executable, such as the single-file build (`npm run compile` → dist/lal).
 *
 *   bun bench/remux.ts [--lal src] [--lal dist/lal] [--seconds 30] [--kbps 2000] [--runs 15] [--size 1280x720]
 * The input is generated once with ffmpeg (testsrc2 + sine, x264 CBR, AAC) in a temp directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../test/helpers/ffmpeg.ts';
import { TsDemuxer, TsPesToAv } from '../lib/format/mpegts/demuxer.ts';

const { values } = parseArgs({
  options: {
    lal: { type: 'string', multiple: true },
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
const ff = ffmpegPath();

/** `--lal` values → the command that runs `lal remux` for each. */
const lals = new Map<string, string[]>();
for (const v of values.lal ?? ['src']) {
  if (v === 'src') {
    lals.set('lal src', [process.execPath, join(root, 'bin/lal.ts'), 'remux']);
    continue;
  }
  const exe = resolve(v);
  if (!existsSync(exe)) {
    console.error(`bench: --lal ${v}: no such file (npm run compile writes dist/lal)`);
    process.exit(1);
  }
  lals.set(`lal ${v}`, [exe, 'remux']);
}

function sh(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const tmp = mkdtempSync(join(tmpdir(), 'lal-remux-bench-'));
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

const ffOut = join(tmp, 'ffmpeg.ts');
const tools = new Map<string, { cmd: string[]; out: string }>([
  ['ffmpeg', { cmd: [ff, '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-c', 'copy', '-f', 'mpegts', ffOut], out: ffOut }],
]);
[...lals].forEach(([name, cmd], i) => {
  const out = join(tmp, `lal-${i}.ts`);
  tools.set(name, { cmd: [...cmd, '-i', input, '-o', out], out });
});
const names = [...tools.keys()];
const lalNames = names.filter((n) => n !== 'ffmpeg');

async function once(tool: string): Promise<number> {
  const { cmd, out } = tools.get(tool)!;
  rmSync(out, { force: true });
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe' });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${tool} exited ${code}: ${await new Response(p.stderr).text()}`);
  return ms;
}

// Warm the page cache and the binaries, then check the outputs hold the same frames (counted
// with lal's own demuxer: the ffprobe build beside the old static ffmpeg crashes on its TS).
for (const tool of names) await once(tool);
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
const fFf = frames(ffOut);
const lalOut0 = tools.get(lalNames[0])!.out;
const fLal = frames(lalOut0);
if (fLal !== fFf) console.log(`warning: outputs differ: lal ${fLal}, ffmpeg ${fFf}`);
for (const n of lalNames.slice(1)) {
  if (!readFileSync(tools.get(n)!.out).equals(readFileSync(lalOut0))) console.log(`warning: ${n} and ${lalNames[0]} wrote different bytes`);
}

// Each round runs every tool once, starting one further along the list than the round before.
const times = new Map<string, number[]>(names.map((n) => [n, []]));
for (let i = 0; i < runs; i++) {
  for (let j = 0; j < names.length; j++) {
    const tool = names[(i + j) % names.length];
    times.get(tool)!.push(await once(tool));
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mbps = (ms: number) => inBytes / 1e6 / (ms / 1000);
const width = Math.max(...names.map((n) => n.length));
const row = (tool: string) => {
  const ts = times.get(tool)!;
  const med = median(ts);
  const min = Math.min(...ts);
  return `${tool.padEnd(width)}  median ${med.toFixed(1).padStart(6)} ms (${mbps(med).toFixed(0).padStart(4)} MB/s)   best ${min.toFixed(1).padStart(6)} ms (${mbps(min).toFixed(0).padStart(4)} MB/s)   out ${(statSync(tools.get(tool)!.out).size / 1e6).toFixed(2)} MB`;
};
console.log(`input: ${(inBytes / 1e6).toFixed(2)} MB FLV (${seconds} s, ${kbps} kbit/s video); ${runs} runs each, whole-process wall time`);
console.log(`lal output: ${fLal}`);
for (const n of names) console.log(row(n));
for (const n of lalNames) {
  const ratio = median(times.get('ffmpeg')!) / median(times.get(n)!);
  const bestRatio = Math.min(...times.get('ffmpeg')!) / Math.min(...times.get(n)!);
  console.log(`${n}/ffmpeg speed ratio (median): ${ratio.toFixed(2)}, best: ${bestRatio.toFixed(2)} (${ratio >= 1 ? 'at least as fast: target met' : 'slower: target missed'})`);
}
