/**
 * Test-only utilities shared by every `*.test.ts` and `_testing.ts` (design.md §1.8): a seeded
 * PRNG so random cases repeat exactly, hex/base64/text conversions, the "only ParseError may
 * escape" assertions, hostile-input generators (truncations, random buffers, mutations), random
 * splits for boundary-independence tests, and an in-memory pipe sink for client↔server tests.
 *
 * Never imported by non-test code: test/architecture.test.ts asserts that only `*.test.ts` and
 * `_testing.ts` files under lib/ import this module.
 */
import { concat } from './bytes.ts';
import { ParseError, ProtocolError } from './errors.ts';
import { MemorySink } from './sink.ts';

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: tiny seeded PRNG (uniform in [0, 1)) so random tests repeat exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes drawn from `rnd` (one call per byte). */
export function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/**
 * Overwrite `count` random positions of `buf` in place with random bytes (two `rnd` calls each:
 * position, then value) and return `buf`. An empty buffer is returned untouched, drawing nothing.
 */
export function mutateBytes(rnd: () => number, buf: Uint8Array, count: number): Uint8Array {
  for (let j = 0; j < count && buf.length > 0; j++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Conversions

/** Bytes of a hex string; white space is ignored. Throws on odd length or a non-hex digit. */
export function fromHex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, '');
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) throw new Error(`testing: not a hex string: ${JSON.stringify(t.slice(0, 40))}`);
  return Uint8Array.from(Buffer.from(t, 'hex')); // copy: own ArrayBuffer, byteOffset 0
}

/** Lower-case hex of the bytes a view covers. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes of a base64 string (own ArrayBuffer). */
export function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'base64'));
}

/** UTF-8 bytes of a string. */
export function utf8Encode(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A string from UTF-8 bytes. */
export function utf8Decode(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

// ---------------------------------------------------------------------------------------------
// "Only ParseError may escape"

/** A class of error a hostile-input test lets through. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Run `fn`; an error of one of the `allowed` classes counts as a clean rejection, anything else
 * fails the test (rethrown, with the original as `cause`).
 */
export function outcomeAllowing(allowed: readonly ErrorClass[], fn: () => unknown): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return 'rejected';
    throw new Error(`expected only ${allowed.map((c) => c.name).join('/')}, got ${String(e)}`, { cause: e });
  }
}

/** Run `fn`; a ParseError is a clean rejection, anything else fails the test. */
export function outcome(fn: () => unknown): 'ok' | 'rejected' {
  return outcomeAllowing([ParseError], fn);
}

/** Assert that `fn` returns or throws ParseError; any other error fails the test. */
export function onlyParseError(fn: () => unknown): void {
  outcomeAllowing([ParseError], fn);
}

/** Assert that `fn` returns or throws ParseError/ProtocolError (a conn's state machine may reject). */
export function onlyParseOrProtocolError(fn: () => unknown): void {
  outcomeAllowing([ParseError, ProtocolError], fn);
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs and splits

/** Every strict prefix of `v` (lengths 0 .. v.length-1), as views. */
export function truncations(v: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < v.length; n++) out.push(v.subarray(0, n));
  return out;
}

/**
 * Hostile inputs for a decoder: every strict prefix of each valid vector, 200 seeded random
 * buffers (0..63 bytes), and 200 seeded mutations (1..3 random bytes changed) of the vectors.
 */
export function hostileInputs(vectors: readonly Uint8Array[], seed = 1): Uint8Array[] {
  const rnd = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (const v of vectors) out.push(...truncations(v));
  for (let i = 0; i < 200; i++) out.push(randomBytes(rnd, Math.floor(rnd() * 64)));
  for (let i = 0; i < 200 && vectors.length > 0; i++) {
    const v = vectors[i % vectors.length].slice(); // copy: we mutate it
    out.push(mutateBytes(rnd, v, 1 + Math.floor(rnd() * 3)));
  }
  return out;
}

/** `data` cut at the (ascending) offsets `cuts`, as consecutive views; the last runs to the end. */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    out.push(data.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** The cut offsets that split `length` bytes into single bytes (1 .. length-1). */
export function bytewiseCuts(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

/**
 * `data` as consecutive views of random length 1 + ⌊rnd()·max⌋ (one `rnd` call per piece); with
 * `clampToRest` the factor is min(max, bytes left) instead, so the last piece never overshoots.
 */
export function randomPieces(data: Uint8Array, rnd: () => number, max: number, clampToRest = false): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; ) {
    const n = 1 + Math.floor(rnd() * (clampToRest ? Math.min(max, data.length - o) : max));
    out.push(data.subarray(o, o + n));
    o += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Async and in-memory peers

/** Resolve after `ms` milliseconds (0: the next macrotask). */
export function sleep(ms = 0): Promise<void> {
  return new Promise<void>((r) => setTimeout(r, ms));
}

/** Let pending timers and promise callbacks run once (a zero-delay macrotask). */
export function tick(): Promise<void> {
  return sleep(0);
}

/**
 * One side's sink in an in-memory client↔server pair: what that side writes stays in `chunks`
 * until the test `drain()`s it and feeds it to the other side, typically in random pieces.
 */
export class PipeSink extends MemorySink {
  /** Everything written since the last drain, as one buffer; `chunks` is emptied. */
  drain(): Uint8Array {
    const b = concat(this.chunks);
    this.chunks.length = 0;
    return b;
  }
}
