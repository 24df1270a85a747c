import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import type { TrackInfo, VideoTrack } from '../../core/packet.ts';
import { LAL_VERSION } from '../../core/version.ts';
import { generateSdp, parseSdp, sdpTracks, serializeSdp, parseFmtpParams, MAX_SDP_SIZE } from './index.ts';
import { fromBase64, fromHex, mulberry32, onlyParseError, toHex } from '../../core/testing.ts';

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
const hexOf = (b: Uint8Array | undefined) => (b ? toHex(b) : undefined);

// docs/tests.md §1/§2 fixture parameter sets: High 640x360 SPS, PPS and AAC-LC 44100 stereo ASC.
const FIXTURE_SPS = fromBase64('Z2QAFqyyAUBf8uAiAAADAAIAAAMAPB4sXJA=');
const FIXTURE_PPS = fromBase64('aOvDyyLA');
const FIXTURE_ASC = fromHex('121056e500');

// libx265 Main 1280x720 parameter sets (lib/codec vectors).
const H265_VPS = '40010c01ffff01600000030090000003000003005d959809';
const H265_SPS = '42010101600000030090000003000003005da00280802d165959a4932bc04040000003004000000642';
const H265_PPS = '4401c172b46240';

function video(codec: 'h264' | 'h265', sps: Uint8Array, pps: Uint8Array, vps?: Uint8Array): VideoTrack {
  const v: VideoTrack = { codec, width: 640, height: 360, profile: 'High', level: 2.2, sps: [sps], pps: [pps] };
  if (vps) v.vps = [vps];
  return v;
}

/** docs/tests.md §2 golden RTSP SDP (mode 0), with our own version in `a=tool:`. */
const GOLDEN = crlf(`v=0
o=- 0 0 IN IP4 127.0.0.1
s=No Name
c=IN IP4 127.0.0.1
t=0 0
a=tool:lal ${LAL_VERSION}
m=video 0 RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAFqyyAUBf8uAiAAADAAIAAAMAPB4sXJA=,aOvDyyLA; profile-level-id=640016
a=control:streamid=0
m=audio 0 RTP/AVP 97
b=AS:128
a=rtpmap:97 MPEG4-GENERIC/44100/2
a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056e500
a=control:streamid=1
`);

