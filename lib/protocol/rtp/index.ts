/** RTP/RTCP (RFC 3550) and the H.264/H.265/AAC/G.711/Opus payload formats, sans-I/O. Re-exports only. */
export {
  RTP_VERSION,
  RTP_HEADER_SIZE,
  TICKS_PER_SECOND,
  decodeRtpPacket,
  encodeRtpPacket,
  encodeRtpPacketInto,
  rtpPacketSize,
  rtpHeaderSize,
  writeRtpHeader,
  rtpTimestampFromTicks,
  ticksFromRtpTimestamp,
  RtpTimestampUnwrapper,
  seqAfter,
} from './packet.ts';
export type { RtpHeader, RtpHeaderExtension, RtpPacket } from './packet.ts';
export {
  RtcpPacketType,
  decodeRtcpPackets,
  encodeRtcpPackets,
  encodeRtcpPacketInto,
  rtcpPacketSize,
  RtpReceptionStats,
} from './rtcp.ts';
export type { RtcpPacket, RtcpSenderReport, RtcpReceiverReport, RtcpOtherPacket, RtcpReportBlock } from './rtcp.ts';
export { NTP_UNIX_OFFSET_SECONDS, ntpFromUnixMs, unixMsFromNtp, ntpMiddle32, ntpShortFromMs } from './ntp.ts';
export type { NtpTimestamp } from './ntp.ts';
export { H264RtpType, h264Payloads, h264RtpStartsAccessPoint, H264Depacketizer } from './h264.ts';
export type { H264DepacketizerOptions } from './h264.ts';
export { H265RtpType, h265Payloads, h265RtpStartsAccessPoint, H265Depacketizer } from './h265.ts';
export type { H265DepacketizerOptions } from './h265.ts';
export { AAC_HBR, MAX_AAC_HBR_AU_SIZE, aacAuHeaderConfig, aacPayload, AacDepacketizer } from './aac.ts';
export type { AacAuHeaderConfig, AacDepacketizerOptions } from './aac.ts';
export { simplePayload, SimpleDepacketizer } from './simple.ts';
export type { SimpleRtpCodec, SimpleDepacketizerOptions } from './simple.ts';
export { RtpPacketizer, setInterleavedChannel, DEFAULT_RTP_MAX_PAYLOAD, INTERLEAVED_HEADER_SIZE } from './packetizer.ts';
export type { RtpCodec, RtpPacketizerOptions, RtpBatch } from './packetizer.ts';
export { RtpDepacketizer, depacketizerForTrack, totalDrops } from './depacketizer.ts';
export type { RtpDepacketizerOptions, RtpDropCounters } from './depacketizer.ts';
export { MAX_FRAGMENTED_NALU_SIZE, MAX_FRAGMENTS_PER_AU, MAX_AU_BYTES, PIECE_OVERHEAD_BYTES } from './_nal-au.ts';
export { RtpReorderBuffer, DEFAULT_REORDER_WINDOW, REORDER_RESYNC_AFTER } from './reorder.ts';
export type { ReorderStats } from './reorder.ts';
export { AvTimestampQueue, AV_QUEUE_SIZE, AV_QUEUE_JUMP_BACK } from './av-queue.ts';
