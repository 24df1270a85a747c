/**
 * Framers: shared packet → shared bytes for each byte-stream output (docs/architecture.md §1.4).
 * Each buffer is built once per packet (FanoutPacket.encodeOnce) and written to every player.
 */
import type { AvPacket } from '../core/packet.ts';
import { concat } from '../core/bytes.ts';
import { ticksToFlvMs } from '../core/timestamp.ts';
import { encodeRtmpMessage } from '../protocol/rtmp/chunk-writer.ts';
import { RtmpCsid, RtmpMsgType, OUT_CHUNK_SIZE } from '../protocol/rtmp/constants.ts';
import { encodeFlvTag } from '../format/flv/tag.ts';
import { encodeWsFrame, WsOpcode } from '../protocol/http/ws.ts';
import { avPacketToFlvBody, audioSeqHeaderBody, videoSeqHeaderBody } from '../remux/flv.ts';
import type { FanoutPacket, StreamHeaders } from './fanout.ts';
import type { Framer } from './output.ts';

/** RTMP/FLV timestamp in ms of a packet: `ticksToFlvMs` (exact for RTMP input: dts = ms × 90). */
export function packetMs(pkt: AvPacket): number {
  return ticksToFlvMs(pkt.dts);
}

export interface Tag {
  type: number;
  ts: number;
  body: Uint8Array;
}

/** Header tags in LAL's order: metadata, video sequence header, audio sequence header. */
export function headerTags(h: StreamHeaders, full: boolean): Tag[] {
  const t = h.tracks;
  const out: Tag[] = [];
  if (t.metadata && (full || h.changed.metadata)) out.push({ type: RtmpMsgType.DataAmf0, ts: 0, body: t.metadata });
  if (t.video && t.video.codec !== 'other' && (full || h.changed.video)) {
    out.push({ type: RtmpMsgType.Video, ts: 0, body: videoSeqHeaderBody(t.video) });
  }
  if (t.audio && (full || h.changed.audio)) {
    const b = audioSeqHeaderBody(t.audio);
    if (b) out.push({ type: RtmpMsgType.Audio, ts: 0, body: b });
  }
  return out;
}

function csidOf(type: number): number {
  return type === RtmpMsgType.Video ? RtmpCsid.Video : type === RtmpMsgType.Audio ? RtmpCsid.Audio : RtmpCsid.Stream;
}

function rtmpChunks(tag: Tag): Uint8Array {
  return encodeRtmpMessage({ csid: csidOf(tag.type), type: tag.type, timestamp: tag.ts, streamId: 1, body: tag.body }, OUT_CHUNK_SIZE);
}

const flvTypeOf = (pkt: AvPacket) => (pkt.kind === 'video' ? RtmpMsgType.Video : RtmpMsgType.Audio);

function encodeRtmp(pkt: AvPacket): Uint8Array {
  return rtmpChunks({ type: flvTypeOf(pkt), ts: packetMs(pkt), body: avPacketToFlvBody(pkt) });
}
function encodeFlv(pkt: AvPacket): Uint8Array {
  return encodeFlvTag(flvTypeOf(pkt), packetMs(pkt), avPacketToFlvBody(pkt));
}

/** RTMP players: fmt-0 chunks on csid 5/6/7, message stream id 1, chunk size 4096. */
export const rtmpFramer: Framer = {
  key: 'rtmp',
  headers: (h, full) =>
    h.encodeOnce(full ? 'rtmp:full' : 'rtmp:delta', () => concat(headerTags(h, full).map(rtmpChunks))),
  packet: (fp: FanoutPacket) => fp.encodeOnce('rtmp', encodeRtmp),
};

/** HTTP-FLV players: FLV tags (the FLV file header is written by the session at attach). */
export const flvFramer: Framer = {
  key: 'flv',
  headers: (h, full) => h.encodeOnce(full ? 'flv:full' : 'flv:delta', () => concat(headerTags(h, full).map((t) => encodeFlvTag(t.type, t.ts, t.body)))),
  packet: (fp: FanoutPacket) => fp.encodeOnce('flv', encodeFlv),
};

/** WebSocket-FLV players: each FLV tag is one binary frame (shared: server frames are unmasked). */
export const wsFlvFramer: Framer = {
  key: 'ws-flv',
  headers: (h, full) => {
    const tags = headerTags(h, full);
    if (tags.length === 0) return undefined;
    return h.encodeOnce(full ? 'ws-flv:full' : 'ws-flv:delta', () =>
      concat(tags.map((t) => encodeWsFrame(WsOpcode.Binary, encodeFlvTag(t.type, t.ts, t.body)))),
    );
  },
  packet: (fp: FanoutPacket) => fp.encodeOnce('ws-flv', () => encodeWsFrame(WsOpcode.Binary, flvFramer.packet(fp)!)),
};