describe('generateSdp (docs/media.md §5.1)', () => {
  const av: TrackInfo = {
    video: video('h264', FIXTURE_SPS, FIXTURE_PPS),
    audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: FIXTURE_ASC },
  };

  test('reproduces the docs/tests.md §2 golden SDP byte for byte', () => {
    const { text, tracks } = generateSdp(av);
    expect(LAL_VERSION).toBe('0.1.0');
    expect(text).toBe(GOLDEN);
    expect(tracks.map((t) => [t.kind, t.codec, t.payloadType, t.clockRate, t.control])).toEqual([
      ['video', 'h264', 96, 90000, 'streamid=0'],
      ['audio', 'aac', 97, 44100, 'streamid=1'],
    ]);
    expect(hexOf(tracks[0].sps?.[0])).toBe(hexOf(FIXTURE_SPS));
    expect(hexOf(tracks[0].pps?.[0])).toBe(hexOf(FIXTURE_PPS));
    expect(hexOf(tracks[1].asc)).toBe('121056e500');
  });

  test('mode 1 (audio only) and mode 2 (video only)', () => {
    const head = GOLDEN.slice(0, GOLDEN.indexOf('m=video'));
    const videoBlock = GOLDEN.slice(GOLDEN.indexOf('m=video'), GOLDEN.indexOf('m=audio'));
    const audioBlock = GOLDEN.slice(GOLDEN.indexOf('m=audio'));
    expect(generateSdp({ audio: av.audio }).text).toBe(head + audioBlock.replace('streamid=1', 'streamid=0'));
    expect(generateSdp({ video: av.video }).text).toBe(head + videoBlock);
  });

  test('docs/quirks.md Q-SDP-1: profile-level-id and the /2 channel count are constants', () => {
    const { text } = generateSdp({
      video: video('h264', fromHex('6742c00dd90141fb011000000300100000030320f142a480'), fromHex('68cb83cb20')),
      audio: { codec: 'aac', sampleRate: 48000, channels: 1, asc: fromHex('1188') },
    });
    expect(text).toContain('sprop-parameter-sets=Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=; profile-level-id=640016\r\n');
    expect(text).toContain('a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n');
    expect(text).toContain('config=1188\r\n');
  });

  test('H.265 block: PT 98, sprop-sps/pps/vps', () => {
    const { text, tracks } = generateSdp({ video: video('h265', fromHex(H265_SPS), fromHex(H265_PPS), fromHex(H265_VPS)) });
    expect(text.slice(text.indexOf('m='))).toBe(
      crlf(`m=video 0 RTP/AVP 98
a=rtpmap:98 H265/90000
a=fmtp:98 profile-id=1;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=;sprop-pps=RAHBcrRiQA==;sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ
a=control:streamid=0
`),
    );
    expect(hexOf(tracks[0].vps?.[0])).toBe(H265_VPS);
    expect(hexOf(tracks[0].sps?.[0])).toBe(H265_SPS);
    expect(hexOf(tracks[0].pps?.[0])).toBe(H265_PPS);
  });

  const audioCases: [string, TrackInfo['audio'], number | undefined, string][] = [
    ['PCMA default clock', { codec: 'g711a', sampleRate: 8000, channels: 1 }, undefined, 'm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=1\r\n'],
    ['PCMU with metadata rate', { codec: 'g711u', sampleRate: 16000, channels: 1 }, 16000, 'm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\na=control:streamid=1\r\n'],
    ['Opus default clock', { codec: 'opus', sampleRate: 48000, channels: 2 }, undefined, 'm=audio 0 RTP/AVP 101\r\na=rtpmap:101 opus/48000/2\r\na=control:streamid=1\r\n'],
  ];
  test.each(audioCases)('%s', (_n, audio, rate, block) => {
    const { text, tracks } = generateSdp({ video: av.video, audio }, rate === undefined ? {} : { audioSampleRate: rate });
    expect(text.endsWith(block)).toBe(true);
    expect(tracks[1].codec).toBe(audio!.codec as 'g711a');
  });

  test('tracks it cannot describe are left out; nothing at all is a ParseError', () => {
    const noPps: TrackInfo = { video: { ...video('h264', FIXTURE_SPS, FIXTURE_PPS), pps: [] }, audio: av.audio };
    expect(generateSdp(noPps).text).toBe(generateSdp({ audio: av.audio }).text);
    expect(generateSdp({ video: av.video, audio: { codec: 'mp3', sampleRate: 44100, channels: 2 } }).text).toBe(generateSdp({ video: av.video }).text);
    expect(() => generateSdp({})).toThrow(ParseError);
    expect(() => generateSdp({ audio: { codec: 'aac', sampleRate: 44100, channels: 2 } })).toThrow(ParseError);
  });
});

// ---------------------------------------------------------------------------------------------
// Real-world SDPs

/** ffmpeg 4.x (Lavf58.24.100) ANNOUNCE bodies, captured with a throwaway listener (see report). */
const FFMPEG_H264_AAC =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 58.24.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aOvjyyLA; profile-level-id=64000D\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\nb=AS:69\r\na=rtpmap:97 MPEG4-GENERIC/44100/1\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=120856E500\r\na=control:streamid=1\r\n';
const FFMPEG_H265_PCMA =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 58.24.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwA8lZgJ; sprop-sps=QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWaSTK8BAQAAAAwBAAAAGQg==; sprop-pps=RAHBcrRiQA==\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 8\r\nb=AS:64\r\na=control:streamid=1\r\n';
const FFMPEG_H264_OPUS =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 58.24.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aOvjyyLA; profile-level-id=64000D\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\nb=AS:64\r\na=rtpmap:97 opus/48000/2\r\na=control:streamid=1\r\n';
const FFMPEG_H264_PCMU =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 58.24.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aOvjyyLA; profile-level-id=64000D\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 0\r\nb=AS:64\r\na=control:streamid=1\r\n';

/** Dahua-style "Media Server": H.265 with sprop-sps/pps/vps, control before rtpmap. */
const DAHUA_H265 = crlf(`v=0
o=- 2252316233 2252316233 IN IP4 0.0.0.0
s=Media Server
c=IN IP4 0.0.0.0
t=0 0
a=control:*
a=packetization-supported:DH
a=rtppayload-supported:DH
a=range:npt=now-
m=video 0 RTP/AVP 98
a=control:trackID=0
a=framerate:25.000000
a=rtpmap:98 H265/90000
a=fmtp:98 profile-id=1;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=;sprop-pps=RAHBcrRiQA==;sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ
a=recvonly
`);

