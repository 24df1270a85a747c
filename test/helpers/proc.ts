/**
 * Processes and other async work that tests start, and their end.
 *
 * Whatever a test starts ends with that test, even when an assertion fails first: a process from
 * `spawnTracked`/`run` is stopped by PID (SIGTERM, then SIGKILL) and waited for, work started with
 * `background` is aborted and waited for (its rejection never reaches another test), and anything
 * registered with `atTestEnd` is closed. This happens in `onTestFinished`, after the test's own
 * `finally`/`await using` and `afterEach`. Started outside a test (a bench script, a file's top
 * level) it is left to `stopAll()`, which every test file calls in afterAll. Note that bun:test
 * counts `beforeAll` as a test here: what a beforeAll starts ends when that hook ends.
 */
import { onTestFinished } from 'bun:test';
import type { Subprocess } from 'bun';

const live = new Set<Subprocess>();
/** Cleanups of things started outside any test, run by stopAll(). */
const fileCleanups: (() => unknown)[] = [];

/** How long the end of a test waits for one thing it started to finish once told to. */
const END_WAIT_MS = 5_000;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Bound on everything one test's end runs (each item waits END_WAIT_MS at most, in parallel). */
const END_HOOK_TIMEOUT_MS = 20_000;

/** Run `fn` when the current test ends; false (nothing registered) outside a test. */
function onEnd(fn: () => unknown): boolean {
  try {
    onTestFinished(async () => {
      await fn();
    }, { timeout: END_HOOK_TIMEOUT_MS });
    return true;
  } catch {
    return false; // not in a test, or not under bun test at all (bench scripts)
  }
}

/**
 * Run `fn` when the current test ends (pass, fail or timeout), or, outside a test, from
 * stopAll(). An error it throws fails the test that started the thing, not the next one.
 */
export function atTestEnd(fn: () => unknown): void {
  if (!onEnd(fn)) fileCleanups.push(fn);
}

/** Resolves after `ms`, never keeping the process alive. */
function sleepUnref(ms: number): Promise<'timeout'> {
  return new Promise((r) => setTimeout(() => r('timeout'), ms).unref());
}

async function stopAndWait(p: Subprocess): Promise<void> {
  stop(p);
  if ((await Promise.race([p.exited, sleepUnref(END_WAIT_MS)])) === 'timeout') {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await Promise.race([p.exited, sleepUnref(1000)]);
  }
}

/**
 * Start a process tracked by PID. It is stopped when the current test (or beforeAll hook) ends;
 * with `lifetime: 'file'` it lives until the file's `stopAll()` in afterAll instead (a server a
 * beforeAll starts for every test of the file).
 */
export function spawnTracked(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: 'ignore' | 'pipe'; lifetime?: 'test' | 'file' } = {},
): Subprocess<'ignore' | 'pipe', 'pipe', 'pipe'> {
  const p = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: opts.stdin ?? 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  live.add(p);
  p.exited.finally(() => live.delete(p));
  // outside a test, or for the file's lifetime: stopAll() stops what is still live
  if (opts.lifetime !== 'file') onEnd(() => stopAndWait(p));
  return p as Subprocess<'ignore' | 'pipe', 'pipe', 'pipe'>;
}

/** Run to completion within `timeoutMs` (killed past it); collects output. */
export async function run(cmd: string[], timeoutMs: number, opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  const p = spawnTracked(cmd, opts);
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    stop(p);
  }, timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(t);
  return { code, stdout, stderr, timedOut };
}

export function stop(p: Subprocess): void {
  if (p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  setTimeout(() => {
    if (p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }, 2000).unref();
}

export async function stopAll(): Promise<void> {
  const cleanups = fileCleanups.splice(0);
  await Promise.all(cleanups.map(async (fn) => {
    try {
      await fn();
    } catch {
      /* ending anyway */
    }
  }));
  const ps = [...live];
  for (const p of ps) stop(p);
  await Promise.race([Promise.all(ps.map((p) => p.exited)), Bun.sleep(3000)]);
}

/**
 * Start in-process async work for the current test (our push/pull/remux clients, a fetch body
 * reader): `start` gets a signal that is aborted when the test ends. The result is the work's own
 * promise — await it for its value or error — but its rejection is handled, so work left running
 * by a failed assertion can never reject into the next test. At the test's end it is aborted and
 * waited for; if it does not settle within 5 s the test fails saying so.
 */
export function background<T>(start: (signal: AbortSignal) => Promise<T>, what = 'background work'): Promise<T> {
  const ac = new AbortController();
  const p = start(ac.signal);
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  atTestEnd(async () => {
    ac.abort();
    await Promise.race([p.catch(() => undefined), sleepUnref(END_WAIT_MS)]);
    if (!settled) throw new Error(`${what} did not end within ${END_WAIT_MS} ms of the end of its test (aborted)`);
  });
  return p;
}

/** A signal aborted when the current test ends: for fetch() streams a test reads in line. */
export function testSignal(): AbortSignal {
  const ac = new AbortController();
  atTestEnd(() => ac.abort());
  return ac.signal;
}

/** Collect a stream's text as it arrives (for waiting on log lines). */
export function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let buf = '';
  const dec = new TextDecoder();
  const done = (async () => {
    for await (const c of stream) buf += dec.decode(c, { stream: true });
  })();
  done.catch(() => undefined); // a stream cut by the end of its process is not an error of the next test
  return { text: () => buf, done };
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}
