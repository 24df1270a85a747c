/**
 * Which ffmpeg/ffprobe the tests run, and what a given binary can do.
 *
 * Order: `$FFMPEG` / `$FFPROBE` (a path, or a name looked up on the PATH), then the pinned builds
 * of the npm devDependencies `@ffmpeg-installer/ffmpeg` (a 2018 static ffmpeg 4.x) and
 * `@ffprobe-installer/ffprobe` (a 2023 static ffprobe), then `ffmpeg`/`ffprobe` on the PATH. So
 * after `npm ci` the suite runs known versions whatever the distribution ships; the PATH is only
 * the fallback of a checkout without its devDependencies.
 *
 * A test that relies on something not every build has asks for it by name: `ffprobeWith('hvc1-flv')`
 * returns the configured binary when it has the capability, else the npm one when that has it
 * (and says so on stderr, once per test), else throws naming what is missing. Capabilities are
 * decided by asking the binary (a probe of a committed fixture, or its -muxers/-demuxers/-protocols
 * listing), once per binary path. A missing binary throws: tests that need it fail loudly.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { atTestEnd } from './proc.ts';

const require = createRequire(import.meta.url);
const fixture = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).pathname;

type Tool = 'ffmpeg' | 'ffprobe';
interface Candidate {
  path: string;
  /** How it was found: `$FFPROBE`, `npm @ffprobe-installer/ffprobe`, `PATH`. */
  via: string;
}

const TOOLS = {
  ffmpeg: { envVar: 'FFMPEG', pkg: '@ffmpeg-installer/ffmpeg' },
  ffprobe: { envVar: 'FFPROBE', pkg: '@ffprobe-installer/ffprobe' },
} as const;

function fromEnv(tool: Tool): Candidate | undefined {
  const { envVar } = TOOLS[tool];
  const env = process.env[envVar];
  if (!env) return undefined;
  const path = env.includes('/') ? env : Bun.which(env);
  if (!path || !existsSync(path)) throw new Error(`${tool}: $${envVar}=${env} does not exist`);
  return { path, via: `$${envVar}` };
}

function fromNpm(tool: Tool): Candidate | undefined {
  const { pkg } = TOOLS[tool];
  try {
    const path = (require(pkg) as { path: string }).path;
    if (path && existsSync(path)) return { path, via: `npm ${pkg}` };
  } catch {
    /* not installed, or no build for this platform */
  }
  return undefined;
}

function fromPath(tool: Tool): Candidate | undefined {
  const path = Bun.which(tool);
  return path ? { path, via: 'PATH' } : undefined;
}

/** The binary tests use by default: $VAR, else npm, else PATH. */
function configured(tool: Tool): Candidate {
  const c = fromEnv(tool) ?? fromNpm(tool) ?? fromPath(tool);
  if (c) return c;
  const { envVar, pkg } = TOOLS[tool];
  throw new Error(`${tool} not found: run \`npm ci\` (devDependency ${pkg}), set $${envVar}, or put ${tool} on the PATH`);
}

export const ffmpegPath = (): string => configured('ffmpeg').path;
export const ffprobePath = (): string => configured('ffprobe').path;

// ---- what a binary can do -------------------------------------------------------------------

const PROBE_TIMEOUT_MS = 20_000;

function runSync(cmd: string[]): { code: number | null; stdout: string } {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe', timeout: PROBE_TIMEOUT_MS });
  return { code: p.exitCode, stdout: p.stdout.toString() };
}

const versions = new Map<string, string>();
/** First line of `-version`, e.g. "ffprobe version 5.1.9-0+deb12u1 Copyright …" → "5.1.9-0+deb12u1". */
export function versionOf(bin: string): string {
  let v = versions.get(bin);
  if (v === undefined) {
    const first = runSync([bin, '-version']).stdout.split('\n')[0] ?? '';
    v = /version (\S+)/.exec(first)?.[1] ?? 'unknown version';
    versions.set(bin, v);
  }
  return v;
}

interface Listing {
  demuxers: Set<string>;
  muxers: Set<string>;
  inputProtocols: Set<string>;
  outputProtocols: Set<string>;
}
const listings = new Map<string, Listing>();

/** `-formats` and `-protocols` of one binary (both tools print them). */
function listing(bin: string): Listing {
  let l = listings.get(bin);
  if (l) return l;
  l = { demuxers: new Set(), muxers: new Set(), inputProtocols: new Set(), outputProtocols: new Set() };
  // " D  flv   FLV (Flash Video)", "  E rtsp  RTSP output", " DE matroska,webm …" after a "--" line
  const formats = runSync([bin, '-hide_banner', '-formats']).stdout.split('\n');
  const start = formats.findIndex((x) => x.trim() === '--');
  for (const line of formats.slice(start + 1)) {
    const m = /^ ([D ])([E ])\S*\s+(\S+)/.exec(line);
    if (!m) continue;
    for (const name of m[3].split(',')) {
      if (m[1] === 'D') l.demuxers.add(name);
      if (m[2] === 'E') l.muxers.add(name);
    }
  }
  let into: Set<string> | undefined;
  for (const line of runSync([bin, '-hide_banner', '-protocols']).stdout.split('\n')) {
    const t = line.trim();
    if (t === 'Input:') into = l.inputProtocols;
    else if (t === 'Output:') into = l.outputProtocols;
    else if (into && t) into.add(t);
  }
  listings.set(bin, l);
  return l;
}