/** Dahua-style H.264 + AAC 48 kHz mono (`config=1188`, no channel count in the rtpmap). */
const DAHUA_H264_AAC = crlf(`v=0
o=- 2252310609 2252310609 IN IP4 0.0.0.0
s=Media Server
c=IN IP4 0.0.0.0
t=0 0
a=control:*
a=range:npt=now-
m=video 0 RTP/AVP 96
a=control:trackID=0
a=framerate:25.000000
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1;profile-level-id=64001E;sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA
a=recvonly
m=audio 0 RTP/AVP 97
a=control:trackID=1
a=rtpmap:97 MPEG4-GENERIC/48000
a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1188
a=recvonly
`);

/** Hikvision-style: packetization-mode=0, PCMA on static PT 8, i=/e=/b= lines, vendor attributes. */
const HIK_H264_PCMA = crlf(`v=0
o=- 1109162014219182 0 IN IP4 0.0.0.0
s=HIK Media Server V3.4.103
i=HIK Media Server Session Description : standard
e=NONE
c=IN IP4 0.0.0.0
t=0 0
a=control:*
b=AS:1034
a=range:npt=now-
m=video 0 RTP/AVP 96
i=Video Media
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=42C00D;packetization-mode=0;sprop-parameter-sets=Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=
a=control:trackID=video
b=AS:1024
m=audio 0 RTP/AVP 8
i=Audio Media
a=rtpmap:8 PCMA/8000
a=control:trackID=audio
b=AS:10
a=Media_header:MEDIAINFO=494D4B48020100000400000111710110401F000000FA000000000000000000000000000000000000;
a=appversion:1.0
`);

/** Hikvision-style: absolute controls with a query, H.265 without fmtp, AAC 16 kHz with a messy fmtp. */
const HIK_ABSOLUTE = crlf(`v=0
o=- 1622201479405259 1622201479405259 IN IP4 192.168.3.58
s=Media Presentation
e=NONE
b=AS:5100
t=0 0
a=control:rtsp://192.168.3.58:554/Streaming/Channels/101/?transportmode=unicast
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
b=AS:5000
a=recvonly
a=x-dimensions:1920,1080
a=control:rtsp://192.168.3.58:554/Streaming/Channels/101/trackID=1?transportmode=unicast
a=rtpmap:96 H265/90000
m=audio 0 RTP/AVP 104
c=IN IP4 0.0.0.0
b=AS:50
a=recvonly
a=control:rtsp://192.168.3.58:554/Streaming/Channels/101/trackID=2?transportmode=unicast
a=rtpmap:104 mpeg4-generic/16000/1
a=fmtp:104 profile-level-id=15; streamtype=5; mode=AAC-hbr; config=1408;SizeLength=13; IndexLength=3; IndexDeltaLength=3; Profile=1;
a=appversion:1.0
`);

/** ONVIF-style IPC: absolute controls and a metadata m=application track. */
const ONVIF_METADATA = crlf(`v=0
o=- 1001 1 IN IP4 192.168.0.221
s=VCP IPC Realtime stream
m=video 0 RTP/AVP 105
c=IN IP4 192.168.0.221
a=control:rtsp://192.168.0.221/media/video1/video
a=rtpmap:105 H264/90000
a=fmtp:105 profile-level-id=64001e; packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA
a=recvonly
m=application 0 RTP/AVP 107
c=IN IP4 192.168.0.221
a=control:rtsp://192.168.0.221/media/video1/metadata
a=rtpmap:107 vnd.onvif.metadata/90000
a=fmtp:107 DecoderTag=h3c-v3 RTCP=0
a=recvonly
`);

/** LIVE555-style: empty sprop-parameter-sets, PCMU on static PT 0 without rtpmap, a vendor m= line. */
const LIVE555 = crlf(`v=0
o=- 13362557 1 IN IP4 192.168.1.100
s=RTSP/RTP stream from IPC
i=h264
t=0 0
a=tool:LIVE555 Streaming Media v2016.07.19
a=type:broadcast
a=control:*
a=range:npt=0-
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
b=AS:4000
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1;profile-level-id=000042;sprop-parameter-sets=
a=control:track1
m=audio 0 RTP/AVP 0
c=IN IP4 0.0.0.0
b=AS:64
a=control:track2
m=vzinfo 0 RTP/AVP 108
c=IN IP4 0.0.0.0
b=AS:5
a=rtpmap:108 VND.ONVIF.METADATA/90000
a=control:track3
`);

