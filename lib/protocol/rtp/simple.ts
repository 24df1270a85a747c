/**
 * Payload formats that carry one frame as the whole payload: G.711 A-law/µ-law (RFC 3551 §4.5.14,
 * static PTs 8 and 0) and Opus (RFC 7587 §4.2). docs/media.md §5.2 (one packet per frame) and §6.1
 * (payload as one frame).
 */
import type { AudioCodec, AvPacket } from '../../core/packet.ts';
import type { RtpPacket } from './packet.ts';
import { RtpTimestampUnwrapper, ticksFromRtpTimestamp } from './packet.ts';
import { newDropCounters } from './_nal-au.ts';
import type { RtpDropCounters } from './_nal-au.ts';

export type SimpleRtpCodec = Extract<AudioCodec, 'g711a' | 'g711u' | 'opus'>;

/** The payload of one packet: the frame itself. */
export function simplePayload(frame: Uint8Array): Uint8Array[] {
  return [frame];
}

export interface SimpleDepacketizerOptions {
  codec: SimpleRtpCodec;
  /** 8000 for G.711 (RFC 3551), 48000 for Opus (RFC 7587 §4.1). */
  clockRate: number;
  payloadType?: number;
}

/** RTP packets → one audio AvPacket per packet (the payload, as a view). */
export class SimpleDepacketizer {
  readonly drops: RtpDropCounters = newDropCounters();
  private readonly unwrapper = new RtpTimestampUnwrapper();

  constructor(private readonly opts: SimpleDepacketizerOptions) {}

  /** Nothing is held between packets. */
  readonly heldBytes = 0;

  push(pkt: RtpPacket): AvPacket[] {
    if (this.opts.payloadType !== undefined && pkt.header.payloadType !== this.opts.payloadType) {
      this.drops.payloadType++;
      return [];
    }
    const ts = this.unwrapper.unwrap(pkt.header.timestamp);
    if (pkt.payload.length === 0) {
      this.drops.empty++;
      return [];
    }
    const t = ticksFromRtpTimestamp(ts, this.opts.clockRate);
    return [{ kind: 'audio', codec: this.opts.codec, dts: t, pts: t, key: true, units: [pkt.payload] }];
  }

  flush(): AvPacket[] {
    return [];
  }
}
