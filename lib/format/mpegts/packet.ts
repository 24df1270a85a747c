/**
 * MPEG-TS packets (ISO/IEC 13818-1 §2.4.3.2–§2.4.3.5): header and adaptation field codec, and
 * the PES packetiser every TS output shares (docs/media.md §4.6). `packetizePes` is the TS
 * fan-out hot path (once per frame, shared by HTTP-TS players, HLS and TS recording): it
 * computes the packet count first and writes into one buffer, with no per-packet allocation.
 *
 *   header (4 bytes)
 *   +--------+---+----+---+-------+----------+-----+----+
 *   | sync 8 |TEI|PUSI|pri| PID 13| scramb 2 |AFC 2|CC 4|
 *   +--------+---+----+---+-------+----------+-----+----+
 *   adaptation field (AFC 2 or 3)
 *   | adaptation_field_length 8 | disc | RAI | ESPI | PCR | OPCR | splice | priv | ext |
 *   | [PCR: base 33 | reserved 6 = 111111 | extension 9] [OPCR …] … stuffing 0xFF |
 */
import { ParseError } from '../../core/errors.ts';
import { encodePesHeaderInto, pesHeaderSize } from './pes.ts';
import { TS_PACKET_SIZE } from './types.ts';

export const TS_SYNC_BYTE = 0x47;
export const TS_HEADER_SIZE = 4;
/** Payload room of a packet without adaptation field. */
export const TS_PAYLOAD_SIZE = TS_PACKET_SIZE - TS_HEADER_SIZE;
/** The PCR field: 33-bit base, 6 reserved bits, 9-bit extension. */
export const PCR_SIZE = 6;

/** adaptation_field_control (Table 2-5). 0 is reserved. */
export const TsAdaptationFieldControl = { Payload: 1, Adaptation: 2, Both: 3 } as const;

/** Adaptation field flag bits (§2.4.3.4). */
export const AdaptationFlag = {
  Discontinuity: 0x80,
  RandomAccess: 0x40,
  EsPriority: 0x20,
  Pcr: 0x10,
  Opcr: 0x08,
  SplicingPoint: 0x04,
  PrivateData: 0x02,
  Extension: 0x01,
} as const;

export interface TsPacketHeader {
  transportError: boolean;
  payloadUnitStart: boolean;
  priority: boolean;
  pid: number;
  scrambling: number;
  adaptationFieldControl: number;
  continuityCounter: number;
}

export interface TsAdaptationField {
  /** adaptation_field_length (bytes after the length byte). */
  length: number;
  discontinuity: boolean;
  randomAccess: boolean;
  /** PCR base (90 kHz, 33 bits), when PCR_flag is set. */
  pcr?: number;
  /** PCR extension (27 MHz remainder, 0..299), when PCR_flag is set. */
  pcrExtension?: number;
}

export interface TsPacket {
  header: TsPacketHeader;
  adaptation?: TsAdaptationField;
  /** The payload bytes (a view, possibly empty). */
  payload: Uint8Array;
}

/**
 * Parse the 188-byte packet at `off`. Throws ParseError when the packet is cut short, the sync
 * byte is wrong, adaptation_field_control is the reserved 0, or the adaptation field overruns
 * the packet.
 */