/** Leading `;` in the fmtp, AAC without config (audio undecodable), G.722.1 audio (unsupported). */
const ODD_FMTP = crlf(`v=0
o=- 3331435948 1116907222000 IN IP4 192.168.2.109
s=Session
c=IN IP4 192.168.2.109
t=0 0
a=control:*
m=video 0 RTP/AVP 96
a=control:trackID=0
a=rtpmap:96 H264/90000
a=fmtp:96 ;packetization-mode=1;sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA;
b=AS:5000
m=audio 0 RTP/AVP 97
a=rtpmap:97 MPEG4-GENERIC/44100/2
a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3
a=control:trackID=1
m=audio 0 RTP/AVP 98
a=rtpmap:98 G7221/16000
a=control:trackID=2
`);

/** Opus camera/gateway: lower-case encoding, fmtp with sprop-stereo (RFC 7587 §7). */
const OPUS_ONLY = crlf(`v=0
o=- 1 1 IN IP4 10.0.0.2
s=audio
t=0 0
m=audio 0 RTP/AVP 111
a=rtpmap:111 opus/48000/2
a=fmtp:111 sprop-stereo=1;useinbandfec=1
a=control:audio
`);

/** VLC-style: an H.265 fmtp whose base64 value is split over two lines. */
const VLC_SPLIT = crlf(`v=0
o=- 16513881941979867928 16513881941979867928 IN IP4 HOST
s=Unnamed
c=IN IP4 0.0.0.0
t=0 0
a=tool:vlc 3.0.16
a=control:rtsp://127.0.0.1:8066/demo
m=video 0 RTP/AVP 96
b=RR:0
a=rtpmap:96 H265/90000
a=fmtp:96 tx-mode=SRST;profile-id=1;level-id=3;sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WW
VmkkyvAQEAAAAMAQAAABkI=;sprop-pps=RAHBcrRiQA==;
a=control:rtsp://127.0.0.1:8066/demo/trackID=0
`);

const ROUND_TRIP: [string, string][] = [
  ['golden', GOLDEN],
  ['ffmpeg H.264+AAC', FFMPEG_H264_AAC],
  ['ffmpeg H.265+PCMA', FFMPEG_H265_PCMA],
  ['ffmpeg H.264+Opus', FFMPEG_H264_OPUS],
  ['ffmpeg H.264+PCMU', FFMPEG_H264_PCMU],
  ['Dahua H.265', DAHUA_H265],
  ['Dahua H.264+AAC', DAHUA_H264_AAC],
  ['Hikvision H.264+PCMA', HIK_H264_PCMA],
  ['Hikvision absolute controls', HIK_ABSOLUTE],
  ['ONVIF metadata', ONVIF_METADATA],
  ['LIVE555', LIVE555],
  ['odd fmtp', ODD_FMTP],
  ['Opus only', OPUS_ONLY],
];

