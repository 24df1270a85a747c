/**
 * FLV video tag header (Adobe FLV spec v10.1 annex E.4.3.1, legacy HEVC codec id 12 as LAL and
 * ffmpeg's forks use it) and the enhanced-RTMP ExVideoTagHeader (veovera enhanced-rtmp v1/v2,
 * docs/protocols.md §2.6). Pure: returns where the payload starts; never copies.
 *
 * Classic (bit 7 of byte 0 clear):
 *   byte 0: FrameType(4) CodecID(4)      e.g. 17 = key frame + AVC, 2C = inter frame + HEVC(12)
 *   AVC/HEVC only: byte 1 AVCPacketType (0 sequence header, 1 NALUs, 2 end of sequence),
 *                  bytes 2..4 CompositionTime SI24 (ms); payload at 5
 * Enhanced (bit 7 set):
 *   byte 0: 1 FrameType(3) PacketType(4); bytes 1..4 FourCC ('avc1', 'hvc1', 'av01', 'vp09', …)
 *   PacketType 0 SequenceStart (config record at 5), 1 CodedFrames (avc1/hvc1: SI24 cts at 5,
 *   data at 8; other FourCCs: data at 5), 2 SequenceEnd, 3 CodedFramesX (cts 0, data at 5),
 *   4 Metadata (AMF), 5 MPEG2TSSequenceStart; 6 Multitrack and 7 ModEx (v2) are opaque here.
 */
import { need, u24be } from '../../core/bytes.ts';

/** FrameType (E.4.3.1; enhanced-RTMP keeps the values). */
export const FlvVideoFrameType = { Key: 1, Inter: 2, DisposableInter: 3, GeneratedKey: 4, Command: 5 } as const;
/** CodecID (E.4.3.1) plus the de-facto legacy HEVC id 12. */
export const FlvVideoCodecId = { Avc: 7, Hevc: 12 } as const;
/** AVCPacketType (E.4.3.1), also used by legacy HEVC. */
export const FlvAvcPacketType = { SequenceHeader: 0, Nalu: 1, EndOfSequence: 2 } as const;
/** Enhanced-RTMP VideoPacketType. */
export const FlvExVideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;
/** Bit 7 of byte 0: IsExHeader. */
export const FLV_EX_HEADER_BIT = 0x80;

export interface FlvVideoTagInfo {
  enhanced: boolean;
  frameType: number;
  /** 7 AVC, 12 HEVC (legacy); for enhanced tags the legacy id of the FourCC (7/12) or 0. */
  codecId: number;
  /** Enhanced tags only (not for Multitrack/ModEx/command frames). */
  fourcc?: string;
  packetType: 'seq' | 'nalu' | 'eos' | 'other';
  /** Composition time offset, ms, signed 24-bit; 0 when the header has none. */
  cts: number;
  /** Where the AVCC/HVCC data or the decoder configuration record starts. */
  dataOffset: number;
  codec: 'h264' | 'h265' | 'other';
}

function si24(b: Uint8Array, o: number): number {
  return (u24be(b, o) << 8) >> 8;
}

function fourccOf(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

/** Parse the video tag header of `body`. Throws ParseError (code `truncated`) when it is cut short. */
export function parseFlvVideoTag(body: Uint8Array): FlvVideoTagInfo {
  need(body, 0, 1, 'flv: video tag');
  const b0 = body[0];
  if ((b0 & FLV_EX_HEADER_BIT) === 0) return parseClassic(body, b0);
  const frameType = (b0 >> 4) & 0x07;
  const pt = b0 & 0x0f;
  const info: FlvVideoTagInfo = {
    enhanced: true, frameType, codecId: 0, packetType: 'other', cts: 0, dataOffset: 1, codec: 'other',
  };
  // Multitrack and ModEx put other fields before the FourCC; a command frame carries a command
  // byte. All three are forwarded opaquely (docs/quirks.md Q-RTMP-1).
  if (pt === FlvExVideoPacketType.Multitrack || pt === FlvExVideoPacketType.ModEx || frameType === FlvVideoFrameType.Command) {
    return info;
  }
  need(body, 1, 4, 'flv: enhanced video tag FourCC');
  const fourcc = fourccOf(body, 1);
  info.fourcc = fourcc;
  info.dataOffset = 5;
  if (fourcc === 'avc1') {
    info.codec = 'h264';
    info.codecId = FlvVideoCodecId.Avc;
  } else if (fourcc === 'hvc1') {
    info.codec = 'h265';
    info.codecId = FlvVideoCodecId.Hevc;
  }
  switch (pt) {
    case FlvExVideoPacketType.SequenceStart:
      info.packetType = 'seq';
      break;
    case FlvExVideoPacketType.CodedFrames:
      info.packetType = 'nalu';
      if (info.codec !== 'other') {
        need(body, 5, 3, 'flv: enhanced video tag composition time');
        info.cts = si24(body, 5);
        info.dataOffset = 8;
      }
      break;
    case FlvExVideoPacketType.CodedFramesX:
      info.packetType = 'nalu';
      break;
    case FlvExVideoPacketType.SequenceEnd:
      info.packetType = 'eos';
      break;
    default: // Metadata, MPEG2TSSequenceStart, reserved
      break;
  }
  return info;
}

function parseClassic(body: Uint8Array, b0: number): FlvVideoTagInfo {
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  const codec = codecId === FlvVideoCodecId.Avc ? 'h264' : codecId === FlvVideoCodecId.Hevc ? 'h265' : 'other';
  if (codec === 'other' || frameType === FlvVideoFrameType.Command) {
    // Sorenson/VP6/… or a video info/command frame: no AVCPacketType, forwarded opaquely.
    return { enhanced: false, frameType, codecId, packetType: 'other', cts: 0, dataOffset: 1, codec: codec };
  }
  need(body, 1, 4, 'flv: AVC/HEVC video tag header');
  const apt = body[1];
  const packetType = apt === FlvAvcPacketType.SequenceHeader ? 'seq'
    : apt === FlvAvcPacketType.Nalu ? 'nalu'
    // ffmpeg ends a stream with `17 02 00 00 00` (lal#115): a benign end of sequence
    : apt === FlvAvcPacketType.EndOfSequence ? 'eos'
    : 'other';
  return { enhanced: false, frameType, codecId, packetType, cts: si24(body, 2), dataOffset: 5, codec };
}
