/**
 * The SDP lal announces for a stream it remuxes to RTSP (docs/media.md §5.1, docs/tests.md §2 golden).
 * Byte-exact with LAL apart from the `a=tool:` version: video block first, `streamid` 0, 1 in
 * order, CRLF after every line. Quirk docs/quirks.md Q-SDP-1 (kept): H.264 always says
 * `profile-level-id=640016` and AAC always `/2` channels, whatever the stream really is.
 */
import { ParseError } from '../../core/errors.ts';
import type { TrackInfo } from '../../core/packet.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { decodeAsc } from '../../codec/aac/asc.ts';
import { parseSdp, sdpTracks } from './parse.ts';
import type { SdpTrack } from './types.ts';

/** RTP payload types of generated SDPs (docs/media.md §5.2); G.711 use their RFC 3551 static types. */
export const RtpOutPayloadType = {
  H264: 96,
  Aac: 97,
  H265: 98,
  Opus: 101,
  Pcma: 8,
  Pcmu: 0,
} as const;

export interface GenerateSdpOptions {
  /** Metadata `audiosamplerate`: the G.711/Opus clock (defaults 8000 and 48000). AAC uses its ASC. */
  audioSampleRate?: number;
}

export interface GeneratedSdp {
  text: string;
  /** The tracks of `text` as `sdpTracks(parseSdp(text))` sees them, video first. */
  tracks: SdpTrack[];
}

/**
 * Describe the H.264/H.265 video (with parameter sets) and AAC (with ASC) / G.711 / Opus audio of
 * `tracks`. A track lal cannot describe (no parameter sets, no ASC, other codec) is left out;
 * with nothing left, throws ParseError.
 */
export function generateSdp(tracks: TrackInfo, opts: GenerateSdpOptions = {}): GeneratedSdp {
  const blocks: string[] = [];
  const v = tracks.video;
  if (v) {
    // the video block, when present, is always streamid=0
    if (v.codec === 'h264' && v.sps.length > 0 && v.pps.length > 0) {
      const pt = RtpOutPayloadType.H264;
      blocks.push(
        `m=video 0 RTP/AVP ${pt}\n` +
          `a=rtpmap:${pt} H264/90000\n` +
          `a=fmtp:${pt} packetization-mode=1; sprop-parameter-sets=${base64(v.sps[0])},${base64(v.pps[0])}; profile-level-id=640016\n` +
          `a=control:streamid=0\n`,
      );
    } else if (v.codec === 'h265' && v.vps && v.vps.length > 0 && v.sps.length > 0 && v.pps.length > 0) {
      const pt = RtpOutPayloadType.H265;
      blocks.push(
        `m=video 0 RTP/AVP ${pt}\n` +
          `a=rtpmap:${pt} H265/90000\n` +
          `a=fmtp:${pt} profile-id=1;sprop-sps=${base64(v.sps[0])};sprop-pps=${base64(v.pps[0])};sprop-vps=${base64(v.vps[0])}\n` +
          `a=control:streamid=0\n`,
      );
    }
  }
  const a = tracks.audio;
  if (a) {
    const id = blocks.length;
    if (a.codec === 'aac' && a.asc && a.asc.length > 0) {
      const pt = RtpOutPayloadType.Aac;
      const rate = decodeAsc(a.asc).sampleRate;
      blocks.push(
        `m=audio 0 RTP/AVP ${pt}\n` +
          `b=AS:128\n` +
          `a=rtpmap:${pt} MPEG4-GENERIC/${rate}/2\n` +
          `a=fmtp:${pt} profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=${hex(a.asc)}\n` +
          `a=control:streamid=${id}\n`,
      );
    } else if (a.codec === 'g711a' || a.codec === 'g711u') {
      const pt = a.codec === 'g711a' ? RtpOutPayloadType.Pcma : RtpOutPayloadType.Pcmu;
      const name = a.codec === 'g711a' ? 'PCMA' : 'PCMU';
      blocks.push(`m=audio 0 RTP/AVP ${pt}\na=rtpmap:${pt} ${name}/${opts.audioSampleRate ?? 8000}\na=control:streamid=${id}\n`);
    } else if (a.codec === 'opus') {
      const pt = RtpOutPayloadType.Opus;
      blocks.push(`m=audio 0 RTP/AVP ${pt}\na=rtpmap:${pt} opus/${opts.audioSampleRate ?? 48000}/2\na=control:streamid=${id}\n`);
    }
  }
  if (blocks.length === 0) {
    throw new ParseError('sdp: no H.264/H.265 video with parameter sets and no AAC/G.711/Opus audio to describe', 'no-tracks');
  }
  const head = `v=0\no=- 0 0 IN IP4 127.0.0.1\ns=No Name\nc=IN IP4 127.0.0.1\nt=0 0\na=tool:lal ${LAL_VERSION}\n`;
  const text = (head + blocks.join('')).replaceAll('\n', '\r\n');
  return { text, tracks: sdpTracks(parseSdp(text)) };
}

function base64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s);
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}