/** Reads enhanced-RTMP H.265 (`hvc1` FourCC) from FLV: ffprobe ≥ 6.1 does, 5.1 sees "flashsv". */
function readsHvc1Flv(bin: string): boolean {
  const r = runSync([bin, '-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', fixture('h265-enhanced.flv')]);
  if (r.code !== 0) return false;
  try {
    const s = (JSON.parse(r.stdout) as { streams?: { codec_name?: string; width?: number }[] }).streams?.[0];
    return s?.codec_name === 'hevc' && s.width === 320;
  } catch {
    return false;
  }
}

interface Capability {
  /** What the test needs, as an error message says it: "… cannot <what>". */
  what: string;
  has: (bin: string) => boolean;
}

export const FFPROBE_CAPABILITIES = {
  'hvc1-flv': { what: 'read enhanced-RTMP H.265 (hvc1) from FLV', has: readsHvc1Flv },
  tls: { what: 'open rtsps:// and https:// (TLS)', has: (b) => listing(b).inputProtocols.has('tls') },
} as const satisfies Record<string, Capability>;

export const FFMPEG_CAPABILITIES = {
  'rtsp-publish': { what: 'publish over RTSP (rtsp muxer)', has: (b) => listing(b).muxers.has('rtsp') && listing(b).outputProtocols.has('rtp') },
  'rtmps-publish': { what: 'publish over RTMPS (TLS)', has: (b) => listing(b).outputProtocols.has('rtmps') },
  'matroska-read': { what: 'read the .mkv fixtures (matroska demuxer)', has: (b) => listing(b).demuxers.has('matroska') },
} as const satisfies Record<string, Capability>;

export type FfprobeCapability = keyof typeof FFPROBE_CAPABILITIES;
export type FfmpegCapability = keyof typeof FFMPEG_CAPABILITIES;

const decided = new Map<string, boolean>();
function has(bin: string, name: string, cap: Capability): boolean {
  const key = `${bin}\0${name}`;
  let v = decided.get(key);
  if (v === undefined) {
    v = cap.has(bin);
    decided.set(key, v);
  }
  return v;
}

export const ffprobeHas = (cap: FfprobeCapability, bin = ffprobePath()): boolean => has(bin, cap, FFPROBE_CAPABILITIES[cap]);
export const ffmpegHas = (cap: FfmpegCapability, bin = ffmpegPath()): boolean => has(bin, cap, FFMPEG_CAPABILITIES[cap]);

const announcedThisTest = new Set<string>();

function withCapabilities(tool: Tool, table: Record<string, Capability>, names: string[]): string {
  const caps = names.map((n) => [n, table[n]] as const);
  const hasAll = (bin: string) => caps.every(([n, c]) => has(bin, n, c));
  const what = caps.map(([, c]) => c.what).join(' and ');
  const conf = configured(tool);
  if (hasAll(conf.path)) return conf.path;
  const npm = fromNpm(tool);
  const confText = `${tool} from ${conf.via} (${conf.path}, version ${versionOf(conf.path)})`;
  if (npm && npm.path !== conf.path && hasAll(npm.path)) {
    const key = `${tool}\0${names.join(',')}`;
    if (!announcedThisTest.has(key)) {
      announcedThisTest.add(key);
      atTestEnd(() => void announcedThisTest.delete(key));
      console.warn(`${tool}: the ${confText} cannot ${what}; using the npm ${tool} (${npm.path}, version ${versionOf(npm.path)}) for this`);
    }
    return npm.path;
  }
  const npmText = !npm
    ? `and the npm ${tool} is not installed (\`npm ci\` installs ${TOOLS[tool].pkg})`
    : npm.path === conf.path
      ? 'and there is no other to fall back on'
      : `nor can the npm ${tool} (${npm.path}, version ${versionOf(npm.path)})`;
  throw new Error(`${tool}: this test needs an ${tool} that can ${what}: the ${confText} cannot, ${npmText}`);
}

/** An ffprobe that can do all of `caps`: the configured one, else the npm one (announced), else throws. */
export const ffprobeWith = (...caps: FfprobeCapability[]): string => withCapabilities('ffprobe', FFPROBE_CAPABILITIES, caps);
/** An ffmpeg that can do all of `caps`: the configured one, else the npm one (announced), else throws. */
export const ffmpegWith = (...caps: FfmpegCapability[]): string => withCapabilities('ffmpeg', FFMPEG_CAPABILITIES, caps);
