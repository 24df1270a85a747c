/**
 * RTMP chunk stream → messages, as a push parser (RTMP spec §5.3; docs/protocols.md §2.2;
 * docs/architecture.md §1.5). Each message body is allocated once at its declared length and filled in
 * place chunk by chunk; completed bodies are owned by the caller.
 *
 *   basic header (1–3 bytes)            message header (fmt 0: 11, 1: 7, 2: 3, 3: 0 bytes)
 *   +-----+-------+                     +-----------+-----------+------+------------------+
 *   | fmt | csid  | [csid-64 (1 or 2)]  | timestamp | length    | type | stream id (LE)   |
 *   | 2b  | 6b    |                     | u24       | u24       | u8   | u32   (fmt 0)    |
 *   +-----+-------+                     +-----------+-----------+------+------------------+
 *   csid 0 → one more byte (64 + b); csid 1 → two more bytes (64 + b0 + 256·b1).
 *   fmt 0: absolute timestamp; fmt 1/2: delta; fmt 3: nothing.
 *   timestamp field = FFFFFF → a u32 extended timestamp follows, and also follows every fmt-3
 *   chunk of that chunk stream until the next header with a smaller value.
 *
 * Peer variants handled:
 * - fmt-3 continuation chunks of an extended-timestamp message: the spec (and Flash, modern
 *   ffmpeg/OBS) repeat the 4-byte extended timestamp; some librtmp/old ffmpeg builds omit it.
 *   If the 4 bytes are not the value of the message's first chunk, they are payload.
 *   (Consequence: such a sender's last chunk may wait for 4 bytes of the next chunk.)
 * - fmt 3 starting a new message re-applies the last timestamp field as a delta (for a
 *   preceding fmt 0 that field is the absolute value, as ffmpeg and LAL read it).
 * - A fmt 0/1/2 header on a chunk stream with a partly assembled message drops that message
 *   (an implicit Abort) instead of failing the connection.
 */
import { ParseError } from '../../core/errors.ts';
import { u24be, u32be, u32le } from '../../core/bytes.ts';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CHUNK_STREAMS, MAX_MESSAGE_LENGTH, RtmpMsgType } from './constants.ts';

/** One complete RTMP message. */
export interface RtmpMessage {
  /** Chunk stream id it arrived on. */
  csid: number;
  /** Message type id (RtmpMsgType). */
  type: number;
  /** Absolute timestamp in ms (uint32, wraps). */
  timestamp: number;
  /** Message stream id. */
  streamId: number;
  /** The body; owned by the receiver (aggregate sub-messages are views of the aggregate's body). */
  body: Uint8Array;
}

interface ChunkStream {
  csid: number;
  /** Absolute timestamp of the current/last message. */
  timestamp: number;
  /** Last timestamp field (fmt 1/2 delta, fmt 0 absolute), extended value when extended. */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** The last fmt 0/1/2 header used the extended timestamp field. */
  extended: boolean;
  extValue: number;
  /** Message being assembled, or undefined between messages. */
  body: Uint8Array | undefined;
  filled: number;
}

const MESSAGE_HEADER_LEN = [11, 7, 3, 0] as const;
const EXT_TS = 0xffffff;

export class RtmpChunkReader {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly maxLen: number;
  private readonly streams = new Map<number, ChunkStream>();
  /** Header bytes collected so far (≤ 3 + 11 + 4). */
  private readonly hdr = new Uint8Array(18);
  private hdrHave = 0;
  /** Chunk stream whose chunk payload is being read; undefined while reading a header. */
  private cur: ChunkStream | undefined;
  private chunkRemain = 0;
  /** Sum of declared lengths of messages being assembled. */
  private pending = 0;
  private _bytesRead = 0;

  constructor(opts: { maxMessageLength?: number } = {}) {
    this.maxLen = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  }

  /** Every byte fed so far. */
  get bytesRead(): number {
    return this._bytesRead;
  }

  /** Current peer chunk size (128 until a Set Chunk Size arrives). */
  get peerChunkSize(): number {
    return this.chunkSize;
  }

