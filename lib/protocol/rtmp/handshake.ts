/**
 * RTMP handshake, server and client side, as push state machines (RTMP spec §5.2; the
 * "complex" digest handshake as in docs/protocols.md §2.1 and §7.1 step 2).
 *
 *   client                                   server
 *   C0 (1: version 03) + C1 (1536) ───────►
 *                                  ◄─────── S0 (1) + S1 (1536) + S2 (1536)   one write
 *   C2 (1536) ─────────────────────────────►                                  content ignored
 *
 *   C1/S1: time(4) | version or zero(4) | 1528 random bytes
 *   complex: a 32-byte HMAC-SHA256 digest sits inside the random part at
 *     schema 0: offset = (sum of bytes [8..12]) mod 728 + 12
 *     schema 1: offset = (sum of bytes [772..776]) mod 728 + 776
 *   and covers the 1536 bytes without the digest.
 */
import { ParseError, LalError } from '../../core/errors.ts';
import { ByteStash, putU32be } from '../../core/bytes.ts';
import { HANDSHAKE_FILLER_TEXT } from './constants.ts';

/** The only RTMP version byte LAL accepts in C0/S0 (6 = encrypted RTMPE is refused). */
export const RTMP_VERSION = 3;
export const HANDSHAKE_BLOCK_SIZE = 1536;
const DIGEST_LEN = 32;

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const KEY_TAIL = Uint8Array.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
  0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
function joinKey(head: Uint8Array): Uint8Array {
  const k = new Uint8Array(head.length + KEY_TAIL.length);
  k.set(head, 0);
  k.set(KEY_TAIL, head.length);
  return k;
}
/** `Genuine Adobe Flash Player 001` (30 bytes): signs C1. */
export const CLIENT_KEY_SHORT = ascii('Genuine Adobe Flash Player 001');
/** Client key + 32 fixed bytes (62 bytes): keys the C2 digest. */
export const CLIENT_KEY_FULL = joinKey(CLIENT_KEY_SHORT);
/** `Genuine Adobe Flash Media Server 001` (36 bytes): signs S1. */
export const SERVER_KEY_SHORT = ascii('Genuine Adobe Flash Media Server 001');
/** Server key + 32 fixed bytes (68 bytes): keys the S2 digest. */
export const SERVER_KEY_FULL = joinKey(SERVER_KEY_SHORT);
/** C1[4..8] of lal's complex client handshake. */
export const CLIENT_COMPLEX_VERSION = Uint8Array.of(0x09, 0x00, 0x7c, 0x02);
/** S1[4..8] of lal's complex server handshake. */
export const SERVER_COMPLEX_VERSION = Uint8Array.of(0x0d, 0x0e, 0x0a, 0x0d);

