import { test, expect, describe } from 'bun:test';
import { createHmac } from 'node:crypto';
import { ParseError } from '../../core/errors.ts';
import {
  RtmpClientHandshake,
  RtmpServerHandshake,
  SERVER_KEY_FULL,
  CLIENT_KEY_FULL,
  digestOffset,
  findDigest,
  SERVER_KEY_SHORT,
  CLIENT_KEY_SHORT,
} from './handshake.ts';
import { mulberry32, randomBytes, utf8Decode } from '../../core/testing.ts';
import { concat } from '../../core/bytes.ts';

const hmac = (key: Uint8Array | string, ...data: Uint8Array[]) => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
};

/** A C1 built straight from the spec text (docs/protocols.md §2.1), independent of handshake.ts. */
function specComplexC1(schema: 0 | 1, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  const c1 = randomBytes(rnd, 1536);
  c1.set([0, 0, 0, 7], 0);
  c1.set([0x80, 0x00, 0x07, 0x02], 4); // any non-zero version
  const base = schema === 1 ? 772 : 8;
  const off = ((c1[base] + c1[base + 1] + c1[base + 2] + c1[base + 3]) % 728) + base + 4;
  const digest = hmac('Genuine Adobe Flash Player 001', c1.subarray(0, off), c1.subarray(off + 32));
  c1.set(digest, off);
  return c1;
}

describe('server handshake', () => {
  test('simple: S0=3, S1 zero version + filler, S2 echoes C1, then C2 completes', () => {
    const c1 = new Uint8Array(1536);
    for (let i = 8; i < 1536; i++) c1[i] = i & 0xff;
    const hs = new RtmpServerHandshake({ time: 0x01020304 });
    const r1 = hs.feed(concat([Uint8Array.of(3), c1]));
    expect(r1.done).toBe(false);
    expect(hs.mode).toBe('simple');
    const out = r1.out as Uint8Array;
    expect(out.length).toBe(3073);
    expect(out[0]).toBe(3);
    const s1 = out.subarray(1, 1537);
    expect(Array.from(s1.subarray(0, 8))).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(utf8Decode(s1.subarray(8, 8 + 52))).toBe('random buf of rtmp handshake gen by lal v0.1.0 (lal)');
    expect(out.subarray(1537)).toEqual(c1);
    const r2 = hs.feed(new Uint8Array(1536));
    expect(r2).toEqual({ out: undefined, done: true, rest: undefined });
  });

  test('C0C1, C2 and following bytes in one chunk: out, done and rest', () => {
    const hs = new RtmpServerHandshake();
    const extra = Uint8Array.of(9, 8, 7);
    const r = hs.feed(concat([Uint8Array.of(3), new Uint8Array(1536), new Uint8Array(1536), extra]));
    expect(r.out?.length).toBe(3073);
    expect(r.done).toBe(true);
    expect(r.rest).toEqual(extra);
    expect(hs.feed(Uint8Array.of(1))).toEqual({ done: true, rest: Uint8Array.of(1) });
  });

  test('byte by byte: S0S1S2 emitted exactly at byte 1537, done at byte 3073', () => {
    const hs = new RtmpServerHandshake();
    const all = concat([Uint8Array.of(3), new Uint8Array(3072)]);
    for (let i = 0; i < all.length; i++) {
      const r = hs.feed(all.subarray(i, i + 1));
      expect(r.out !== undefined).toBe(i === 1536);
      expect(r.done).toBe(i === 3072);
    }
  });

  test.each([0, 6, 0x30])('C0 version %d is a ParseError as soon as it arrives', (v) => {
    expect(() => new RtmpServerHandshake().feed(Uint8Array.of(v))).toThrow(ParseError);
  });

  test.each([0, 1] as const)('complex C1 built per the spec (schema %d) validates', (schema) => {
    const c1 = specComplexC1(schema, 42 + schema);
    const hs = new RtmpServerHandshake({ time: 5 });
    const out = hs.feed(concat([Uint8Array.of(3), c1])).out as Uint8Array;
    expect(hs.mode).toBe('complex');
    const s1 = out.subarray(1, 1537);
    const s2 = out.subarray(1537);
    expect(Array.from(s1.subarray(4, 8))).toEqual([0x0d, 0x0e, 0x0a, 0x0d]);
    // S1 digest at schema 0 with the 36-byte server key
    const off = ((s1[8] + s1[9] + s1[10] + s1[11]) % 728) + 12;
    const want = hmac('Genuine Adobe Flash Media Server 001', s1.subarray(0, off), s1.subarray(off + 32));
    expect(s1.subarray(off, off + 32)).toEqual(want);
    // S2 digest keyed by HMAC(full server key, C1 digest)
    const base = schema === 1 ? 772 : 8;
    const c1Off = ((c1[base] + c1[base + 1] + c1[base + 2] + c1[base + 3]) % 728) + base + 4;
    const key = hmac(SERVER_KEY_FULL, c1.subarray(c1Off, c1Off + 32));
    expect(s2.subarray(1504)).toEqual(hmac(key, s2.subarray(0, 1504)));
  });

  test('non-zero version without a valid digest falls back to simple', () => {
    const c1 = specComplexC1(0, 7);
    c1[digestOffset(c1, 0)] ^= 0xff; // break the digest
    expect(findDigest(c1, CLIENT_KEY_SHORT, [0, 1])).toBeUndefined();
    const hs = new RtmpServerHandshake();
    const out = hs.feed(concat([Uint8Array.of(3), c1])).out as Uint8Array;
    expect(hs.mode).toBe('simple');
    expect(Array.from(out.subarray(5, 9))).toEqual([0, 0, 0, 0]);
    expect(out.subarray(1537)).toEqual(c1);
  });
});

