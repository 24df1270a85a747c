/**
 * Locate (and, on a root Debian machine, install) the Chromium that browser tests drive through
 * playwright-core. Order: $CHROMIUM, /usr/bin/chromium, `chromium` or `chromium-browser` on PATH.
 * When none is found and we run as root with apt-get, `apt-get update && apt-get install -y
 * chromium` runs, bounded in time and logged; otherwise an Error says exactly how to install it.
 * Never downloads a browser build of its own (the network reaches package registries only).
 */
import { existsSync } from 'node:fs';
import { run } from './proc.ts';

/** Flags for headless Chromium on this closed, root-run machine (see the environment notes). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // we run as root: the setuid sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking', // without these three, its own requests to the outside are
  '--disable-component-update', //      refused by the closed network and it logs and retries
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
] as const;

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
const PATH_NAMES = ['chromium', 'chromium-browser'] as const;
/** apt-get update reads a few index files; 3 min covers a slow mirror, not a hung one. */
const APT_UPDATE_TIMEOUT_MS = 180_000;
/** chromium and its dependencies are ~100 MB of .debs; 6 min covers a cold cache. */
const APT_INSTALL_TIMEOUT_MS = 360_000;
/** `chromium --version` only prints a line; 20 s allows for a cold disk. */
const VERSION_TIMEOUT_MS = 20_000;
/** Lines of apt-get output kept in an error message. */
const LOG_TAIL_LINES = 20;

export const INSTALL_HINT =
  'Install Chromium from the system package manager: as root on Debian, `apt-get update && apt-get install -y chromium` ' +
  '(non-root: prefix each with sudo), then re-run the tests; or set $CHROMIUM to the path of a Chromium/Chrome binary ' +
  '(it must decode H.264/AAC: Debian\'s `chromium` package does).';

/** What the machine looks like, injected so the decision is testable without touching it. */
export interface ChromiumProbe {
  env: Record<string, string | undefined>;
  exists: (path: string) => boolean;
  which: (name: string) => string | null;
  isRoot: boolean;
  hasAptGet: boolean;
}

export type ChromiumPlan =
  | { kind: 'found'; path: string; via: string }
  | { kind: 'install'; commands: string[][] }
  | { kind: 'error'; message: string };

export const APT_COMMANDS: string[][] = [
  ['apt-get', 'update'],
  ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'],
];

/** Decide where Chromium is, or what to do about its absence. Pure. */
export function planChromium(p: ChromiumProbe): ChromiumPlan {
  const env = p.env.CHROMIUM;
  if (env) {
    return p.exists(env) ? { kind: 'found', path: env, via: '$CHROMIUM' } : { kind: 'error', message: `chromium: $CHROMIUM=${env} does not exist. ${INSTALL_HINT}` };
  }
  if (p.exists(DEFAULT_CHROMIUM_PATH)) return { kind: 'found', path: DEFAULT_CHROMIUM_PATH, via: DEFAULT_CHROMIUM_PATH };
  for (const name of PATH_NAMES) {
    const w = p.which(name);
    if (w) return { kind: 'found', path: w, via: `PATH (${name})` };
  }
  if (p.isRoot && p.hasAptGet) return { kind: 'install', commands: APT_COMMANDS };
  const why = !p.isRoot ? 'not running as root' : 'apt-get is not available';
  return { kind: 'error', message: `chromium: not found ($CHROMIUM unset, no ${DEFAULT_CHROMIUM_PATH}, no ${PATH_NAMES.join('/')} on PATH) and cannot install it here (${why}). ${INSTALL_HINT}` };
}

export function machineProbe(): ChromiumProbe {
  return {
    env: process.env,
    exists: existsSync,
    which: (n) => Bun.which(n),
    isRoot: process.getuid?.() === 0,
    hasAptGet: Bun.which('apt-get') !== null,
  };
}

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

async function aptInstall(commands: string[][], log: (msg: string) => void): Promise<void> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  for (const cmd of commands) {
    const timeoutMs = cmd[1] === 'update' ? APT_UPDATE_TIMEOUT_MS : APT_INSTALL_TIMEOUT_MS;
    log(`chromium: not found; running \`${cmd.join(' ')}\` (up to ${timeoutMs / 1000} s)`);
    const t0 = performance.now();
    const r = await run(cmd, timeoutMs, { env });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (r.timedOut || r.code !== 0) {
      const what = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exited ${r.code}`;
      throw new Error(`chromium: \`${cmd.join(' ')}\` ${what}:\n${tail(r.stdout + r.stderr)}\n${INSTALL_HINT}`);
    }
    log(`chromium: \`${cmd.join(' ')}\` done in ${secs} s`);
  }
}

export interface ChromiumInfo {
  path: string;
  /** e.g. "Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)" */
  version: string;
  /** Whether this call installed it. */
  installed: boolean;
}

/**
 * Find Chromium, installing it with apt-get when it is missing and we may; check that it runs.
 * Throws an Error that says how to install it otherwise.
 */
export async function ensureChromium(opts: { log?: (msg: string) => void; probe?: ChromiumProbe } = {}): Promise<ChromiumInfo> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const probe = opts.probe ?? machineProbe();
  let plan = planChromium(probe);
  let installed = false;
  if (plan.kind === 'install') {
    await aptInstall(plan.commands, log);
    installed = true;
    plan = planChromium(probe);
    if (plan.kind !== 'found') throw new Error(`chromium: apt-get install finished but no binary was found. ${INSTALL_HINT}`);
  }
  if (plan.kind === 'error') throw new Error(plan.message);
  const r = await run([plan.path, '--version'], VERSION_TIMEOUT_MS);
  const version = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !/chrom/i.test(version)) {
    throw new Error(`chromium: \`${plan.path} --version\` (found via ${plan.via}) failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${tail(r.stdout + r.stderr)}\n${INSTALL_HINT}`);
  }
  return { path: plan.path, version, installed };
}