describe('parseSdp / serializeSdp', () => {
  test.each(ROUND_TRIP)('%s round-trips byte for byte', (_n, text) => {
    expect(serializeSdp(parseSdp(text))).toBe(text);
  });

  test('session and media views', () => {
    const sdp = parseSdp(HIK_H264_PCMA);
    expect(sdp.version).toBe(0);
    expect(sdp.origin).toEqual({ username: '-', sessionId: '1109162014219182', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: '0.0.0.0' });
    expect(sdp.sessionName).toBe('HIK Media Server V3.4.103');
    expect(sdp.control).toBe('*');
    expect(sdp.connection).toBe('IN IP4 0.0.0.0');
    expect(sdp.bandwidths).toEqual([{ type: 'AS', value: 1034 }]);
    expect(sdp.media.length).toBe(2);
    const [v, a] = sdp.media;
    expect([v.media, v.port, v.proto, v.formats]).toEqual(['video', 0, 'RTP/AVP', ['96']]);
    expect(v.rtpmaps).toEqual([{ payloadType: 96, encoding: 'H264', clockRate: 90000 }]);
    expect(v.fmtps.get(96)).toEqual({ 'profile-level-id': '42C00D', 'packetization-mode': '0', 'sprop-parameter-sets': 'Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=' });
    expect(v.control).toBe('trackID=video');
    expect(v.bandwidths).toEqual([{ type: 'AS', value: 1024 }]);
    expect(a.attributes.map((x) => x.name)).toEqual(['rtpmap', 'control', 'Media_header', 'appversion']);
    expect(a.attributes[2].value).toBe('MEDIAINFO=494D4B48020100000400000111710110401F000000FA000000000000000000000000000000000000;');
  });

  test('fmtp tolerance: leading/trailing ";", "; " separators, mixed-case keys, "=" inside values', () => {
    expect(parseFmtpParams(' ;packetization-mode=1;sprop-parameter-sets=Z0I=,aM4=;')).toEqual({ 'packetization-mode': '1', 'sprop-parameter-sets': 'Z0I=,aM4=' });
    expect(parseFmtpParams('config=1408;SizeLength=13; IndexLength=3; Profile=1;')).toEqual({ config: '1408', sizelength: '13', indexlength: '3', profile: '1' });
    expect(parseFmtpParams('DecoderTag=h3c-v3 RTCP=0')).toEqual({ decodertag: 'h3c-v3 RTCP=0' });
    expect(parseFmtpParams('flag;x = 1')).toEqual({ flag: '', x: '1' });
  });

  test('an fmtp value split over lines is joined (VLC)', () => {
    const sdp = parseSdp(VLC_SPLIT);
    expect(sdp.media[0].fmtps.get(96)!['sprop-sps']).toBe('QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=');
    const [t] = sdpTracks(sdp);
    expect(hexOf(t.sps?.[0])).toBe(H265_SPS);
    expect(hexOf(t.vps?.[0])).toBe(H265_VPS);
    expect(hexOf(t.pps?.[0])).toBe(H265_PPS);
    expect(t.control).toBe('rtsp://127.0.0.1:8066/demo/trackID=0');
    // serialization normalises the continuation into one line, which then round-trips
    const once = serializeSdp(sdp);
    expect(once).toBe(VLC_SPLIT.replace('C0WW\r\nVmkk', 'C0WWVmkk'));
    expect(serializeSdp(parseSdp(once))).toBe(once);
  });

  test('LF-only text, blank lines and no v=/o=/s= are accepted', () => {
    const sdp = parseSdp('a=tool:lal 0.27.1\n\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=control:streamid=0\n');
    expect(sdp.version).toBeUndefined();
    expect(sdp.origin).toBeUndefined();
    expect(sdp.media[0].control).toBe('streamid=0');
    expect(serializeSdp(sdp)).toBe('a=tool:lal 0.27.1\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n');
  });

  test('m= with a port count; session-level continuation is refused', () => {
    const sdp = parseSdp('v=0\r\nm=audio 49170/2 RTP/AVP 0 8\r\n');
    expect(sdp.media[0].port).toBe(49170);
    expect(sdp.media[0].portCount).toBe(2);
    expect(sdp.media[0].formats).toEqual(['0', '8']);
    expect(serializeSdp(sdp)).toBe('v=0\r\nm=audio 49170/2 RTP/AVP 0 8\r\n');
    expect(() => parseSdp('v=0\r\nnot a line\r\n')).toThrow(ParseError);
    expect(() => parseSdp('hello')).toThrow(ParseError);
  });

  const bad: [string, string][] = [
    ['m= with two fields', 'v=0\r\nm=video 0\r\n'],
    ['m= port not a number', 'v=0\r\nm=video x RTP/AVP 96\r\n'],
    ['m= port above 65535', 'v=0\r\nm=video 70000 RTP/AVP 96\r\n'],
    ['too large', 'v=0\r\n' + 'a=x\r\n'.repeat(MAX_SDP_SIZE / 4)],
    ['too many lines', 'a=x\n'.repeat(3000)],
    ['too many m= sections', 'm=audio 0 RTP/AVP 0\n'.repeat(65)],
  ];
  test.each(bad)('%s → ParseError', (_n, text) => {
    expect(() => parseSdp(text)).toThrow(ParseError);
  });
});

