/**
 * FlvReader: push parser for an FLV byte stream (file or HTTP-FLV body), Adobe FLV spec v10.1
 * annex E. Feed chunks as they arrive; complete tags come back, the unconsumed tail is kept
 * (docs/architecture.md §1.5). Output does not depend on how the input was split.
 *
 * Ownership: a tag body is a view of the chunk it arrived in when it lies in one chunk (a copy
 * only when it spans chunks that are not consecutive views of one buffer), so callers must not
 * reuse a chunk buffer after feeding it.
 * PreviousTagSize fields are skipped, not checked: writers in the wild get them wrong and the
 * DataSize in the tag header is what delimits tags.
 */
import { ByteStash, u24be } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { decodeFlvHeader, FLV_HEADER_SIZE, type FlvHeader } from './header.ts';
import { FLV_PREV_TAG_SIZE_SIZE, FLV_TAG_HEADER_SIZE, MAX_FLV_TAG_SIZE, type FlvTag } from './tag.ts';

export interface FlvReaderOptions {
  /** The stream starts with the 9-byte FLV header and PreviousTagSize0 (default true). */
  expectHeader?: boolean;
  /** Largest tag body accepted (default MAX_FLV_TAG_SIZE); larger throws ParseError. */
  maxTagSize?: number;
}

type State = 'header' | 'header-rest' | 'tag-header' | 'tag-body';

export class FlvReader {
  /** The decoded FLV header, once seen (undefined with `expectHeader: false`). */
  header: FlvHeader | undefined;
  // The stash holds at most one incomplete tag between feeds (bounded by maxTagSize); the
  // chunk being parsed is the caller's memory already, so the stash itself is not limited.
  private readonly stash = new ByteStash(Number.MAX_SAFE_INTEGER, 'flv');
  private readonly maxTagSize: number;
  private state: State;
  private tagType = 0;
  private tagTimestamp = 0;
  private tagSize = 0;
  /** What the stash holds when it is one unconsumed end of a chunk (see `feed`). */
  private tail: Uint8Array | undefined;

  constructor(opts: FlvReaderOptions = {}) {
    this.state = opts.expectHeader === false ? 'tag-header' : 'header';
    this.maxTagSize = opts.maxTagSize ?? MAX_FLV_TAG_SIZE;
  }

  /** Bytes received but not yet returned as tags (including a parsed but incomplete tag's header). */
  get pendingBytes(): number {
    const partial = this.state === 'tag-body' ? FLV_TAG_HEADER_SIZE : this.state === 'header-rest' ? FLV_HEADER_SIZE : 0;
    return this.stash.length + partial;
  }

  /** Consume `chunk` and return every tag it completes (possibly none). */
  feed(input: Uint8Array): FlvTag[] {
    const tags: FlvTag[] = [];
    const s = this.stash;
    let chunk = input;
    const tail = this.tail;
    this.tail = undefined;
    // Consecutive views of one buffer (a mapped file fed piece by piece): the stashed end of the
    // last chunk and this one are joined as one view rather than copied.
    if (tail && s.length === tail.length && tail.byteOffset + tail.length === input.byteOffset && tail.buffer === input.buffer) {
      s.clear();
      chunk = new Uint8Array(input.buffer, tail.byteOffset, tail.length + input.length);
    }
    let pos = 0;
    for (;;) {
      // Whole tags lying in the chunk (the usual case): header and body read in place, one
      // tight loop per chunk (`lal remux` runs this cold, in the interpreter, for every tag).
      if (this.state === 'tag-header' && s.length === 0) {
        const end = chunk.length;
        const max = this.maxTagSize;
        while (pos + FLV_TAG_HEADER_SIZE <= end) {
          const size = (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) | chunk[pos + 3];
          const bodyAt = pos + FLV_TAG_HEADER_SIZE;
          if (size > max || bodyAt + size + FLV_PREV_TAG_SIZE_SIZE > end) break;
          const timestamp = ((chunk[pos + 4] << 16) | (chunk[pos + 5] << 8) | chunk[pos + 6] | (chunk[pos + 7] << 24)) >>> 0;
          tags.push({ type: chunk[pos] & 0x1f, timestamp, body: size === 0 ? new Uint8Array(0) : chunk.subarray(bodyAt, bodyAt + size) });
          pos = bodyAt + size + FLV_PREV_TAG_SIZE_SIZE;
        }
      }
      // Each step consumes one item of known size: read in place from the chunk when the stash
      // is empty and the chunk holds all of it (the usual case), else gathered in the stash.
      const want = this.itemSize();
      let src: Uint8Array;
      let at: number;
      if (s.length === 0 && chunk.length - pos >= want) {
        src = chunk;
        at = pos;
        pos += want;
      } else {
        const k = Math.min(want - s.length, chunk.length - pos);
        if (k > 0) {
          const piece = chunk.subarray(pos, pos + k);
          if (s.length === 0 && pos + k === chunk.length) this.tail = piece;
          s.push(piece);
        }
        pos += k;
        if (s.length < want) return tags;
        src = s.take(want);
        at = 0;
      }
      switch (this.state) {
        case 'header':
          this.header = decodeFlvHeader(src.subarray(at, at + FLV_HEADER_SIZE));
          this.state = 'header-rest'; // header extension (DataOffset beyond 9) and PreviousTagSize0
          break;
        case 'header-rest':
          this.state = 'tag-header';
          break;
        case 'tag-header':
          this.tagType = src[at] & 0x1f;
          this.tagSize = u24be(src, at + 1);
          this.tagTimestamp = (u24be(src, at + 4) + src[at + 7] * 0x1000000) >>> 0;
          if (this.tagSize > this.maxTagSize) {
            throw new ParseError(`flv: tag size ${this.tagSize} exceeds ${this.maxTagSize}`, 'too-large');
          }
          this.state = 'tag-body';
          break;
        case 'tag-body':
          // the body, then the PreviousTagSize (skipped)
          tags.push({ type: this.tagType, timestamp: this.tagTimestamp, body: this.tagSize === 0 ? new Uint8Array(0) : src.subarray(at, at + this.tagSize) });
          this.state = 'tag-header';
          break;
      }
    }
  }

  /** Bytes of the item the parser is waiting for. */
  private itemSize(): number {
    switch (this.state) {
      case 'header': return FLV_HEADER_SIZE;
      case 'header-rest': return this.header!.dataOffset - FLV_HEADER_SIZE + FLV_PREV_TAG_SIZE_SIZE;
      case 'tag-header': return FLV_TAG_HEADER_SIZE;
      case 'tag-body': return this.tagSize + FLV_PREV_TAG_SIZE_SIZE;
    }
  }
}
