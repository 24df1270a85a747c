/**
 * Child processes started by tests: each is tracked by PID and stopped (SIGTERM, then SIGKILL)
 * by `stopAll()`, which every test file calls in afterAll. Run with a time bound.
 */
import type { Subprocess } from 'bun';

const live = new Set<Subprocess>();

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function spawnTracked(cmd: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: 'ignore' | 'pipe' } = {}): Subprocess<'ignore' | 'pipe', 'pipe', 'pipe'> {
  const p = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: opts.stdin ?? 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  live.add(p);
  p.exited.finally(() => live.delete(p));
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
  const ps = [...live];
  for (const p of ps) stop(p);
  await Promise.race([Promise.all(ps.map((p) => p.exited)), Bun.sleep(3000)]);
}

/** Collect a stream's text as it arrives (for waiting on log lines). */
export function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let buf = '';
  const dec = new TextDecoder();
  const done = (async () => {
    for await (const c of stream) buf += dec.decode(c, { stream: true });
  })();
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
