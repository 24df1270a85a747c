/**
 * Seeded fuzz test of the AMF0 decoder (issue #9): 100,000 random and mutated command and
 * metadata bodies, only ParseError may escape, and whatever decodes re-encodes to bytes that
 * decode to the same values (ECMA arrays kept).
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { decodeAmf0, decodeAmf0All } from './decode.ts';
import { encodeAmf0 } from './encode.ts';
import { Amf0EcmaArray, MAX_AMF0_DEPTH, type Amf0Value } from './types.ts';

function nested(depth: number): Amf0Value {
  let v: Amf0Value = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

const CORPUS = [
  encodeAmf0('connect', 1, { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1:1935/live', fpad: false, objectEncoding: 0 }),
  encodeAmf0('_result', 1, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 }),
  encodeAmf0('publish', 5, null, 'test?token=1', 'live'),
  encodeAmf0('@setDataFrame', 'onMetaData', new Amf0EcmaArray({ duration: 0, width: 640, height: 360, videocodecid: 7, audiocodecid: 10, encoder: 'Lavf58.24.100', stereo: true })),
  encodeAmf0('onMetaData', { keyframes: { times: [0, 2.5, 5], filepositions: [13, 4096, 8192] }, created: new Date(1_700_000_000_000) }, undefined, 'ünïcødé ✓'),
  encodeAmf0(nested(MAX_AMF0_DEPTH - 1)),
  fromHex('0c0000000568656c6c6f 0d 0b 0000000000000000 0000'), // long string, unsupported marker, date
];
// markers and the object end, as an AFL dictionary
const DICT = [fromHex('000009'), fromHex('03'), fromHex('08ffffffff'), fromHex('0a00000002'), fromHex('0200'), fromHex('0c7fffffff')];

/** Deep equality where two invalid Dates (NaN time) are equal, as they are on the wire. */
function same(a: Amf0Value, b: Amf0Value): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Amf0EcmaArray || b instanceof Amf0EcmaArray) return a instanceof Amf0EcmaArray && b instanceof Amf0EcmaArray && same(a.entries, b.entries);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
  }
  return Object.is(a, b);
}

function sameValues(a: Amf0Value[], b: Amf0Value[]): boolean {
  return same(a, b);
}

describe('AMF0 decode fuzz', () => {
  test('100,000 inputs: only ParseError, and decode → encode → decode is stable', () => {
    const r = fuzz('amf0 decode', { seed: 0xa3f0, corpus: CORPUS, dictionary: DICT }, ({ input, rnd }) => {
      if (rnd() < 0.2) {
        const at = Math.floor(rnd() * (input.length + 1));
        const { offset } = decodeAmf0(input, at);
        fuzzCheck(offset > at && offset <= input.length, () => `offset ${offset} after ${at} of ${input.length}`);
        return;
      }
      const keepEcma = rnd() < 0.5;
      const values = decodeAmf0All(input, { keepEcma });
      const again = decodeAmf0All(encodeAmf0(...values), { keepEcma });
      fuzzCheck(sameValues(values, again), 'values survive re-encoding');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