describe('client handshake against our server, in memory', () => {
  test.each([false, true])('complex=%p', (complex) => {
    const client = new RtmpClientHandshake({ complex, time: 77 });
    const server = new RtmpServerHandshake({ time: 88 });
    const c0c1 = client.start();
    expect(c0c1.length).toBe(1537);
    expect(c0c1[0]).toBe(3);
    expect(Array.from(c0c1.subarray(1, 5))).toEqual([0, 0, 0, 77]);
    expect(Array.from(c0c1.subarray(5, 9))).toEqual(complex ? [0x09, 0x00, 0x7c, 0x02] : [0, 0, 0, 0]);
    if (complex) {
      const c1 = c0c1.subarray(1);
      const off = digestOffset(c1, 0);
      expect(c1.subarray(off, off + 32)).toEqual(hmac(CLIENT_KEY_SHORT, c1.subarray(0, off), c1.subarray(off + 32)));
    }
    const s = server.feed(c0c1);
    expect(server.mode).toBe(complex ? 'complex' : 'simple');
    const extra = Uint8Array.of(1, 2, 3);
    const c = client.feed(concat([s.out as Uint8Array, extra]));
    expect(c.done).toBe(true);
    expect(c.rest).toEqual(extra);
    expect(client.mode).toBe(complex ? 'complex' : 'simple');
    const c2 = c.out as Uint8Array;
    expect(c2.length).toBe(1536);
    const s1 = (s.out as Uint8Array).subarray(1, 1537);
    if (complex) {
      const s1Digest = findDigest(s1, SERVER_KEY_SHORT, [0]) as Uint8Array;
      expect(c2.subarray(1504)).toEqual(hmac(hmac(CLIENT_KEY_FULL, s1Digest), c2.subarray(0, 1504)));
    } else {
      expect(c2).toEqual(s1);
    }
    expect(server.feed(c2).done).toBe(true);
  });

  test('complex client falls back to simple C2 when S1 has no digest', () => {
    const client = new RtmpClientHandshake({ complex: true });
    client.start();
    const s0s1s2 = new Uint8Array(3073);
    s0s1s2[0] = 3;
    s0s1s2.fill(0x41, 1);
    const r = client.feed(s0s1s2);
    expect(client.mode).toBe('simple');
    expect(r.out).toEqual(s0s1s2.subarray(1, 1537));
  });

  test('client: bad S0 version is a ParseError; feed before start is refused', () => {
    const c = new RtmpClientHandshake();
    expect(() => c.feed(Uint8Array.of(3))).toThrow(/before start/);
    c.start();
    expect(() => c.feed(Uint8Array.of(6))).toThrow(ParseError);
  });

  test('client fed byte by byte completes at byte 3073', () => {
    const client = new RtmpClientHandshake();
    client.start();
    const all = new Uint8Array(3073);
    all[0] = 3;
    let doneAt = -1;
    for (let i = 0; i < all.length; i++) if (client.feed(all.subarray(i, i + 1)).done && doneAt < 0) doneAt = i;
    expect(doneAt).toBe(3072);
  });
});