describe('sdpTracks (docs/media.md §6.1)', () => {
  test('ffmpeg ANNOUNCE: H.264 + AAC', () => {
    const [v, a] = sdpTracks(parseSdp(FFMPEG_H264_AAC));
    expect(v).toMatchObject({ kind: 'video', payloadType: 96, codec: 'h264', clockRate: 90000, control: 'streamid=0' });
    expect(v.fmtp['packetization-mode']).toBe('1');
    expect(hexOf(v.sps?.[0])).toBe('6764000dacd94141fb011000000300100000030320f1429960');
    expect(hexOf(v.pps?.[0])).toBe('68ebe3cb22c0');
    expect(a).toMatchObject({ kind: 'audio', payloadType: 97, codec: 'aac', encoding: 'MPEG4-GENERIC', clockRate: 44100, channels: 1, control: 'streamid=1' });
    expect(hexOf(a.asc)).toBe('120856e500');
  });

  test('ffmpeg ANNOUNCE: H.265 + PCMA, H.264 + Opus, H.264 + PCMU (static PTs without rtpmap)', () => {
    const [h265, pcma] = sdpTracks(parseSdp(FFMPEG_H265_PCMA));
    expect(h265.codec).toBe('h265');
    expect(h265.vps?.length).toBe(1);
    expect(h265.sps?.length).toBe(1);
    expect(h265.pps?.length).toBe(1);
    expect(pcma).toMatchObject({ codec: 'g711a', payloadType: 8, clockRate: 8000, channels: 1, encoding: '' });
    expect(sdpTracks(parseSdp(FFMPEG_H264_OPUS))[1]).toMatchObject({ codec: 'opus', payloadType: 97, clockRate: 48000, channels: 2 });
    expect(sdpTracks(parseSdp(FFMPEG_H264_PCMU))[1]).toMatchObject({ codec: 'g711u', payloadType: 0, clockRate: 8000 });
  });

  test('cameras', () => {
    const dahua = sdpTracks(parseSdp(DAHUA_H265));
    expect(dahua.length).toBe(1);
    expect(dahua[0]).toMatchObject({ codec: 'h265', payloadType: 98, control: 'trackID=0' });
    expect(hexOf(dahua[0].vps?.[0])).toBe(H265_VPS);

    const [dv, da] = sdpTracks(parseSdp(DAHUA_H264_AAC));
    expect(hexOf(dv.sps?.[0])).toBe('6764001eacd940a02ff97011000003000100000300320f162d96');
    expect(da).toMatchObject({ codec: 'aac', clockRate: 48000, channels: 1, control: 'trackID=1' });
    expect(hexOf(da.asc)).toBe('1188');

    const [hv, ha] = sdpTracks(parseSdp(HIK_H264_PCMA));
    expect(hv).toMatchObject({ codec: 'h264', control: 'trackID=video' });
    expect(hv.fmtp['packetization-mode']).toBe('0');
    expect(ha).toMatchObject({ codec: 'g711a', payloadType: 8, clockRate: 8000, control: 'trackID=audio', encoding: 'PCMA' });

    const [xv, xa] = sdpTracks(parseSdp(HIK_ABSOLUTE));
    expect(xv).toMatchObject({ codec: 'h265', control: 'rtsp://192.168.3.58:554/Streaming/Channels/101/trackID=1?transportmode=unicast' });
    expect(xv.sps).toBeUndefined();
    expect(xa).toMatchObject({ codec: 'aac', payloadType: 104, clockRate: 16000, channels: 1, encoding: 'mpeg4-generic' });
    expect(hexOf(xa.asc)).toBe('1408');
    expect(xa.fmtp.sizelength).toBe('13');

    const onvif = sdpTracks(parseSdp(ONVIF_METADATA));
    expect(onvif.map((t) => [t.kind, t.codec, t.payloadType])).toEqual([
      ['video', 'h264', 105],
      ['application', 'other', 107],
    ]);
    expect(onvif[0].control).toBe('rtsp://192.168.0.221/media/video1/video');

    const live = sdpTracks(parseSdp(LIVE555));
    expect(live.map((t) => [t.kind, t.codec, t.clockRate, t.control])).toEqual([
      ['video', 'h264', 90000, 'track1'],
      ['audio', 'g711u', 8000, 'track2'],
      ['vzinfo', 'other', 90000, 'track3'],
    ]);
    expect(live[0].sps).toBeUndefined();

    const odd = sdpTracks(parseSdp(ODD_FMTP));
    expect(odd[0].sps?.length).toBe(1);
    expect(odd[0].pps?.length).toBe(1);
    expect(odd[1]).toMatchObject({ codec: 'aac', clockRate: 44100, channels: 2 });
    expect(odd[1].asc).toBeUndefined();
    expect(odd[2]).toMatchObject({ codec: 'other', encoding: 'G7221', clockRate: 16000 });

    expect(sdpTracks(parseSdp(OPUS_ONLY))[0]).toMatchObject({ codec: 'opus', payloadType: 111, clockRate: 48000, channels: 2, control: 'audio' });
  });

  test('codec names: H264/H265 case-sensitive, others any case; MPA by name or static PT 14', () => {
    const t = (rtpmap: string, pt = 96) => sdpTracks(parseSdp(`m=video 0 RTP/AVP ${pt}\r\n${rtpmap}`))[0];
    expect(t('a=rtpmap:96 h264/90000').codec).toBe('other');
    expect(t('a=rtpmap:96 H265/90000').codec).toBe('h265');
    expect(t('a=rtpmap:96 Mpeg4-Generic/22050').codec).toBe('aac');
    expect(t('a=rtpmap:96 pcmu/8000').codec).toBe('g711u');
    expect(t('a=rtpmap:96 OPUS/48000/2').codec).toBe('opus');
    expect(t('a=rtpmap:96 mpa/90000').codec).toBe('mpa');
    expect(t('', 14)).toMatchObject({ codec: 'mpa', clockRate: 90000 });
    expect(t('a=rtpmap:8 X-UNKNOWN/16000', 8)).toMatchObject({ codec: 'g711a', clockRate: 16000 });
    // only the first payload type of an m= line is used
    expect(sdpTracks(parseSdp('m=audio 0 RTP/AVP 0 8\r\n'))[0].codec).toBe('g711u');
    // non-RTP formats give no track
    expect(sdpTracks(parseSdp('m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n'))).toEqual([]);
  });

  test('bad base64 and odd hex configs are skipped, not fatal', () => {
    const text = 'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets=!!!,aOvjyyLA,Z,-_8\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100\r\na=fmtp:97 config=121\r\n';
    const [v, a] = sdpTracks(parseSdp(text));
    expect(v.sps).toBeUndefined(); // "!!!", "Z" (4n+1 chars) and URL-safe "-_8" are not base64
    expect(v.pps?.length).toBe(1);
    expect(a.asc).toBeUndefined();
  });
});

