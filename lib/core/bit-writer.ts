/** MSB-first bit writer (ADTS headers, test vectors). Grows as needed. */
export class BitWriter {
  private bytes: number[] = [];
  private cur = 0;
  private n = 0;

  writeBits(v: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.cur = (this.cur << 1) | (Math.floor(v / 2 ** i) & 1);
      if (++this.n === 8) {
        this.bytes.push(this.cur);
        this.cur = 0;
        this.n = 0;
      }
    }
  }

  writeUE(v: number): void {
    const x = v + 1;
    const len = Math.floor(Math.log2(x));
    this.writeBits(0, len);
    this.writeBits(x, len + 1);
  }

  writeSE(v: number): void {
    this.writeUE(v <= 0 ? -2 * v : 2 * v - 1);
  }

  /** Pad with zero bits to a byte boundary and return the bytes. */
  finish(): Uint8Array {
    if (this.n > 0) this.writeBits(0, 8 - this.n);
    return Uint8Array.from(this.bytes);
  }
}
