/**
 * FlvReader: push parser for an FLV byte stream (file or HTTP-FLV body), Adobe FLV spec v10.1
 * annex E. Feed chunks as they arrive; complete tags come back, the unconsumed tail is kept
 * (design.md §1.5). Output does not depend on how the input was split.
 *
 * Ownership: a tag body is a view of the chunk it arrived in when it lies in one chunk (a copy
 * only when it spans chunks), so callers must not reuse a chunk buffer after feeding it.
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
  feed(chunk: Uint8Array): FlvTag[] {
    this.stash.push(chunk);
    const tags: FlvTag[] = [];
    const s = this.stash;
    for (;;) {
      switch (this.state) {
        case 'header': {
          if (s.length < FLV_HEADER_SIZE) return tags;
          this.header = decodeFlvHeader(s.take(FLV_HEADER_SIZE));
          this.state = 'header-rest';
          break;
        }
        case 'header-rest': {
          // header extension (DataOffset beyond 9) and PreviousTagSize0
          const rest = this.header!.dataOffset - FLV_HEADER_SIZE + FLV_PREV_TAG_SIZE_SIZE;
          if (s.length < rest) return tags;
          s.skip(rest);
          this.state = 'tag-header';
          break;
        }
        case 'tag-header': {
          if (s.length < FLV_TAG_HEADER_SIZE) return tags;
          const h = s.take(FLV_TAG_HEADER_SIZE);
          this.tagType = h[0] & 0x1f;
          this.tagSize = u24be(h, 1);
          this.tagTimestamp = (u24be(h, 4) + h[7] * 0x1000000) >>> 0;
          if (this.tagSize > this.maxTagSize) {
            throw new ParseError(`flv: tag size ${this.tagSize} exceeds ${this.maxTagSize}`, 'too-large');
          }
          this.state = 'tag-body';
          break;
        }
        case 'tag-body': {
          if (s.length < this.tagSize + FLV_PREV_TAG_SIZE_SIZE) return tags;
          const body = this.tagSize === 0 ? new Uint8Array(0) : s.take(this.tagSize);
          s.skip(FLV_PREV_TAG_SIZE_SIZE);
          tags.push({ type: this.tagType, timestamp: this.tagTimestamp, body });
          this.state = 'tag-header';
          break;
        }
      }
    }
  }
}