/** 1536 bytes of the filler text repeated (docs/protocols.md §1). Never written to. */
const FILLER: Uint8Array = (() => {
  const t = ascii(HANDSHAKE_FILLER_TEXT);
  const out = new Uint8Array(HANDSHAKE_BLOCK_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = t[i % t.length];
  return out;
})();

/** HMAC-SHA256 (Bun.CryptoHasher: node:crypto alone costs a CLI run ~5 ms to load). */
export function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = new Bun.CryptoHasher('sha256', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** Digest offset inside a 1536-byte block for schema 0 (base 8) or 1 (base 772). */
export function digestOffset(block: Uint8Array, schema: 0 | 1): number {
  const base = schema === 0 ? 8 : 772;
  return ((block[base] + block[base + 1] + block[base + 2] + block[base + 3]) % 728) + base + 4;
}

/** HMAC of the block without its 32 digest bytes at `off`. */
function blockDigest(block: Uint8Array, off: number, key: Uint8Array): Uint8Array {
  return hmacSha256(key, block.subarray(0, off), block.subarray(off + DIGEST_LEN));
}

/** Write the digest of `block` at the schema's offset (in place). */
export function signBlock(block: Uint8Array, schema: 0 | 1, key: Uint8Array): Uint8Array {
  const off = digestOffset(block, schema);
  const d = blockDigest(block, off, key);
  block.set(d, off);
  return d;
}

function equal32(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  for (let i = 0; i < DIGEST_LEN; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/**
 * Find a valid digest in a C1 or S1 block; tries the schemas in `order`.
 * Returns the 32 digest bytes (a view) or undefined.
 */
export function findDigest(block: Uint8Array, key: Uint8Array, order: readonly (0 | 1)[]): Uint8Array | undefined {
  for (const schema of order) {
    const off = digestOffset(block, schema);
    if (equal32(block, off, blockDigest(block, off, key))) return block.subarray(off, off + DIGEST_LEN);
  }
  return undefined;
}

function checkVersion(v: number, who: string): void {
  if (v !== RTMP_VERSION) {
    throw new ParseError(`rtmp: handshake ${who} version ${v} unsupported (only ${RTMP_VERSION}; 6 = RTMPE is not supported)`, 'handshake');
  }
}

/** Result of feeding handshake bytes. */
export interface HandshakeStep {
  /** Bytes to send now (S0S1S2 on the server, C2 on the client). */
  out?: Uint8Array;
  /** The handshake is complete; later bytes belong to the chunk layer. */
  done: boolean;
  /** Bytes of this chunk after the end of the handshake (feed them to the chunk reader). */
  rest?: Uint8Array;
}

export interface HandshakeOptions {
  /** 32-bit time value for S1/C1 bytes 0..4 (default: Date.now() mod 2^32). */
  time?: number;
}

/** Server side: reads C0C1, answers S0S1S2, reads (and ignores) C2. */
export class RtmpServerHandshake {
  private readonly stash = new ByteStash(undefined, 'rtmp: handshake');
  private phase: 'c0c1' | 'c2' | 'done' = 'c0c1';
  private _mode: 'simple' | 'complex' | undefined;
  constructor(private readonly opts: HandshakeOptions = {}) {}

  /** Which handshake was answered (known after C0C1). */
  get mode(): 'simple' | 'complex' | undefined {
    return this._mode;
  }

  feed(chunk: Uint8Array): HandshakeStep {
    if (this.phase === 'done') return { done: true, rest: chunk };
    this.stash.push(chunk);
    let out: Uint8Array | undefined;
    if (this.phase === 'c0c1') {
      if (this.stash.length >= 1) checkVersion(this.stash.at(0), 'C0');
      if (this.stash.length < 1 + HANDSHAKE_BLOCK_SIZE) return { done: false };
      const c0c1 = this.stash.take(1 + HANDSHAKE_BLOCK_SIZE);
      out = this.answer(c0c1.subarray(1));
      this.phase = 'c2';
    }
    if (this.stash.length < HANDSHAKE_BLOCK_SIZE) return { out, done: false };
    this.stash.skip(HANDSHAKE_BLOCK_SIZE); // C2: content ignored (docs/protocols.md §2.1)
    this.phase = 'done';
    const n = this.stash.length;
    const rest = n > 0 ? this.stash.take(n) : undefined;
    this.stash.clear();
    return { out, done: true, rest };
  }

  /** S0+S1+S2 for a C1 (docs/protocols.md §2.1). */
  private answer(c1: Uint8Array): Uint8Array {
    const out = new Uint8Array(1 + 2 * HANDSHAKE_BLOCK_SIZE);
    out[0] = RTMP_VERSION;
    const s1 = out.subarray(1, 1 + HANDSHAKE_BLOCK_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_BLOCK_SIZE);
    s1.set(FILLER.subarray(0, HANDSHAKE_BLOCK_SIZE - 8), 8);
    putU32be(s1, 0, (this.opts.time ?? Date.now()) >>> 0);
    const zeroVersion = c1[4] === 0 && c1[5] === 0 && c1[6] === 0 && c1[7] === 0;
    const c1Digest = zeroVersion ? undefined : findDigest(c1, CLIENT_KEY_SHORT, [1, 0]);
    if (!c1Digest) {
      this._mode = 'simple';
      s2.set(c1); // S2 = C1 echoed; S1[4..8] stays zero
      return out;
    }
    this._mode = 'complex';
    s1.set(SERVER_COMPLEX_VERSION, 4);
    signBlock(s1, 0, SERVER_KEY_SHORT);
    s2.set(FILLER.subarray(0, HANDSHAKE_BLOCK_SIZE - DIGEST_LEN));
    const key = hmacSha256(SERVER_KEY_FULL, c1Digest);
    s2.set(hmacSha256(key, s2.subarray(0, HANDSHAKE_BLOCK_SIZE - DIGEST_LEN)), HANDSHAKE_BLOCK_SIZE - DIGEST_LEN);
    return out;
  }
}

export interface ClientHandshakeOptions extends HandshakeOptions {
  /** Send a complex (digest) C1; falls back to simple if S1 carries no digest. Default false. */
  complex?: boolean;
}

/** Client side: `start()` gives C0C1; feeding S0S1S2 gives C2 and completes. */
export class RtmpClientHandshake {
  private readonly stash = new ByteStash(undefined, 'rtmp: handshake');
  private phase: 'init' | 's0s1s2' | 'done' = 'init';
  private _mode: 'simple' | 'complex' | undefined;
  constructor(private readonly opts: ClientHandshakeOptions = {}) {}

  /** Which C2 was sent (known once done). */
  get mode(): 'simple' | 'complex' | undefined {
    return this._mode;
  }

  /** C0+C1 to send first (docs/protocols.md §7.1 step 2). */
  start(): Uint8Array {
    if (this.phase !== 'init') throw new LalError('state', 'rtmp: client handshake already started');
    this.phase = 's0s1s2';
    const out = new Uint8Array(1 + HANDSHAKE_BLOCK_SIZE);
    out[0] = RTMP_VERSION;
    const c1 = out.subarray(1);
    c1.set(FILLER.subarray(0, HANDSHAKE_BLOCK_SIZE - 8), 8);
    putU32be(c1, 0, (this.opts.time ?? Date.now()) >>> 0);
    if (this.opts.complex) {
      c1.set(CLIENT_COMPLEX_VERSION, 4);
      signBlock(c1, 0, CLIENT_KEY_SHORT);
    }
    return out;
  }

  feed(chunk: Uint8Array): HandshakeStep {
    if (this.phase === 'done') return { done: true, rest: chunk };
    if (this.phase === 'init') throw new LalError('state', 'rtmp: client handshake fed before start()');
    this.stash.push(chunk);
    if (this.stash.length >= 1) checkVersion(this.stash.at(0), 'S0');
    if (this.stash.length < 1 + 2 * HANDSHAKE_BLOCK_SIZE) return { done: false };
    const s0s1s2 = this.stash.take(1 + 2 * HANDSHAKE_BLOCK_SIZE);
    const s1 = s0s1s2.subarray(1, 1 + HANDSHAKE_BLOCK_SIZE);
    let out: Uint8Array;
    const s1Digest = this.opts.complex ? findDigest(s1, SERVER_KEY_SHORT, [0, 1]) : undefined;
    if (s1Digest) {
      this._mode = 'complex';
      out = new Uint8Array(HANDSHAKE_BLOCK_SIZE);
      out.set(FILLER.subarray(0, HANDSHAKE_BLOCK_SIZE - DIGEST_LEN));
      const key = hmacSha256(CLIENT_KEY_FULL, s1Digest);
      out.set(hmacSha256(key, out.subarray(0, HANDSHAKE_BLOCK_SIZE - DIGEST_LEN)), HANDSHAKE_BLOCK_SIZE - DIGEST_LEN);
    } else {
      this._mode = 'simple';
      out = s1.slice(); // C2 = S1 echoed (own copy: s1 may be a view of the caller's chunk)
    }
    this.phase = 'done';
    const n = this.stash.length;
    const rest = n > 0 ? this.stash.take(n) : undefined;
    this.stash.clear();
    return { out, done: true, rest };
  }
}
