/**
 * MPEG-2 CRC32 (ISO/IEC 13818-1 Annex A): the CRC_32 that ends every PSI section (PAT, PMT).
 * Polynomial 0x04C11DB7, initial value 0xFFFFFFFF, MSB first, no reflection, no final XOR,
 * so a whole section including its CRC field checks to 0.
 */

const POLY = 0x04c11db7;

/** 256-entry lookup table, one byte per step (built once at module load; read-only afterwards). */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ POLY : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC32/MPEG-2 of `buf[start, end)` as an unsigned 32-bit number. */
export function crc32Mpeg2(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (crc << 8) ^ TABLE[((crc >>> 24) ^ buf[i]) & 0xff];
  return crc >>> 0;
}
