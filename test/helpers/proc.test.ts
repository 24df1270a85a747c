/** proc.ts: what a test starts ends with that test, and cannot fail the next one. */
import { describe, expect, test } from 'bun:test';
import { atTestEnd, background, spawnTracked, testSignal } from './proc.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the end of a test ends what it started', () => {
  let pid = 0;
  let signal: AbortSignal | undefined;
  let work: Promise<unknown> | undefined;
  let cleaned = false;

  test('a test leaves a process, background work, a test signal and a cleanup behind', () => {
    const p = spawnTracked(['sleep', '30']);
    pid = p.pid;
    expect(alive(pid)).toBe(true);
    // never awaited here: it rejects when the test ends, which must fail neither this test nor the next
    work = background((s) => new Promise((_, reject) => s.addEventListener('abort', () => reject(new Error('aborted at the end of its test')))));
    signal = testSignal();
    atTestEnd(() => (cleaned = true));
    expect(signal.aborted).toBe(false);
  });

  test('by the next test they are all ended', async () => {
    expect(alive(pid)).toBe(false);
    expect(signal!.aborted).toBe(true);
    expect(cleaned).toBe(true);
    expect(await work!.then(() => 'resolved', (e: Error) => e.message)).toBe('aborted at the end of its test');
  });

  test('background work that rejects on its own, never awaited, fails nothing', async () => {
    void background(async () => {
      await Bun.sleep(5);
      throw new Error('rejected while its test still runs');
    });
    await Bun.sleep(30);
  });

  test('a process that ignores SIGTERM is killed at the end of its test', async () => {
    const p = spawnTracked(['sh', '-c', 'trap "" TERM; echo ready; sleep 30']);
    pid = p.pid;
    const reader = p.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('ready\n');
    reader.releaseLock();
  });

  test('(it is gone)', () => {
    expect(alive(pid)).toBe(false);
  });
});