describe('hostile SDP text', () => {
  const texts = ROUND_TRIP.map(([, t]) => t).concat(VLC_SPLIT);
  test('every prefix of every SDP parses or throws ParseError only', () => {
    let ok = 0;
    let total = 0;
    for (const t of texts) {
      for (let n = 0; n <= t.length; n += 1) {
        total++;
        onlyParseError(() => {
          sdpTracks(parseSdp(t.slice(0, n)));
          ok++;
        });
      }
    }
    expect(total).toBeGreaterThan(5000);
    expect(ok).toBeGreaterThan(total / 2); // most prefixes are valid SDP; cut m= lines are not
  });

  test('200 random strings and 200 mutated SDPs give ParseError only', () => {
    const rnd = mulberry32(4);
    const alphabet = 'abmvoscta=:;/ ,\r\n0123456789RTP/AVPH264=+-';
    const seen = { ok: 0, rejected: 0 };
    const run = (s: string) => {
      try {
        sdpTracks(parseSdp(s));
        seen.ok++;
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        seen.rejected++;
      }
    };
    for (let i = 0; i < 200; i++) {
      let s = '';
      const n = Math.floor(rnd() * 200);
      for (let j = 0; j < n; j++) s += rnd() < 0.8 ? alphabet[Math.floor(rnd() * alphabet.length)] : String.fromCharCode(Math.floor(rnd() * 0x3000));
      run(s);
    }
    for (let i = 0; i < 200; i++) {
      const t = texts[i % texts.length].split('');
      for (let k = 0; k < 4; k++) t[Math.floor(rnd() * t.length)] = alphabet[Math.floor(rnd() * alphabet.length)];
      run(t.join(''));
    }
    expect(seen.ok + seen.rejected).toBe(400);
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(50);
  });
});