export function decodeTsPacket(buf: Uint8Array, off = 0): TsPacket {
  if (off < 0 || off + TS_PACKET_SIZE > buf.length) {
    throw new ParseError(`mpegts: packet at offset ${off} needs ${TS_PACKET_SIZE} bytes, have ${Math.max(0, buf.length - off)}`, 'truncated');
  }
  if (buf[off] !== TS_SYNC_BYTE) throw new ParseError(`mpegts: sync byte 0x${buf[off].toString(16)} at offset ${off} is not 0x47`);
  const b1 = buf[off + 1];
  const b3 = buf[off + 3];
  const header: TsPacketHeader = {
    transportError: (b1 & 0x80) !== 0,
    payloadUnitStart: (b1 & 0x40) !== 0,
    priority: (b1 & 0x20) !== 0,
    pid: ((b1 & 0x1f) << 8) | buf[off + 2],
    scrambling: b3 >> 6,
    adaptationFieldControl: (b3 >> 4) & 3,
    continuityCounter: b3 & 0x0f,
  };
  const afc = header.adaptationFieldControl;
  if (afc === 0) throw new ParseError(`mpegts: PID 0x${header.pid.toString(16)} uses the reserved adaptation_field_control 0`);
  const end = off + TS_PACKET_SIZE;
  let p = off + TS_HEADER_SIZE;
  let adaptation: TsAdaptationField | undefined;
  if (afc & TsAdaptationFieldControl.Adaptation) {
    const length = buf[p];
    // AFC 2: the field fills the packet (183); AFC 3: at most 182 so one payload byte remains.
    const max = afc === TsAdaptationFieldControl.Adaptation ? TS_PAYLOAD_SIZE - 1 : TS_PAYLOAD_SIZE - 2;
    if (length > max) {
      throw new ParseError(`mpegts: adaptation_field_length ${length} on PID 0x${header.pid.toString(16)} exceeds ${max}`);
    }
    adaptation = { length, discontinuity: false, randomAccess: false };
    if (length > 0) {
      const flags = buf[p + 1];
      adaptation.discontinuity = (flags & AdaptationFlag.Discontinuity) !== 0;
      adaptation.randomAccess = (flags & AdaptationFlag.RandomAccess) !== 0;
      if (flags & AdaptationFlag.Pcr) {
        if (length < 1 + PCR_SIZE) throw new ParseError(`mpegts: adaptation field of ${length} bytes is too short for its PCR`);
        adaptation.pcr = decodePcrBase(buf, p + 2);
        adaptation.pcrExtension = ((buf[p + 6] & 1) << 8) | buf[p + 7];
      }
    }
    p += 1 + length;
  }
  const payload = afc & TsAdaptationFieldControl.Payload ? buf.subarray(p, end) : buf.subarray(end, end);
  return adaptation ? { header, adaptation, payload } : { header, payload };
}

/** Write a 4-byte packet header at `off`; returns 4. */
export function encodeTsPacketHeaderInto(
  h: { pid: number; payloadUnitStart: boolean; adaptationFieldControl: number; continuityCounter: number },
  out: Uint8Array,
  off: number,
): number {
  out[off] = TS_SYNC_BYTE;
  out[off + 1] = (h.payloadUnitStart ? 0x40 : 0) | ((h.pid >> 8) & 0x1f);
  out[off + 2] = h.pid & 0xff;
  out[off + 3] = ((h.adaptationFieldControl & 3) << 4) | (h.continuityCounter & 0x0f);
  return TS_HEADER_SIZE;
}

function decodePcrBase(buf: Uint8Array, off: number): number {
  return buf[off] * 2 ** 25 + buf[off + 1] * 2 ** 17 + buf[off + 2] * 2 ** 9 + buf[off + 3] * 2 + (buf[off + 4] >> 7);
}

/**
 * Write a PCR whose base is `base` (modulo 2^33), reserved bits all 1 and extension 0, as LAL
 * does (docs/media.md §4.6): `base>>25, base>>17, base>>9, base>>1, (base&1)<<7 | 7E, 00`. Returns 6.
 */
export function encodePcrInto(base: number, out: Uint8Array, off: number): number {
  let v = base % 2 ** 33;
  if (v < 0) v += 2 ** 33;
  v = Math.floor(v);
  out[off] = Math.floor(v / 2 ** 25) & 0xff;
  out[off + 1] = Math.floor(v / 2 ** 17) & 0xff;
  out[off + 2] = Math.floor(v / 2 ** 9) & 0xff;
  out[off + 3] = Math.floor(v / 2) & 0xff;
  out[off + 4] = ((v & 1) << 7) | 0x7e;
  out[off + 5] = 0;
  return PCR_SIZE;
}

/** One PES to packetise. */
export interface PesPacketizeInput {
  pid: number;
  streamId: number;
  /** 90 kHz as written into the PES (callers add any offset such as LAL's +63000). */
  pts: number;
  /** Written only when present and different from `pts`. */
  dts?: number;
  /** When set, the first packet's adaptation field carries this PCR base (90 kHz). */
  pcr?: number;
  /** random_access_indicator on the first packet (LAL sets it together with the PCR). */
  randomAccess?: boolean;
  /**
   * The PES payload: pieces written back to back (no need to concatenate first), or a writer
   * that produces it straight into the packetiser's buffer (e.g. ADTS headers and frames, with no
   * views made of either).
   */
  payload: readonly Uint8Array[] | PesPayloadWriter;
}

/** A PES payload its producer writes itself: exactly `length` bytes at `out[off…]`. */
export interface PesPayloadWriter {
  readonly length: number;
  writeInto(out: Uint8Array, off: number): void;
}

