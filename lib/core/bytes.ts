/**
 * Byte helpers: big-endian readers/writers, concatenation and the ByteStash that push parsers
 * keep their unconsumed tail in (docs/architecture.md §1.5).
 */
import { ParseError } from './errors.ts';

export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function u24be(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}
export function u32le(b: Uint8Array, o: number): number {
  return ((b[o + 3] << 24) >>> 0) + ((b[o + 2] << 16) | (b[o + 1] << 8) | b[o]);
}
export function putU16be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function putU24be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}
export function putU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
export function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Concatenate into one new buffer (allocates once). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throw a module-prefixed ParseError unless `need` bytes are available at `off`. */
export function need(b: Uint8Array, off: number, n: number, what: string): void {
  if (off < 0 || off + n > b.length) {
    throw new ParseError(`${what}: need ${n} bytes at offset ${off}, have ${Math.max(0, b.length - off)}`, 'truncated');
  }
}

/**
 * The unconsumed tail of a push parser. `push(chunk)` appends; `peek`/`take` read from the front.
 * Holds chunk views without copying until a read spans chunks; `limit` bounds memory.
 */
export class ByteStash {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  private size = 0;
  constructor(readonly limit = 64 * 1024 * 1024, readonly what = 'stash') {}

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.size + chunk.length > this.limit) {
      throw new ParseError(`${this.what}: more than ${this.limit} bytes buffered`, 'too-large');
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Byte at offset i from the front (i < length). */
  at(i: number): number {
    let idx = 0;
    let off = this.head + i;
    while (off >= this.chunks[idx].length) {
      off -= this.chunks[idx].length;
      idx++;
    }
    return this.chunks[idx][off];
  }

  /** n bytes from the front without consuming; a view when they lie in one chunk, else a copy. */
  peek(n: number): Uint8Array {
    if (n > this.size) throw new ParseError(`${this.what}: peek ${n} of ${this.size}`, 'truncated');
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let o = 0;
    let idx = 0;
    let off = this.head;
    while (o < n) {
      const c = this.chunks[idx];
      const k = Math.min(c.length - off, n - o);
      out.set(c.subarray(off, off + k), o);
      o += k;
      idx++;
      off = 0;
    }
    return out;
  }

  /** Consume n bytes and return them (view when possible). */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    if (n > this.size) throw new ParseError(`${this.what}: skip ${n} of ${this.size}`, 'truncated');
    this.size -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
  }
}

/** UTF-8 length of a JS string as TextEncoder writes it (lone surrogates → U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
