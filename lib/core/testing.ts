/**
 * Test-only utilities shared by every `*.test.ts` and `_testing.ts` (docs/architecture.md §1.8): a seeded
 * PRNG so random cases repeat exactly, hex/base64/text conversions, the "only ParseError may
 * escape" assertions, hostile-input generators (truncations, random buffers, mutations), random
 * splits for boundary-independence tests, and an in-memory pipe sink for client↔server tests.
 *
 * Never imported by non-test code: test/architecture.test.ts asserts that only `*.test.ts` and
 * `_testing.ts` files under lib/ import this module.
 */
import { concat } from './bytes.ts';
import { LalError, ParseError, ProtocolError } from './errors.ts';
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

// ---------------------------------------------------------------------------------------------
// Fuzzing: the hostile-input rule (docs/architecture.md §1.8) at scale. Every input is a pure
// function of (seed, index), so a failure names the one input to replay with `fuzzCase`.

/**
 * Inputs per parser in the `*.fuzz.test.ts` files: 100,000 unless `LAL_FUZZ_RUNS` asks for
 * another count (a longer local campaign, e.g. `LAL_FUZZ_RUNS=10000000 bun test fuzz`).
 */
export const FUZZ_RUNS = fuzzRunsFromEnv();

/** Per-test timeout of a fuzz test: generous, as the suite runs beside other work on 2 cores. */
export const FUZZ_TIMEOUT = 60_000;

function fuzzRunsFromEnv(): number {
  const v = Number(process.env.LAL_FUZZ_RUNS);
  return Number.isSafeInteger(v) && v > 0 ? v : 100_000;
}

/**
 * Seed actually used for `seed`: `LAL_FUZZ_SEED` (an integer), when set, is mixed in so a
 * campaign can explore other inputs; the default suite always runs the same ones.
 */
export function fuzzSeed(seed: number): number {
  const v = Number(process.env.LAL_FUZZ_SEED);
  return (Number.isSafeInteger(v) ? seed ^ Math.imul(v, 0x9e3779b1) : seed) >>> 0;
}

export interface FuzzOptions {
  /** Base seed (see `fuzzSeed`); printed with the index when an input fails. */
  seed: number;
  /** Inputs to try (default FUZZ_RUNS). */
  runs?: number;
  /** Valid inputs the mutations start from (ideally made with the project's own encoders). */
  corpus?: readonly Uint8Array[];
  /** Share of purely random inputs (default 0.2; 1 without a corpus). */
  randomShare?: number;
  /** Longest purely random input (default 64 bytes). */
  maxRandomLength?: number;
  /** Byte strings worth inserting (keywords, separators, magic numbers), as an AFL dictionary. */
  dictionary?: readonly Uint8Array[];
  /** Errors that count as a clean rejection (default ParseError). */
  allowed?: readonly ErrorClass[];
  /** One input taking longer than this fails the run as a near-hang (default 1000 ms). */
  maxMsPerInput?: number;
}

/** One generated input and the PRNG (already advanced past the input) for chunkings etc. */
export interface FuzzCase {
  index: number;
  input: Uint8Array;
  rnd: () => number;
}

export interface FuzzReport {
  name: string;
  runs: number;
  /** Inputs the target accepted. */
  ok: number;
  /** Inputs rejected with an allowed error. */
  rejected: number;
  ms: number;
  slowestMs: number;
}