function isPayloadWriter(p: readonly Uint8Array[] | PesPayloadWriter): p is PesPayloadWriter {
  return !Array.isArray(p);
}

/** Length of the first packet's own adaptation data (flags byte + PCR), 0 when it has none. */
function firstAdaptationData(input: PesPacketizeInput): number {
  if (input.pcr !== undefined) return 1 + PCR_SIZE;
  return input.randomAccess ? 1 : 0;
}

function payloadLength(parts: readonly Uint8Array[] | PesPayloadWriter): number {
  if (isPayloadWriter(parts)) return parts.length;
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i].length;
  return n;
}

/**
 * Number of 188-byte packets a PES of `payloadLength` bytes takes, given its PES header size and
 * the first packet's adaptation data (flags + PCR, without the length byte; 0 for none).
 * Always at least 1 (an empty payload still carries its PES header).
 */
export function tsPacketCount(payloadLength: number, pesHeaderLength: number, firstAdaptationDataLength: number): number {
  const firstRoom = TS_PAYLOAD_SIZE - pesHeaderLength - (firstAdaptationDataLength > 0 ? 1 + firstAdaptationDataLength : 0);
  if (payloadLength <= firstRoom) return 1;
  return 1 + Math.ceil((payloadLength - firstRoom) / TS_PAYLOAD_SIZE);
}

/** Bytes `packetizePes` produces for `input`. */
export function packetizedSize(input: PesPacketizeInput): number {
  const len = payloadLength(input.payload);
  const header = pesHeaderSize({ streamId: input.streamId, payloadLength: len, pts: input.pts, dts: input.dts });
  return tsPacketCount(len, header, firstAdaptationData(input)) * TS_PACKET_SIZE;
}

/**
 * Split one PES into TS packets written at `out[off…]` (docs/media.md §4.6): PUSI on the first
 * packet; continuity counter incremented before each packet starting from `lastCc` (so a new
 * PID passes 0 and its first packet has CC 1); the first packet carries the adaptation field
 * (random access + PCR) when asked; the last packet is padded through its adaptation field —
 * an existing field grows and `FF` follows its data, otherwise a field of length stuffing−1
 * with flags `00` and `FF`s is added (one stuffing byte is just `adaptation_field_length 0`).
 * Returns the bytes written and the CC of the last packet.
 */
export function packetizePesInto(
  input: PesPacketizeInput,
  lastCc: number,
  out: Uint8Array,
  off: number,
): { written: number; cc: number } {
  const total = payloadLength(input.payload);
  const pesLen = pesHeaderSize({ streamId: input.streamId, payloadLength: total, pts: input.pts, dts: input.dts });
  const afData = firstAdaptationData(input);
  const count = tsPacketCount(total, pesLen, afData);
  const cc = writePackets(input, lastCc, out, off, total, pesLen, afData, count);
  return { written: count * TS_PACKET_SIZE, cc };
}

/**
 * `packetizePesInto` into memory of exactly the right size from `alloc` (default: a new buffer,
 * one allocation; a file writer can hand out room in its own buffer instead).
 */
export function packetizePes(
  input: PesPacketizeInput,
  lastCc: number,
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): { bytes: Uint8Array; cc: number } {
  const total = payloadLength(input.payload);
  const pesLen = pesHeaderSize({ streamId: input.streamId, payloadLength: total, pts: input.pts, dts: input.dts });
  const afData = firstAdaptationData(input);
  const count = tsPacketCount(total, pesLen, afData);
  const bytes = alloc(count * TS_PACKET_SIZE);
  const cc = writePackets(input, lastCc, bytes, 0, total, pesLen, afData, count);
  return { bytes, cc };
}

/** Parts up to this size are copied byte by byte: cheaper than a native `set` call for them. */
const SMALL_PART = 16;

