/**
 * AMF0 decoder (Adobe AMF0 spec §2; docs/protocols.md §2.4 "AMF0 types understood").
 * Pure functions over Uint8Array; every malformed input throws `ParseError` (`amf0: …`).
 *
 *   value        = marker(u8) payload
 *   number  00   f64 big-endian
 *   boolean 01   u8 (non-zero = true)
 *   string  02   u16 length + UTF-8
 *   object  03   *(u16 key length + key + value) 00 00 09
 *   null 05, undefined 06, unsupported 0D (decoded as undefined, LAL accepts it)
 *   ecma    08   u32 count (advisory) + properties as object + 00 00 09
 *   strict  0A   u32 count + count values
 *   date    0B   f64 ms since epoch + s16 time zone (reserved, ignored)
 *   long    0C   u32 length + UTF-8
 * Movie clip, reference, record set, XML, typed object and AVM+ are rejected.
 */
import { ParseError } from '../../core/errors.ts';
import {
  Amf0EcmaArray,
  Amf0Marker,
  MAX_AMF0_DEPTH,
  MAX_AMF0_ELEMENTS,
  type Amf0DecodeOptions,
  type Amf0Value,
} from './types.ts';

const utf8 = new TextDecoder('utf-8');

class Amf0Reader {
  readonly view: DataView;
  off: number;
  constructor(readonly buf: Uint8Array, off: number, readonly keepEcma: boolean) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.off = off;
  }

  need(n: number, what: string): void {
    if (this.off + n > this.buf.length) {
      throw new ParseError(
        `amf0: truncated ${what} at offset ${this.off} (need ${n} bytes, have ${Math.max(0, this.buf.length - this.off)})`,
        'truncated',
      );
    }
  }

  u16(): number {
    const b = this.buf;
    const v = (b[this.off] << 8) | b[this.off + 1];
    this.off += 2;
    return v;
  }

  u32(): number {
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }

  utf8(n: number, what: string): string {
    this.need(n, what);
    const b = this.buf;
    const start = this.off;
    const end = start + n;
    this.off = end;
    // ASCII fast path: command names, keys and most metadata values.
    if (n <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (b[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
    }
    return utf8.decode(b.subarray(start, end));
  }

  shortString(what: string): string {
    this.need(2, `${what} length`);
    return this.utf8(this.u16(), what);
  }

  value(depth: number): Amf0Value {
    this.need(1, 'type marker');
    const at = this.off;
    const marker = this.buf[this.off++];
    switch (marker) {
      case Amf0Marker.Number: {
        this.need(8, 'number');
        const v = this.view.getFloat64(this.off);
        this.off += 8;
        return v;
      }
      case Amf0Marker.Boolean:
        this.need(1, 'boolean');
        return this.buf[this.off++] !== 0;
      case Amf0Marker.String:
        return this.shortString('string');
      case Amf0Marker.LongString: {
        this.need(4, 'long string length');
        return this.utf8(this.u32(), 'long string');
      }
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Object:
        return this.properties(depth + 1, at, -1);
      case Amf0Marker.EcmaArray: {
        this.need(4, 'ECMA array count');
        const count = this.u32();
        const entries = this.properties(depth + 1, at, count);
        return this.keepEcma ? new Amf0EcmaArray(entries) : entries;
      }
      case Amf0Marker.StrictArray: {
        if (depth + 1 > MAX_AMF0_DEPTH) throw new ParseError(`amf0: nesting deeper than ${MAX_AMF0_DEPTH} at offset ${at}`);
        this.need(4, 'strict array count');
        const count = this.u32();
        // Each element takes at least one byte: a count beyond the bytes present is a lie.
        if (count > MAX_AMF0_ELEMENTS || count > this.buf.length - this.off) {
          throw new ParseError(`amf0: strict array count ${count} at offset ${at} exceeds the data or limit ${MAX_AMF0_ELEMENTS}`);
        }
        const arr: Amf0Value[] = new Array(count);
        for (let i = 0; i < count; i++) arr[i] = this.value(depth + 1);
        return arr;
      }
      case Amf0Marker.Date: {
        this.need(10, 'date');
        const ms = this.view.getFloat64(this.off);
        this.off += 10; // time zone s16 is reserved (AMF0 §2.13)
        return new Date(ms);
      }
      case Amf0Marker.ObjectEnd:
        throw new ParseError(`amf0: object end marker outside an object at offset ${at}`);
      default:
        throw new ParseError(`amf0: unsupported type 0x${marker.toString(16).padStart(2, '0')} at offset ${at}`, 'unsupported');
    }
  }

  /**
   * Properties up to the `00 00 09` terminator. `count` ≥ 0 is an ECMA array's advisory count:
   * encoders are known to write wrong counts, so the terminator decides; but an ECMA array whose
   * `count` entries end exactly at the end of the buffer without a terminator is accepted.
   */
  properties(depth: number, at: number, count: number): Record<string, Amf0Value> {
    if (depth > MAX_AMF0_DEPTH) throw new ParseError(`amf0: nesting deeper than ${MAX_AMF0_DEPTH} at offset ${at}`);
    const obj: Record<string, Amf0Value> = {};
    const b = this.buf;
    let n = 0;
    for (;;) {
      if (count >= 0 && n === count && this.off === b.length) return obj;
      this.need(3, 'object property or end');
      if (b[this.off] === 0 && b[this.off + 1] === 0 && b[this.off + 2] === Amf0Marker.ObjectEnd) {
        this.off += 3;
        return obj;
      }
      if (++n > MAX_AMF0_ELEMENTS) throw new ParseError(`amf0: object at offset ${at} has more than ${MAX_AMF0_ELEMENTS} properties`);
      const key = this.shortString('property name');
      const v = this.value(depth);
      if (key === '__proto__') {
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        obj[key] = v;
      }
    }
  }
}

/** Decode one AMF0 value at `offset`; returns it and the offset just past it. */
export function decodeAmf0(
  buf: Uint8Array,
  offset = 0,
  opts: Amf0DecodeOptions = {},
): { value: Amf0Value; offset: number } {
  const r = new Amf0Reader(buf, offset, opts.keepEcma === true);
  const value = r.value(0);
  return { value, offset: r.off };
}

/** Decode consecutive AMF0 values until the end of `buf` (a command or data message body). */
export function decodeAmf0All(buf: Uint8Array, opts: Amf0DecodeOptions = {}): Amf0Value[] {
  const r = new Amf0Reader(buf, 0, opts.keepEcma === true);
  const out: Amf0Value[] = [];
  while (r.off < buf.length) {
    if (out.length >= MAX_AMF0_ELEMENTS) throw new ParseError(`amf0: more than ${MAX_AMF0_ELEMENTS} top-level values`);
    out.push(r.value(0));
  }
  return out;
}