/** Byte values that often sit on a boundary: zero, one, sign bits, all ones, text separators. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x2c, 0x2f, 0x3a, 0x3b, 0x3d, 0x3f, 0x40, 0x5c];

/** The input of `index` under `opts` (deterministic: the same bytes and PRNG state every time). */
export function fuzzCase(opts: FuzzOptions, index: number): FuzzCase {
  const seed = fuzzSeed(opts.seed);
  const rnd = mulberry32((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const corpus = opts.corpus ?? [];
  const dict = opts.dictionary ?? [];
  const share = corpus.length === 0 ? 1 : opts.randomShare ?? 0.2;
  let input: Uint8Array;
  if (rnd() < share) {
    input = randomFuzzInput(rnd, opts.maxRandomLength ?? 64, dict);
  } else {
    input = corpus[Math.floor(rnd() * corpus.length)].slice(); // own buffer: parsers may keep views
    const ops = 1 + Math.floor(rnd() * rnd() * 8);
    for (let k = 0; k < ops; k++) input = mutateOnce(rnd, input, corpus, dict);
  }
  return { index, input, rnd };
}

/** Random bytes, sometimes runs of one value or dictionary words with random glue. */
function randomFuzzInput(rnd: () => number, max: number, dict: readonly Uint8Array[]): Uint8Array {
  const n = Math.floor(rnd() * rnd() * (max + 1));
  const mode = rnd();
  if (mode < 0.1) return new Uint8Array(n).fill(INTERESTING_BYTES[Math.floor(rnd() * 8)]);
  if (mode < 0.35 && dict.length > 0) {
    const parts: Uint8Array[] = [];
    let len = 0;
    while (len < n) {
      const p = rnd() < 0.6 ? dict[Math.floor(rnd() * dict.length)] : randomBytes(rnd, 1 + Math.floor(rnd() * 4));
      parts.push(p);
      len += p.length;
    }
    return concat(parts);
  }
  return randomBytes(rnd, n);
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** One mutation: bit flip, byte set, length-field tweak, truncation, insertion, deletion, duplication, dictionary word, splice. */
function mutateOnce(rnd: () => number, b: Uint8Array, corpus: readonly Uint8Array[], dict: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  const pos = Math.floor(rnd() * n);
  const op = Math.floor(rnd() * 16);
  if (n === 0) return randomBytes(rnd, 1 + Math.floor(rnd() * 8));
  switch (op) {
    case 0:
    case 1:
    case 2: // flip one bit
      b[pos] ^= 1 << Math.floor(rnd() * 8);
      return b;
    case 3:
    case 4: // random byte
      b[pos] = Math.floor(rnd() * 256);
      return b;
    case 5:
    case 6: // boundary byte
      b[pos] = INTERESTING_BYTES[Math.floor(rnd() * INTERESTING_BYTES.length)];
      return b;
    case 7:
    case 8:
    case 9: {
      // a big-endian length field of 1..4 bytes: nudged, zeroed, maxed, or set to a size near the data's
      const w = Math.min(1 + Math.floor(rnd() * 4), n - pos);
      let v = 0;
      for (let i = 0; i < w; i++) v = v * 256 + b[pos + i];
      const max = 2 ** (8 * w) - 1;
      const r = rnd();
      if (r < 0.4) v += Math.floor(rnd() * 9) - 4;
      else if (r < 0.5) v = 0;
      else if (r < 0.6) v = max;
      else if (r < 0.7) v = Math.floor(max / 2) + 1;
      else v = n - pos - w + Math.floor(rnd() * 9) - 4;
      v = ((v % (max + 1)) + max + 1) % (max + 1);
      for (let i = w - 1; i >= 0; i--) {
        b[pos + i] = v % 256;
        v = Math.floor(v / 256);
      }
      return b;
    }
    case 10: // truncate
      return b.slice(0, pos);
    case 11: // insert random bytes
      return splice(b, pos, 0, randomBytes(rnd, 1 + Math.floor(rnd() * 16)));
    case 12: // delete a range
      return splice(b, pos, Math.min(n - pos, 1 + Math.floor(rnd() * 16)), new Uint8Array(0));
    case 13: {
      // duplicate a range somewhere else
      const len = Math.min(n - pos, 1 + Math.floor(rnd() * 32));
      return splice(b, Math.floor(rnd() * (n + 1)), 0, b.slice(pos, pos + len));
    }
    case 14: {
      // a dictionary word, inserted or written over
      if (dict.length === 0) return mutateOnce(rnd, b, corpus, dict);
      const w = dict[Math.floor(rnd() * dict.length)];
      return rnd() < 0.5 ? splice(b, pos, 0, w) : splice(b, pos, Math.min(n - pos, w.length), w);
    }
    default: {
      // this input's head joined to another corpus input's tail
      const other = corpus[Math.floor(rnd() * corpus.length)];
      return concat([b.subarray(0, pos), other.subarray(Math.floor(rnd() * other.length))]);
    }
  }
}

/**
 * Run `target` on `runs` inputs: purely random ones and mutations of `corpus`. An error of an
 * `allowed` class counts as a clean rejection; any other error (RangeError, TypeError, a failed
 * `fuzzCheck`) or an input slower than `maxMsPerInput` fails with the seed, the index and the
 * input's bytes, so `fuzzCase(opts, index)` replays it.
 */
export function fuzz(name: string, opts: FuzzOptions, target: (c: FuzzCase) => void): FuzzReport {
  const runs = opts.runs ?? FUZZ_RUNS;
  const allowed = opts.allowed ?? [ParseError];
  const maxMs = opts.maxMsPerInput ?? 1000;
  let ok = 0;
  let rejected = 0;
  let slowestMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const c = fuzzCase(opts, i);
    const t = performance.now();
    try {
      target(c);
      ok++;
    } catch (e) {
      if (!allowed.some((k) => e instanceof k)) throw fuzzFailure(name, opts, i, e);
      rejected++;
    }
    const dt = performance.now() - t;
    if (dt > slowestMs) slowestMs = dt;
    if (dt > maxMs) throw fuzzFailure(name, opts, i, new Error(`took ${dt.toFixed(0)} ms (limit ${maxMs} ms)`));
  }
  const report = { name, runs, ok, rejected, ms: performance.now() - t0, slowestMs };
  logFuzz(report);
  return report;
}

function fuzzFailure(name: string, opts: FuzzOptions, index: number, e: unknown): Error {
  const input = fuzzCase(opts, index).input;
  const shown = input.length > 512 ? `${toHex(input.subarray(0, 512))}…` : toHex(input);
  const what = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  return new Error(
    `fuzz ${name}: input #${index} of seed 0x${fuzzSeed(opts.seed).toString(16)} (replay: fuzzCase(opts, ${index}))\n` +
      `input (${input.length} bytes): ${shown}\n${what}`,
    { cause: e },
  );
}

/** A property a fuzz target checks; false fails the run with the input (an Error is never allowed). */
export function fuzzCheck(cond: boolean, what: string | (() => string)): asserts cond {
  if (!cond) throw new Error(`fuzz check failed: ${typeof what === 'string' ? what : what()}`);
}

/** Byte i → char code i (latin1): every byte value survives, for text parsers fed raw bytes. */
export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/**
 * `data` cut into random pieces for feed() parsers: whole, small (1–3 bytes, or up to 1% of a
 * large input so a run stays cheap), or up to half its length.
 */
export function fuzzPieces(data: Uint8Array, rnd: () => number): Uint8Array[] {
  const r = rnd();
  if (r < 0.2 || data.length < 2) return [data];
  if (r < 0.4) return randomPieces(data, rnd, Math.max(3, Math.ceil(data.length / 100)));
  return randomPieces(data, rnd, Math.max(1, Math.floor(data.length / 2)), true);
}

/** With `LAL_FUZZ_LOG` set, one summary line per fuzzed parser (inputs, outcomes, time). */
function logFuzz(r: FuzzReport): void {
  if (process.env.LAL_FUZZ_LOG) console.log(`fuzz ${r.name}: ${r.runs} inputs (${r.ok} ok, ${r.rejected} rejected) in ${r.ms.toFixed(0)} ms, slowest ${r.slowestMs.toFixed(1)} ms`);
}

/** The LalError `p` rejects with; throws when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<LalError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LalError) return e;
    throw new Error(`expected a LalError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error('expected a rejection');
}
