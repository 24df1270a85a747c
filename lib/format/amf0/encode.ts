/**
 * AMF0 encoder (Adobe AMF0 spec §2; markers in types.ts). Size first, one allocation
 * (docs/architecture.md §1.7 rule 2). Strings longer than 65535 UTF-8 bytes become long strings (0x0C).
 * Object keys are limited to 65535 UTF-8 bytes by the format; longer keys, nesting beyond
 * MAX_AMF0_DEPTH (also catches cycles) and unencodable values throw `LalError` (`amf0-encode`).
 */
import { LalError } from '../../core/errors.ts';
import { utf8Length } from '../../core/bytes.ts';
import { Amf0EcmaArray, Amf0Marker, MAX_AMF0_DEPTH, type Amf0Value } from './types.ts';

const utf8 = new TextEncoder();

function encodeError(msg: string): LalError {
  return new LalError('amf0-encode', `amf0: ${msg}`);
}

function entriesOf(v: Amf0Value): Record<string, Amf0Value> {
  return v instanceof Amf0EcmaArray ? v.entries : (v as Record<string, Amf0Value>);
}

function propertiesSize(obj: Record<string, Amf0Value>, depth: number): number {
  let n = 3; // 00 00 09
  for (const k of Object.keys(obj)) {
    const kl = utf8Length(k);
    if (kl > 0xffff) throw encodeError(`object key of ${kl} bytes exceeds 65535`);
    n += 2 + kl + valueSize(obj[k], depth);
  }
  return n;
}

function valueSize(v: Amf0Value, depth: number): number {
  if (depth > MAX_AMF0_DEPTH) throw encodeError(`nesting deeper than ${MAX_AMF0_DEPTH} (cycle?)`);
  switch (typeof v) {
    case 'number':
      return 9;
    case 'boolean':
      return 2;
    case 'string': {
      const l = utf8Length(v);
      return l > 0xffff ? 5 + l : 3 + l;
    }
    case 'undefined':
      return 1;
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Date) return 11;
      if (Array.isArray(v)) {
        let n = 5;
        for (const e of v) n += valueSize(e, depth + 1);
        return n;
      }
      if (v instanceof Amf0EcmaArray) return 5 + propertiesSize(v.entries, depth + 1);
      return 1 + propertiesSize(v, depth + 1);
    }
    default:
      throw encodeError(`cannot encode a ${typeof v}`);
  }
}

class Amf0Writer {
  readonly view: DataView;
  constructor(readonly out: Uint8Array, public off: number) {
    this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }

  str(s: string, len: number): void {
    if (len === s.length) {
      // ASCII: write directly.
      const o = this.out;
      let p = this.off;
      for (let i = 0; i < len; i++) o[p++] = s.charCodeAt(i);
    } else {
      utf8.encodeInto(s, this.out.subarray(this.off, this.off + len));
    }
    this.off += len;
  }

  properties(obj: Record<string, Amf0Value>): void {
    for (const k of Object.keys(obj)) {
      const kl = utf8Length(k);
      this.view.setUint16(this.off, kl);
      this.off += 2;
      this.str(k, kl);
      this.value(obj[k]);
    }
    this.out[this.off++] = 0;
    this.out[this.off++] = 0;
    this.out[this.off++] = Amf0Marker.ObjectEnd;
  }

  value(v: Amf0Value): void {
    const o = this.out;
    switch (typeof v) {
      case 'number':
        o[this.off++] = Amf0Marker.Number;
        this.view.setFloat64(this.off, v);
        this.off += 8;
        return;
      case 'boolean':
        o[this.off++] = Amf0Marker.Boolean;
        o[this.off++] = v ? 1 : 0;
        return;
      case 'string': {
        const l = utf8Length(v);
        if (l > 0xffff) {
          o[this.off++] = Amf0Marker.LongString;
          this.view.setUint32(this.off, l);
          this.off += 4;
        } else {
          o[this.off++] = Amf0Marker.String;
          this.view.setUint16(this.off, l);
          this.off += 2;
        }
        this.str(v, l);
        return;
      }
      case 'undefined':
        o[this.off++] = Amf0Marker.Undefined;
        return;
      default:
        break;
    }
    if (v === null) {
      o[this.off++] = Amf0Marker.Null;
    } else if (v instanceof Date) {
      o[this.off++] = Amf0Marker.Date;
      this.view.setFloat64(this.off, v.getTime());
      this.view.setInt16(this.off + 8, 0);
      this.off += 10;
    } else if (Array.isArray(v)) {
      o[this.off++] = Amf0Marker.StrictArray;
      this.view.setUint32(this.off, v.length);
      this.off += 4;
      for (const e of v) this.value(e);
    } else if (v instanceof Amf0EcmaArray) {
      o[this.off++] = Amf0Marker.EcmaArray;
      this.view.setUint32(this.off, Object.keys(v.entries).length);
      this.off += 4;
      this.properties(v.entries);
    } else {
      o[this.off++] = Amf0Marker.Object;
      this.properties(entriesOf(v));
    }
  }
}

/** Encoded size of the values, in bytes. */
export function encodeAmf0Size(...values: Amf0Value[]): number {
  let n = 0;
  for (const v of values) n += valueSize(v, 0);
  return n;
}

/** Encode `values` into `out` at `off` (which must have room, see encodeAmf0Size); returns bytes written. */
export function encodeAmf0Into(values: readonly Amf0Value[], out: Uint8Array, off: number): number {
  const w = new Amf0Writer(out, off);
  for (const v of values) w.value(v);
  return w.off - off;
}

/** Encode consecutive AMF0 values into one new buffer. */
export function encodeAmf0(...values: Amf0Value[]): Uint8Array {
  const out = new Uint8Array(encodeAmf0Size(...values));
  encodeAmf0Into(values, out, 0);
  return out;
}
