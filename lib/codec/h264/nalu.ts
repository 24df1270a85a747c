/**
 * H.264 NAL units: header type, AVCC (length-prefixed, ISO/IEC 14496-15 §5.3.2) and Annex-B
 * (start-code, ISO/IEC 14496-10 Annex B) splitting, key-frame detection.
 * The splitters are shared by H.265 (same framing, ISO/IEC 14496-15 §8.3.2), so they exist once.
 */
import { ParseError } from '../../core/errors.ts';

/** nal_unit_type values used by lal (ISO/IEC 14496-10 Table 7-1). */
export const NaluTypeH264 = {
  Slice: 1,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
} as const;

/**
 * Upper bound on NAL units in one access unit (one AVCC message or Annex-B PES). Encoders use a
 * handful (AUD, SEI, parameter sets, a few slices); drones and hardware encoders that slice
 * per macroblock row send around 50. 256 leaves room and stops a hostile peer from making us
 * build huge arrays of tiny views.
 */
export const MAX_NALUS_PER_AU = 256;

/**
 *  +---------------+
 *  |0|1|2|3|4|5|6|7|
 *  +-+-+-+-+-+-+-+-+
 *  |F|NRI|  Type   |
 *  +---------------+
 */
export function h264NaluType(nalu: Uint8Array): number {
  if (nalu.length === 0) throw new ParseError('h264: empty NAL unit has no type', 'truncated');
  return nalu[0] & 0x1f;
}

/**
 * Split length-prefixed NAL units (AVCC, as in FLV/RTMP and MP4) in `buf[start…]` (an FLV tag
 * body is split from its data offset without a view of it first). Returns views into `buf`;
 * offsets in errors count from `start`. Zero-length entries are skipped. Throws ParseError when
 * a length field or a NAL unit runs past the end, or when there are more than `maxNalus` units.
 */
export function splitAvcc(buf: Uint8Array, lengthSize = 4, maxNalus = MAX_NALUS_PER_AU, start = 0): Uint8Array[] {
  if (lengthSize < 1 || lengthSize > 4 || !Number.isInteger(lengthSize)) {
    throw new ParseError(`avcc: NAL length size ${lengthSize} is not 1..4`);
  }
  const out: Uint8Array[] = [];
  let off = start;
  while (off < buf.length) {
    if (off + lengthSize > buf.length) {
      throw new ParseError(`avcc: ${buf.length - off} trailing bytes at offset ${off - start} are shorter than a ${lengthSize}-byte length`, 'truncated');
    }
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + buf[off + i];
    off += lengthSize;
    if (len > buf.length - off) {
      throw new ParseError(`avcc: NAL length ${len} at offset ${off - lengthSize - start} runs past the end (${buf.length - off} bytes left)`, 'truncated');
    }
    if (len > 0) {
      if (out.length >= maxNalus) {
        throw new ParseError(`avcc: more than ${maxNalus} NAL units in one access unit`, 'too-many');
      }
      out.push(buf.subarray(off, off + len));
    }
    off += len;
  }
  return out;
}

/**
 * Split an Annex-B byte stream on `00 00 01` and `00 00 00 01` start codes. Returns views into
 * `buf`; bytes before the first start code are ignored, trailing zero bytes (the leading zero of
 * a 4-byte start code, trailing_zero_8bits) are not part of the unit, empty units are skipped.
 * A buffer without any start code yields no units.
 */
export function splitAnnexB(buf: Uint8Array, maxNalus = MAX_NALUS_PER_AU): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = buf.length;
  let start = -1; // first byte of the current unit, -1 before the first start code
  let i = 0;
  while (i + 2 < n) {
    // Skip fast: a start code needs buf[i+2] === 1 and two zeros before it.
    const b2 = buf[i + 2];
    if (b2 > 1) {
      i += 3;
      continue;
    }
    if (b2 === 1 && buf[i] === 0 && buf[i + 1] === 0) {
      if (start >= 0) pushUnit(buf, start, i, out, maxNalus);
      start = i + 3;
      i += 3;
      continue;
    }
    i++;
  }
  if (start >= 0) pushUnit(buf, start, n, out, maxNalus);
  return out;
}

function pushUnit(buf: Uint8Array, start: number, end: number, out: Uint8Array[], maxNalus: number): void {
  while (end > start && buf[end - 1] === 0) end--;
  if (end === start) return;
  if (out.length >= maxNalus) {
    throw new ParseError(`annexb: more than ${maxNalus} NAL units in one access unit`, 'too-many');
  }
  out.push(buf.subarray(start, end));
}

/** True when any unit is an IDR slice (type 5). Empty units are ignored. */
export function isH264KeyFrame(units: readonly Uint8Array[]): boolean {
  for (const u of units) {
    if (u.length > 0 && (u[0] & 0x1f) === NaluTypeH264.Idr) return true;
  }
  return false;
}
