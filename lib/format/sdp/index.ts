/** SDP (RFC 8866): parse, serialize, track extraction and lal's generated SDP. Re-exports only. */
export type { Sdp, SdpLine, SdpAttribute, SdpBandwidth, SdpOrigin, SdpRtpmap, SdpFmtp, SdpMedia, SdpCodec, SdpTrack } from './types.ts';
export {
  parseSdp,
  sdpTracks,
  parseRtpmap,
  parseFmtpLine,
  parseFmtpParams,
  decodeBase64,
  STATIC_PAYLOAD_TYPES,
  MAX_SDP_SIZE,
  MAX_SDP_LINES,
  MAX_SDP_MEDIA,
} from './parse.ts';
export { serializeSdp, mediaLineValue } from './serialize.ts';
export { generateSdp, RtpOutPayloadType } from './generate.ts';
export type { GenerateSdpOptions, GeneratedSdp } from './generate.ts';
