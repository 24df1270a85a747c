/**
 * MSB-first bit reader with exp-Golomb (H.264 §9.1), used by SPS/VPS/ASC parsers.
 * Reading past the end throws ParseError, never RangeError.
 */
import { ParseError } from './errors.ts';

export class BitReader {
  private pos = 0; // bit position
  constructor(private readonly buf: Uint8Array, private readonly what = 'bits') {}

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }
  get bitPos(): number {
    return this.pos;
  }

  readBit(): number {
    if (this.pos >= this.buf.length * 8) throw new ParseError(`${this.what}: read past end`, 'truncated');
    const b = (this.buf[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  /** Read n ≤ 32 bits as an unsigned integer. */
  readBits(n: number): number {
    if (n > 32) throw new ParseError(`${this.what}: readBits(${n}) > 32`);
    if (n > this.bitsLeft) throw new ParseError(`${this.what}: read past end`, 'truncated');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.readBit();
    return v;
  }

  readBool(): boolean {
    return this.readBit() === 1;
  }

  skipBits(n: number): void {
    if (n > this.bitsLeft) throw new ParseError(`${this.what}: skip past end`, 'truncated');
    this.pos += n;
  }

  /** ue(v): unsigned exp-Golomb. */
  readUE(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      if (++zeros > 31) throw new ParseError(`${this.what}: exp-Golomb code too long`);
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.readBits(zeros);
  }

  /** se(v): signed exp-Golomb. */
  readSE(): number {
    const k = this.readUE();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