/** The packets of `packetizePesInto`, sizes computed by the caller; returns the last CC. */
function writePackets(
  input: PesPacketizeInput,
  lastCc: number,
  out: Uint8Array,
  off: number,
  total: number,
  pesLen: number,
  afData: number,
  count: number,
): number {
  const size = count * TS_PACKET_SIZE;
  if (off < 0 || off + size > out.length) {
    throw new ParseError(`mpegts: ${count} packets do not fit at offset ${off} of ${out.length}`, 'truncated');
  }
  // Gather the payload at the end of the output region, then move each packet's share forward
  // into place (a byte never moves backwards: every packet adds overhead before its payload),
  // so each packet costs one copyWithin and no allocation. This runs once per frame for every
  // TS output, and `lal remux` runs it cold: the loops below keep native calls and branches per
  // packet to a minimum (the first and last packets, which carry the headers and the stuffing,
  // are written outside the loop of full middle packets).
  const parts = input.payload;
  let src = off + size - total;
  if (isPayloadWriter(parts)) parts.writeInto(out, src);
  else {
    for (let i = 0, o = src; i < parts.length; i++) {
      const part = parts[i];
      const n = part.length;
      if (n <= SMALL_PART) for (let k = 0; k < n; k++) out[o + k] = part[k];
      else out.set(part, o);
      o += n;
    }
  }
  const pidHi = (input.pid >> 8) & 0x1f;
  const pidLo = input.pid & 0xff;
  let cc = lastCc & 0x0f;
  let remaining = total;
  let p = off;

  // The first packet: PUSI, its own adaptation data (random access, PCR), the PES header, and
  // stuffing when the whole PES fits in it.
  {
    cc = (cc + 1) & 0x0f;
    const headRoom = TS_PAYLOAD_SIZE - pesLen - (afData > 0 ? 1 + afData : 0);
    const n = remaining < headRoom ? remaining : headRoom;
    const stuffing = headRoom - n;
    const dst = p + TS_PACKET_SIZE - n;
    if (dst !== src && n > 0) out.copyWithin(dst, src, src + n);
    src += n;
    remaining -= n;
    let w = writeHeaderAndAf(out, p, 0x40 | pidHi, pidLo, cc, afData, stuffing, input);
    encodePesHeaderInto({ streamId: input.streamId, payloadLength: total, pts: input.pts, dts: input.dts }, out, w);
    p += TS_PACKET_SIZE;
  }
  // Full middle packets: 4-byte header, 184 payload bytes.
  const b3 = (TsAdaptationFieldControl.Payload << 4);
  while (remaining > TS_PAYLOAD_SIZE) {
    cc = (cc + 1) & 0x0f;
    out.copyWithin(p + TS_HEADER_SIZE, src, src + TS_PAYLOAD_SIZE);
    out[p] = TS_SYNC_BYTE;
    out[p + 1] = pidHi;
    out[p + 2] = pidLo;
    out[p + 3] = b3 | cc;
    src += TS_PAYLOAD_SIZE;
    remaining -= TS_PAYLOAD_SIZE;
    p += TS_PACKET_SIZE;
  }
  // The last packet: the rest of the payload, padded through its adaptation field.
  if (remaining > 0) {
    cc = (cc + 1) & 0x0f;
    const n = remaining;
    const dst = p + TS_PACKET_SIZE - n;
    if (dst !== src) out.copyWithin(dst, src, src + n);
    writeHeaderAndAf(out, p, pidHi, pidLo, cc, 0, TS_PAYLOAD_SIZE - n, input);
  }
  return cc;
}

/**
 * Packet header and adaptation field at `p`: own adaptation data (`afData` bytes: flags, PCR)
 * then `stuffing` bytes; an existing field grows and `FF` follows its data, otherwise a field of
 * length stuffing−1 with flags `00` and `FF`s is added (one stuffing byte is just
 * `adaptation_field_length 0`). Returns where the payload starts.
 */
function writeHeaderAndAf(out: Uint8Array, p: number, b1: number, pidLo: number, cc: number, afData: number, stuffing: number, input: PesPacketizeInput): number {
  const hasAf = afData > 0 || stuffing > 0;
  out[p] = TS_SYNC_BYTE;
  out[p + 1] = b1;
  out[p + 2] = pidLo;
  out[p + 3] = ((hasAf ? TsAdaptationFieldControl.Both : TsAdaptationFieldControl.Payload) << 4) | cc;
  let w = p + TS_HEADER_SIZE;
  if (afData > 0) {
    out[w++] = afData + stuffing; // adaptation_field_length
    out[w++] = (input.randomAccess || input.pcr !== undefined ? AdaptationFlag.RandomAccess : 0) | (input.pcr !== undefined ? AdaptationFlag.Pcr : 0);
    if (input.pcr !== undefined) w += encodePcrInto(input.pcr, out, w);
    out.fill(0xff, w, w + stuffing);
    w += stuffing;
  } else if (stuffing > 0) {
    out[w++] = stuffing - 1; // adaptation_field_length
    if (stuffing >= 2) {
      out[w++] = 0; // no flags
      out.fill(0xff, w, w + stuffing - 2);
      w += stuffing - 2;
    }
  }
  return w;
}
