/**
 * SDP data model (RFC 8866, formerly RFC 4566) as used by RTSP (RFC 2326 §C) and the tracks lal
 * derives from it (docs/media.md §6.1).
 *
 * The model is line-faithful: `lines` (session level) and each media's `lines` hold every line in
 * the order received, so `serializeSdp(parseSdp(text))` reproduces well-formed text byte for
 * byte. The other fields are read-only views that `parseSdp` computes from those lines
 * (`rtpmaps`, `fmtps`, `control`, `connection`, `bandwidths`, `attributes`); `serializeSdp`
 * ignores them, so edit `lines` when you want different output.
 */

/** One `<type>=<value>` line (RFC 8866 §5), without the line ending. */
export interface SdpLine {
  type: string;
  value: string;
}

/** `a=<name>` or `a=<name>:<value>` (RFC 8866 §5.13). */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8), e.g. `AS` and kbit/s. */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2). */
export interface SdpOrigin {
  username: string;
  /** Kept as text: cameras send ids above 2^53 (`16513881941979867928`). */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866 §6.6). */
export interface SdpRtpmap {
  payloadType: number;
  /** As written (`H264`, `mpeg4-generic`, `opus`). */
  encoding: string;
  clockRate: number;
  /** Encoding parameters: the channel count for audio, when present. */
  channels?: number;
}

/**
 * `a=fmtp:<format> <param>=<value>;…` parameters. Keys are lower-cased (RFC 6184 §8.1 and RFC 3640
 * §4.1 parameter names are case-insensitive; Hikvision writes `SizeLength`); values are trimmed
 * and kept as written (base64 `=` padding included). A key without `=` maps to ''.
 */
export type SdpFmtp = Record<string, string>;

export interface SdpMedia {
  /** `video`, `audio`, `application`, … */
  media: string;
  port: number;
  /** `m=<media> <port>/<number of ports> …` */
  portCount?: number;
  /** `RTP/AVP`, `RTP/AVPF`, … */
  proto: string;
  /** Payload formats as written; RTP payload type numbers for RTP profiles. */
  formats: string[];
  /** Every line after the `m=` line up to the next `m=`, in order. */
  lines: SdpLine[];
  // ---- views computed by parseSdp ----
  attributes: SdpAttribute[];
  rtpmaps: SdpRtpmap[];
  /** Keyed by payload type; several `a=fmtp` lines for one type are merged (later keys win). */
  fmtps: Map<number, SdpFmtp>;
  /** First `a=control` value (trimmed): relative (`trackID=1`, `streamid=0`) or absolute URL. */
  control?: string;
  /** `c=` value, e.g. `IN IP4 0.0.0.0`. */
  connection?: string;
  bandwidths: SdpBandwidth[];
}

export interface Sdp {
  /** Session-level lines (`v=`, `o=`, `s=`, `c=`, `t=`, `a=`, …) in order. */
  lines: SdpLine[];
  media: SdpMedia[];
  // ---- views computed by parseSdp ----
  /** `v=` value; absent when the line is missing (some SDPs start with `a=tool`). */
  version?: number;
  origin?: SdpOrigin;
  sessionName?: string;
  /** Session-level `a=control` (often `*` or the base URL). */
  control?: string;
  connection?: string;
  bandwidths: SdpBandwidth[];
  attributes: SdpAttribute[];
}

/** Codecs lal tells apart in an SDP (docs/media.md §6.1); `mpa` is recognised but not depacketised. */
export type SdpCodec = 'h264' | 'h265' | 'aac' | 'g711a' | 'g711u' | 'opus' | 'mpa' | 'other';

/** One `m=` line reduced to what an RTP receiver or sender needs (docs/media.md §6.1). */
export interface SdpTrack {
  /** The media type of the `m=` line (`video`, `audio`, `application`, …). */
  kind: string;
  /** The first payload type of the `m=` line: the only one lal uses. */
  payloadType: number;
  /** rtpmap encoding name as written, '' when there is no rtpmap for the payload type. */
  encoding: string;
  codec: SdpCodec;
  clockRate: number;
  /** rtpmap encoding parameters as a channel count; 1 when absent (RFC 8866 §6.6). */
  channels: number;
  control?: string;
  fmtp: SdpFmtp;
  /** From `sprop-parameter-sets` (H.264) or `sprop-sps` (H.265), when present and decodable. */
  sps?: Uint8Array[];
  pps?: Uint8Array[];
  /** From `sprop-vps` (H.265). */
  vps?: Uint8Array[];
  /** AAC AudioSpecificConfig from `config=` (4 or more even hex digits). */
  asc?: Uint8Array;
}