  /** Consume `chunk`; returns the messages it completed (possibly none). Throws ParseError. */
  feed(chunk: Uint8Array): RtmpMessage[] {
    this._bytesRead += chunk.length;
    const out: RtmpMessage[] = [];
    const n = chunk.length;
    let pos = 0;
    for (;;) {
      const st = this.cur;
      if (st === undefined) {
        let need = this.headerNeed();
        while (this.hdrHave < need) {
          if (pos >= n) return out;
          this.hdr[this.hdrHave++] = chunk[pos++];
          need = this.headerNeed();
        }
        this.onHeader(out);
        continue;
      }
      const take = Math.min(this.chunkRemain, n - pos);
      if (take > 0) {
        (st.body as Uint8Array).set(chunk.subarray(pos, pos + take), st.filled);
        st.filled += take;
        pos += take;
        this.chunkRemain -= take;
      }
      if (this.chunkRemain > 0) return out;
      this.endChunk(st, out);
    }
  }

  /** Header length known from the bytes collected so far (grows as fields arrive). */
  private headerNeed(): number {
    const have = this.hdrHave;
    if (have === 0) return 1;
    const h = this.hdr;
    const low = h[0] & 0x3f;
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    const fmt = h[0] >> 6;
    const need = basic + MESSAGE_HEADER_LEN[fmt];
    if (have < need) return need;
    if (fmt < 3) return u24be(h, basic) === EXT_TS ? need + 4 : need;
    const st = this.streams.get(csidOf(h, low));
    return st !== undefined && st.extended ? need + 4 : need;
  }

  private onHeader(out: RtmpMessage[]): void {
    const h = this.hdr;
    const fmt = h[0] >> 6;
    const low = h[0] & 0x3f;
    const csid = csidOf(h, low);
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    this.hdrHave = 0;
    let st = this.streams.get(csid);
    if (st === undefined) {
      if (fmt !== 0) throw new ParseError(`rtmp: chunk fmt ${fmt} on csid ${csid} without a previous fmt 0 header`);
      if (this.streams.size >= MAX_CHUNK_STREAMS) {
        throw new ParseError(`rtmp: more than ${MAX_CHUNK_STREAMS} chunk streams (csid ${csid})`);
      }
      st = { csid, timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, extValue: 0, body: undefined, filled: 0 };
      this.streams.set(csid, st);
    }
    if (fmt < 3) {
      const field = u24be(h, basic);
      const ext = field === EXT_TS;
      const value = ext ? u32be(h, basic + MESSAGE_HEADER_LEN[fmt]) : field;
      if (st.body !== undefined) this.drop(st);
      if (fmt <= 1) {
        st.length = u24be(h, basic + 3);
        st.type = h[basic + 6];
        if (fmt === 0) st.streamId = u32le(h, basic + 7);
      }
      st.extended = ext;
      st.extValue = value;
      st.timestamp = fmt === 0 ? value : (st.timestamp + value) >>> 0;
      st.delta = value;
      this.startMessage(st, out);
      return;
    }
    if (st.body === undefined) {
      // fmt 3 starting a new message with the previous header.
      if (st.extended) {
        st.extValue = u32be(h, basic);
        st.delta = st.extValue;
      }
      st.timestamp = (st.timestamp + st.delta) >>> 0;
      this.startMessage(st, out);
      return;
    }
    // fmt 3 continuation chunk.
    this.cur = st;
    this.chunkRemain = Math.min(this.chunkSize, st.length - st.filled);
    if (st.extended && u32be(h, basic) !== st.extValue) {
      // The sender omitted the extended timestamp here: those 4 bytes are payload, and any
      // beyond this chunk's payload start the next chunk header.
      const k = Math.min(4, this.chunkRemain);
      st.body.set(h.subarray(basic, basic + k), st.filled);
      st.filled += k;
      this.chunkRemain -= k;
      if (k < 4) {
        h.copyWithin(0, basic + k, basic + 4);
        this.hdrHave = 4 - k;
      }
    }
  }

