/**
 * Seeded fuzz test of the WebSocket frame reader (issue #9): 100,000 random and mutated client
 * frame streams (masked and unmasked, 7/16/64-bit lengths), fed whole and in random pieces. Only
 * ParseError may escape; both feeds give the same frames (or both fail); frames written again by
 * our encoder read back the same.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { encodeWsFrame, WsFrameReader, WsOpcode, type WsFrame } from './ws.ts';

/** A client frame: masked with `mask` (RFC 6455 §5.3), FIN as given. */
function clientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array | undefined, fin = true): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? Uint8Array.of(0, len) : len < 65536 ? Uint8Array.of(0, 126, len >> 8, len & 0xff) : Uint8Array.of(0, 127, 0, 0, 0, 0, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return concat([head, payload]);
  head[1] |= 0x80;
  return concat([head, mask, payload.map((b, i) => b ^ mask[i & 3])]);
}
const MASK = fromHex('37fa213d');
const text = (n: number) => Uint8Array.from({ length: n }, (_, i) => 0x61 + (i % 26));
const CORPUS = [
  concat([clientFrame(WsOpcode.Text, text(5), MASK), clientFrame(WsOpcode.Ping, text(3), MASK), clientFrame(WsOpcode.Close, fromHex('03e8'), MASK)]),
  concat([clientFrame(WsOpcode.Binary, text(300), MASK, false), clientFrame(WsOpcode.Continuation, text(20), undefined)]),
  clientFrame(WsOpcode.Binary, text(70000).subarray(0, 600), MASK).subarray(0, 200), // a 64-bit length header, cut
  Uint8Array.of(0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4), // 64-bit length 65536 (just over the limit)
];

interface Run {
  frames: WsFrame[];
  error: boolean;
}

function run(pieces: Uint8Array[]): Run {
  const r = new WsFrameReader();
  const frames: WsFrame[] = [];
  try {
    for (const p of pieces) frames.push(...r.feed(p));
  } catch (e) {
    if (e instanceof ParseError) return { frames, error: true };
    throw e;
  }
  return { frames, error: false };
}

describe('WsFrameReader fuzz', () => {
  test('100,000 inputs, whole and in pieces: only ParseError, same frames, round trip', () => {
    const r = fuzz('ws frame reader', { seed: 0x3655, corpus: CORPUS, maxRandomLength: 100 }, ({ input, rnd }) => {
      const whole = run([input]);
      const split = run(fuzzPieces(input, rnd));
      fuzzCheck(whole.error === split.error, () => `whole ${whole.error ? 'failed' : 'passed'}, pieces ${split.error ? 'failed' : 'passed'}`);
      if (whole.error) throw new ParseError('ws: rejected (both ways)');
      fuzzCheck(Bun.deepEquals(whole.frames, split.frames), 'whole and pieces give the same frames');
      for (const f of whole.frames) fuzzCheck(f.opcode <= 15 && f.payload.length <= 64 * 1024, 'frame fields');
      const again = run([concat(whole.frames.map((f) => encodeWsFrame(f.opcode, f.payload)))]);
      fuzzCheck(!again.error && Bun.deepEquals(again.frames, whole.frames.map((f) => ({ ...f, fin: true }))), 'frames re-encoded read back the same');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.3);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.01);
  }, FUZZ_TIMEOUT);
});
