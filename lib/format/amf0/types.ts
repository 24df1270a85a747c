/**
 * AMF0 value model and markers (Adobe "Action Message Format – AMF 0", 2007, §2).
 * Used by RTMP commands and data messages (docs/protocols.md §2.4) and FLV script tags.
 */

/**
 * A decoded or to-be-encoded AMF0 value.
 * - number ↔ 0x00, boolean ↔ 0x01, string ↔ 0x02 (or 0x0C long string when > 65535 UTF-8 bytes),
 *   plain object ↔ 0x03, null ↔ 0x05, undefined ↔ 0x06, `Amf0EcmaArray` ↔ 0x08,
 *   array ↔ 0x0A strict array, Date ↔ 0x0B.
 * - The decoder returns ECMA arrays as plain objects unless `{ keepEcma: true }`.
 */
export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | Amf0EcmaArray
  | { [k: string]: Amf0Value };

/** An associative ("ECMA") array: encodes as marker 0x08 with a count, then like an object. */
export class Amf0EcmaArray {
  constructor(readonly entries: Record<string, Amf0Value>) {}
}

/** AMF0 type markers (AMF0 spec §2.1). */
export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

/**
 * Nesting limit for objects/arrays. Real commands and metadata nest 2–3 levels; the bound keeps
 * a hostile `03 03 03 …` buffer from exhausting the JS stack.
 */
export const MAX_AMF0_DEPTH = 64;

/**
 * Limit on properties of one object/ECMA array and on strict-array counts. onMetaData of long
 * FLV files carries keyframe index arrays with tens of thousands of entries; a million is far
 * beyond that, and counts are also checked against the bytes actually present.
 */
export const MAX_AMF0_ELEMENTS = 1 << 20;

/** Options of the decoder. */
export interface Amf0DecodeOptions {
  /** Return ECMA arrays as `Amf0EcmaArray` instead of plain objects (round trips byte-exactly). */
  keepEcma?: boolean;
}
