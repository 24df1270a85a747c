/**
 * The A/V timestamp queue of RTSP inputs that carry both depacketisable audio and video
 * (docs/media.md §6.2, LAL's AvPacketQueue with rotation handling).
 *
 * 1. Each track is rebased on its own: its first packet gets 0, every later one
 *    previous_output + (dts − previous_input); a step below −1000 ms (a wrap or a jump back,
 *    bigger than B-frame reordering) reuses the previous step instead; a negative result
 *    becomes 0.
 * 2. Packets leave merged in timestamp order: while both queues hold packets the smaller front
 *    goes first; on a tie the packet queued earlier goes first (audio when the new packet is
 *    video, video otherwise). Each queue holds up to 128 packets; when one fills while the other
 *    is empty (a track went quiet) it is flushed as is.
 *
 * Works on AvPackets in 90 kHz ticks (LAL works in ms, so its −1000 threshold is −90000 here);
 * the pts − dts offset of each packet is kept.
 */
import type { AvPacket } from '../../core/packet.ts';

/** Per-track queue length (LAL's maxQueueSize). */
export const AV_QUEUE_SIZE = 128;
/** A step back larger than this (1000 ms) is a wrap or a jump, not B-frame reordering. */
export const AV_QUEUE_JUMP_BACK = 90000;

interface TrackState {
  prevIn: number;
  prevOut: number;
  prevStep: number;
  started: boolean;
  queue: AvPacket[];
}

export class AvTimestampQueue {
  private readonly audio: TrackState = newTrack();
  private readonly video: TrackState = newTrack();

  constructor(readonly size = AV_QUEUE_SIZE) {}

  /** Add one packet; returns the packets now released, in output order. */
  push(pkt: AvPacket): AvPacket[] {
    const isAudio = pkt.kind === 'audio';
    const t = isAudio ? this.audio : this.video;
    const dts = rebase(t, pkt.dts);
    t.queue.push(dts === pkt.dts ? pkt : { ...pkt, dts, pts: dts + (pkt.pts - pkt.dts) });

    const out: AvPacket[] = [];
    const a = this.audio.queue;
    const v = this.video.queue;
    while (a.length > 0 && v.length > 0) {
      const ad = a[0].dts;
      const vd = v[0].dts;
      if (ad < vd || (ad === vd && !isAudio)) out.push(a.shift()!);
      else out.push(v.shift()!);
    }
    if (v.length >= this.size) out.push(...v.splice(0));
    else if (a.length >= this.size) out.push(...a.splice(0));
    return out;
  }

  /** Release everything queued (end of stream): merged while both have packets, then the rest. */
  flush(): AvPacket[] {
    const out: AvPacket[] = [];
    const a = this.audio.queue;
    const v = this.video.queue;
    while (a.length > 0 && v.length > 0) out.push(a[0].dts <= v[0].dts ? a.shift()! : v.shift()!);
    out.push(...a.splice(0), ...v.splice(0));
    return out;
  }

  /** Packets waiting: [audio, video]. */
  get pending(): [number, number] {
    return [this.audio.queue.length, this.video.queue.length];
  }
}

function newTrack(): TrackState {
  return { prevIn: 0, prevOut: 0, prevStep: 0, started: false, queue: [] };
}

function rebase(t: TrackState, dts: number): number {
  if (!t.started) {
    t.started = true;
    t.prevIn = dts;
    t.prevOut = 0;
    return 0;
  }
  const step = dts - t.prevIn;
  t.prevIn = dts;
  let out: number;
  if (step < -AV_QUEUE_JUMP_BACK) {
    out = t.prevOut + t.prevStep;
  } else {
    out = t.prevOut + step;
    t.prevStep = step;
  }
  if (out < 0) out = 0;
  t.prevOut = out;
  return out;
}
