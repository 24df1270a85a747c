/**
 * RTP → AvPacket for one track, choosing the payload format from the codec (docs/media.md §6.1).
 * Input must be in sequence order (TCP interleaved as received, UDP through RtpReorderBuffer).
 */
import { LalError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import type { SdpFmtp, SdpTrack } from '../../format/sdp/types.ts';
import type { RtpPacket } from './packet.ts';
import type { RtpCodec } from './packetizer.ts';
import type { RtpDropCounters } from './_nal-au.ts';
import { H264Depacketizer } from './h264.ts';
import { H265Depacketizer } from './h265.ts';
import { AacDepacketizer, aacAuHeaderConfig } from './aac.ts';
import { SimpleDepacketizer } from './simple.ts';

export type { RtpDropCounters } from './_nal-au.ts';
export { totalDrops } from './_nal-au.ts';

export interface RtpDepacketizerOptions {
  codec: RtpCodec;
  clockRate: number;
  /** When set, packets of other payload types are counted in `drops.payloadType` and ignored. */
  payloadType?: number;
  /** SDP fmtp of the track: AAC AU-header widths (`sizelength`, …); AAC-hbr when absent. */
  fmtp?: SdpFmtp;
}

interface Impl {
  readonly drops: RtpDropCounters;
  readonly heldBytes: number;
  push(pkt: RtpPacket): AvPacket[];
  flush(): AvPacket[];
}

/**
 * One track's depacketiser. `push` returns the AvPackets completed by the packet (often none,
 * sometimes several); it never throws on packet content — what it cannot use is counted in
 * `drops`. The constructor throws (LalError/ParseError) on options it cannot honour.
 */
export class RtpDepacketizer {
  readonly codec: RtpCodec;
  private readonly impl: Impl;

  constructor(opts: RtpDepacketizerOptions) {
    if (!(opts.clockRate > 0)) throw new LalError('rtp-options', `rtp: clock rate ${opts.clockRate} is not positive`);
    this.codec = opts.codec;
    const { clockRate, payloadType } = opts;
    switch (opts.codec) {
      case 'h264':
        this.impl = new H264Depacketizer({ clockRate, payloadType });
        break;
      case 'h265':
        this.impl = new H265Depacketizer({ clockRate, payloadType });
        break;
      case 'aac':
        this.impl = new AacDepacketizer({ clockRate, payloadType, auHeader: aacAuHeaderConfig(opts.fmtp ?? {}) });
        break;
      case 'g711a':
      case 'g711u':
      case 'opus':
        this.impl = new SimpleDepacketizer({ codec: opts.codec, clockRate, payloadType });
        break;
      default:
        throw new LalError('rtp-options', `rtp: no depacketiser for codec ${String(opts.codec)}`);
    }
  }

  get drops(): RtpDropCounters {
    return this.impl.drops;
  }

  /**
   * Bytes held for the access unit in assembly (pieces charged their overhead). Bounded by
   * MAX_AU_BYTES for H.264/H.265 and by the announced AU size (< 64 KiB) for AAC: past its
   * bound an access unit is dropped and counted in `drops.tooLarge`, the stream goes on.
   */
  get heldBytes(): number {
    return this.impl.heldBytes;
  }

  push(pkt: RtpPacket): AvPacket[] {
    return this.impl.push(pkt);
  }

  /** Emit what is still pending (end of stream). */
  flush(): AvPacket[] {
    return this.impl.flush();
  }
}

const DEPACKETISABLE: ReadonlySet<string> = new Set(['h264', 'h265', 'aac', 'g711a', 'g711u', 'opus']);

/**
 * The depacketiser for an SDP track, or undefined when lal does not depacketise its codec
 * (`mpa`, `other`). Whether an AAC track without `config=` is usable is the caller's decision.
 */
export function depacketizerForTrack(track: SdpTrack): RtpDepacketizer | undefined {
  if (!DEPACKETISABLE.has(track.codec)) return undefined;
  return new RtpDepacketizer({ codec: track.codec as RtpCodec, clockRate: track.clockRate, payloadType: track.payloadType, fmtp: track.fmtp });
}