  private startMessage(st: ChunkStream, out: RtmpMessage[]): void {
    const len = st.length;
    if (len > this.maxLen) {
      throw new ParseError(`rtmp: message length ${len} on csid ${st.csid} exceeds limit ${this.maxLen}`, 'too-large');
    }
    if (len === 0) {
      this.complete(st, new Uint8Array(0), out);
      return;
    }
    if (this.pending + len > 2 * this.maxLen) {
      throw new ParseError(`rtmp: ${this.pending + len} bytes of interleaved messages being assembled exceed ${2 * this.maxLen}`, 'too-large');
    }
    st.body = new Uint8Array(len);
    st.filled = 0;
    this.pending += len;
    this.cur = st;
    this.chunkRemain = Math.min(this.chunkSize, len);
  }

  private endChunk(st: ChunkStream, out: RtmpMessage[]): void {
    this.cur = undefined;
    if (st.filled < st.length) return;
    const body = st.body as Uint8Array;
    st.body = undefined;
    this.pending -= st.length;
    this.complete(st, body, out);
  }

  private drop(st: ChunkStream): void {
    if (st.body === undefined) return;
    this.pending -= st.length;
    st.body = undefined;
    st.filled = 0;
  }

  private complete(st: ChunkStream, body: Uint8Array, out: RtmpMessage[]): void {
    const msg: RtmpMessage = { csid: st.csid, type: st.type, timestamp: st.timestamp, streamId: st.streamId, body };
    switch (st.type) {
      case RtmpMsgType.SetChunkSize:
        if (body.length >= 4) {
          const v = u32be(body, 0) & 0x7fffffff;
          if (v === 0 || v > MAX_CHUNK_SIZE) throw new ParseError(`rtmp: chunk size ${v} is invalid (1..${MAX_CHUNK_SIZE})`);
          this.chunkSize = v;
        }
        out.push(msg);
        return;
      case RtmpMsgType.Abort:
        if (body.length >= 4) {
          const other = this.streams.get(u32be(body, 0));
          if (other !== undefined) this.drop(other);
        }
        out.push(msg);
        return;
      case RtmpMsgType.Aggregate:
        splitAggregate(msg, out);
        return;
      default:
        out.push(msg);
    }
  }
}

function csidOf(h: Uint8Array, low: number): number {
  return low === 0 ? 64 + h[1] : low === 1 ? 64 + h[1] + 256 * h[2] : low;
}

/**
 * Aggregate message (RTMP spec §7.1.6): FLV-tag-like sub-messages, each followed by a 4-byte
 * back pointer. Sub-timestamps are rebased on the aggregate's timestamp (docs/protocols.md §2.2);
 * sub-messages keep the aggregate's csid and stream id; bodies are views. A missing final
 * back pointer is tolerated.
 *
 *   type(1) size(3) timestamp(3) ts-high(1) stream id(3) | body(size) | back pointer(4)
 */
function splitAggregate(agg: RtmpMessage, out: RtmpMessage[]): void {
  const b = agg.body;
  let off = 0;
  let base = -1;
  while (off < b.length) {
    if (b.length - off < 11) throw new ParseError(`rtmp: aggregate sub-message header truncated at offset ${off} of ${b.length}`);
    const type = b[off];
    const size = u24be(b, off + 1);
    const ts = (u24be(b, off + 4) | (b[off + 7] << 24)) >>> 0;
    off += 11;
    if (size > b.length - off) throw new ParseError(`rtmp: aggregate sub-message of ${size} bytes at offset ${off} exceeds the aggregate (${b.length})`);
    if (base < 0) base = ts;
    out.push({ csid: agg.csid, type, timestamp: (agg.timestamp + ts - base) >>> 0, streamId: agg.streamId, body: b.subarray(off, off + size) });
    off += size;
    const left = b.length - off;
    if (left >= 4) off += 4;
    else if (left > 0) throw new ParseError(`rtmp: aggregate back pointer truncated at offset ${off}`);
  }
}
