/**
 * Seeded fuzz test of the RTMP handshake parsers, server (C0C1C2) and client (S0S1S2) side
 * (issue #9): 100,000 random and mutated handshakes each, fed whole and in random pieces. Only
 * ParseError may escape; both feeds give the same replies, completion and leftover bytes.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { HANDSHAKE_BLOCK_SIZE, RtmpClientHandshake, RtmpServerHandshake, type HandshakeStep } from './handshake.ts';

const TAIL = Uint8Array.of(0x03, 0, 0, 0, 0, 0, 0x1f, 0x14, 0, 0, 0, 0); // a chunk header after the handshake

const simpleC0C1 = new RtmpClientHandshake({ time: 1 }).start();
const complexC0C1 = new RtmpClientHandshake({ time: 2, complex: true }).start();
const C2 = new Uint8Array(HANDSHAKE_BLOCK_SIZE).fill(7);
const SERVER_CORPUS = [concat([simpleC0C1, C2, TAIL]), concat([complexC0C1, C2]), complexC0C1, simpleC0C1.subarray(0, 600)];

/** What a server answers to a simple and to a complex C1 (the S0S1S2 a client must read). */
const s0s1s2 = (c0c1: Uint8Array) => new RtmpServerHandshake({ time: 3 }).feed(c0c1).out as Uint8Array;
const CLIENT_CORPUS = [concat([s0s1s2(simpleC0C1), TAIL]), s0s1s2(complexC0C1), s0s1s2(complexC0C1).subarray(0, 900)];

interface Result {
  out: Uint8Array[];
  done: boolean;
  rest: Uint8Array[];
  error: boolean;
  mode: string | undefined;
}

function drive(hs: { feed(c: Uint8Array): HandshakeStep; mode: string | undefined }, pieces: Uint8Array[]): Result {
  const res: Result = { out: [], done: false, rest: [], error: false, mode: undefined };
  try {
    for (const p of pieces) {
      const step = hs.feed(p);
      if (step.out) res.out.push(step.out);
      if (step.rest) res.rest.push(step.rest);
      res.done = step.done;
    }
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    res.error = true;
  }
  res.mode = hs.mode;
  return res;
}

/** Replies and leftovers joined, so results of differently split feeds compare. */
const flat = (r: Result) => ({ out: concat(r.out), rest: concat(r.rest), done: r.done, error: r.error, mode: r.mode });

function check(whole: Result, split: Result): void {
  fuzzCheck(Bun.deepEquals(flat(whole), flat(split)), () => `whole ${JSON.stringify({ ...flat(whole), out: undefined, rest: undefined })} vs pieces ${JSON.stringify({ ...flat(split), out: undefined, rest: undefined })}`);
  if (whole.error) throw new ParseError('rtmp: handshake rejected (both ways)');
}

describe('RTMP handshake fuzz', () => {
  test('server: 100,000 inputs, whole and in pieces: only ParseError, same replies', () => {
    const r = fuzz('rtmp handshake (server)', { seed: 0x45a1, corpus: SERVER_CORPUS, randomShare: 0.1 }, ({ input, rnd }) => {
      const whole = drive(new RtmpServerHandshake({ time: 5 }), [input]);
      check(whole, drive(new RtmpServerHandshake({ time: 5 }), fuzzPieces(input, rnd)));
      const want = input.length >= 1 + 2 * HANDSHAKE_BLOCK_SIZE;
      fuzzCheck(whole.done === want, () => `done ${whole.done} after ${input.length} bytes`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.05);
  }, FUZZ_TIMEOUT);

  test('client: 100,000 inputs, whole and in pieces: only ParseError, same replies', () => {
    const r = fuzz('rtmp handshake (client)', { seed: 0x45a2, corpus: CLIENT_CORPUS, randomShare: 0.1 }, ({ input, rnd }) => {
      const complex = rnd() < 0.5;
      const start = () => {
        const hs = new RtmpClientHandshake({ time: 6, complex });
        hs.start();
        return hs;
      };
      const whole = drive(start(), [input]);
      check(whole, drive(start(), fuzzPieces(input, rnd)));
      fuzzCheck(whole.done === input.length >= 1 + 2 * HANDSHAKE_BLOCK_SIZE, 'done once S0S1S2 is in');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.05);
  }, FUZZ_TIMEOUT);
});
