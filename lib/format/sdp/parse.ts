/**
 * SDP text → `Sdp` (RFC 8866 §5) and `Sdp` → per-track codec information (docs/media.md §6.1).
 *
 * Tolerances, each seen in real cameras (docs/tests.md §4):
 * - LF, CR or CRLF line ends; blank lines are skipped.
 * - A line that is not `<letter>=…` continues the previous `a=` line (VLC splits a long
 *   `a=fmtp` base64 value over several lines); it is appended without a separator.
 * - `a=fmtp:96 ;packetization-mode=1;…` (leading `;`), trailing `;`, `; ` separators,
 *   mixed-case keys (`SizeLength=13`).
 * - No `v=`/`o=`/`s=` lines at all.
 * Everything else stays as raw lines, so `serializeSdp(parseSdp(x))` round-trips.
 */
import { ParseError } from '../../core/errors.ts';
import { h264NaluType, NaluTypeH264 } from '../../codec/h264/nalu.ts';
import { h265NaluType, NaluTypeH265 } from '../../codec/h265/nalu.ts';
import type { Sdp, SdpAttribute, SdpBandwidth, SdpCodec, SdpFmtp, SdpLine, SdpMedia, SdpOrigin, SdpRtpmap, SdpTrack } from './types.ts';

/** SDP bodies are a few hundred bytes; the largest real one we know (VLC with a 4 KB sprop-sei) fits 64 KiB many times. */
export const MAX_SDP_SIZE = 64 * 1024;
/** Lines in one SDP; real ones have 10–40. Bounds the work a hostile ANNOUNCE body can cause. */
export const MAX_SDP_LINES = 2048;
/** `m=` sections in one SDP; cameras send 1–4 (video, audio, metadata, backchannel). */
export const MAX_SDP_MEDIA = 64;

/**
 * RFC 3551 §6 static payload types lal recognises when the rtpmap is missing or unknown
 * (docs/media.md §6.1): 0 PCMU/8000, 8 PCMA/8000, 14 MPA/90000.
 */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { codec: SdpCodec; clockRate: number; channels: number }>> = {
  0: { codec: 'g711u', clockRate: 8000, channels: 1 },
  8: { codec: 'g711a', clockRate: 8000, channels: 1 },
  14: { codec: 'mpa', clockRate: 90000, channels: 1 },
};

const LINE_RE = /^([a-zA-Z])=(.*)$/s;

/** Parse SDP text. Throws ParseError on text that is not SDP at all (see the tolerances above). */
export function parseSdp(text: string): Sdp {
  if (text.length > MAX_SDP_SIZE) {
    throw new ParseError(`sdp: ${text.length} characters exceed the ${MAX_SDP_SIZE} limit`, 'too-large');
  }
  const session: SdpLine[] = [];
  const media: { mValue: string; lines: SdpLine[] }[] = [];
  let last: SdpLine | undefined;
  let count = 0;
  const raw = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i];
    if (line.trim() === '') continue;
    if (++count > MAX_SDP_LINES) throw new ParseError(`sdp: more than ${MAX_SDP_LINES} lines`, 'too-many');
    const m = LINE_RE.exec(line);
    if (!m) {
      if (last && last.type === 'a') {
        last.value += line.trim();
        continue;
      }
      throw new ParseError(`sdp: line ${i + 1} ${JSON.stringify(line.slice(0, 40))} is not <type>=<value>`);
    }
    const type = m[1];
    const value = m[2];
    if (type === 'm') {
      if (media.length >= MAX_SDP_MEDIA) throw new ParseError(`sdp: more than ${MAX_SDP_MEDIA} m= sections`, 'too-many');
      media.push({ mValue: value, lines: [] });
      last = undefined;
      continue;
    }
    last = { type, value };
    (media.length > 0 ? media[media.length - 1].lines : session).push(last);
  }

  const sdp: Sdp = {
    lines: session,
    media: media.map((m, i) => buildMedia(m.mValue, m.lines, i)),
    bandwidths: bandwidthsOf(session),
    attributes: attributesOf(session),
  };
  const v = firstValue(session, 'v');
  if (v !== undefined && /^\d+$/.test(v.trim())) sdp.version = Number(v.trim());
  const o = firstValue(session, 'o');
  if (o !== undefined) {
    const origin = parseOrigin(o);
    if (origin) sdp.origin = origin;
  }
  const s = firstValue(session, 's');
  if (s !== undefined) sdp.sessionName = s;
  const control = controlOf(sdp.attributes);
  if (control !== undefined) sdp.control = control;
  const c = firstValue(session, 'c');
  if (c !== undefined) sdp.connection = c.trim();
  return sdp;
}

/** `m=<media> <port>[/<count>] <proto> <fmt> …` (RFC 8866 §5.14). */
function buildMedia(mValue: string, lines: SdpLine[], index: number): SdpMedia {
  const parts = mValue.trim().split(/\s+/);
  if (parts.length < 3) throw new ParseError(`sdp: m= line ${index + 1} ${JSON.stringify(mValue.slice(0, 40))} has fewer than 3 fields`);
  const pm = /^(\d+)(?:\/(\d+))?$/.exec(parts[1]);
  if (!pm) throw new ParseError(`sdp: m= line ${index + 1} port ${JSON.stringify(parts[1].slice(0, 20))} is not a number`);
  const port = Number(pm[1]);
  if (port > 65535) throw new ParseError(`sdp: m= line ${index + 1} port ${port} exceeds 65535`);
  const attributes = attributesOf(lines);
  const out: SdpMedia = {
    media: parts[0],
    port,
    proto: parts[2],
    formats: parts.slice(3),
    lines,
    attributes,
    rtpmaps: [],
    fmtps: new Map(),
    bandwidths: bandwidthsOf(lines),
  };
  if (pm[2] !== undefined) out.portCount = Number(pm[2]);
  for (const a of attributes) {
    if (a.value === undefined) continue;
    if (a.name === 'rtpmap') {
      const r = parseRtpmap(a.value);
      if (r) out.rtpmaps.push(r);
    } else if (a.name === 'fmtp') {
      const f = parseFmtpLine(a.value);
      if (f) out.fmtps.set(f.payloadType, { ...(out.fmtps.get(f.payloadType) ?? {}), ...f.params });
    }
  }
  const control = controlOf(attributes);
  if (control !== undefined) out.control = control;
  const c = firstValue(lines, 'c');
  if (c !== undefined) out.connection = c.trim();
  return out;
}

function firstValue(lines: readonly SdpLine[], type: string): string | undefined {
  for (const l of lines) if (l.type === type) return l.value;
  return undefined;
}

function attributesOf(lines: readonly SdpLine[]): SdpAttribute[] {
  const out: SdpAttribute[] = [];
  for (const l of lines) {
    if (l.type !== 'a') continue;
    const i = l.value.indexOf(':');
    out.push(i < 0 ? { name: l.value.trim() } : { name: l.value.slice(0, i).trim(), value: l.value.slice(i + 1) });
  }
  return out;
}

function controlOf(attributes: readonly SdpAttribute[]): string | undefined {
  for (const a of attributes) if (a.name === 'control' && a.value !== undefined) return a.value.trim();
  return undefined;
}

function bandwidthsOf(lines: readonly SdpLine[]): SdpBandwidth[] {
  const out: SdpBandwidth[] = [];
  for (const l of lines) {
    if (l.type !== 'b') continue;
    const m = /^\s*([^:\s]+)\s*:\s*(\d+)\s*$/.exec(l.value);
    if (m) out.push({ type: m[1], value: Number(m[2]) });
  }
  return out;
}

function parseOrigin(v: string): SdpOrigin | undefined {
  const p = v.trim().split(/\s+/);
  if (p.length < 6) return undefined;
  return { username: p[0], sessionId: p[1], sessionVersion: p[2], netType: p[3], addrType: p[4], address: p[5] };
}

/** `96 H264/90000`, `97 MPEG4-GENERIC/44100/2`. Undefined when malformed. */
export function parseRtpmap(value: string): SdpRtpmap | undefined {
  const m = /^\s*(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?\s*$/.exec(value);
  if (!m) return undefined;
  const payloadType = Number(m[1]);
  if (payloadType > 127) return undefined;
  const r: SdpRtpmap = { payloadType, encoding: m[2], clockRate: Number(m[3]) };
  if (m[4] !== undefined) r.channels = Number(m[4]);
  return r;
}

/**
 * The value of an `a=fmtp:` attribute: `<format> <params>`. Undefined when the format is not an
 * RTP payload type.
 */
export function parseFmtpLine(value: string): { payloadType: number; params: SdpFmtp } | undefined {
  const m = /^\s*(\d{1,3})(?:\s+(.*))?$/s.exec(value);
  if (!m) return undefined;
  const payloadType = Number(m[1]);
  if (payloadType > 127) return undefined;
  return { payloadType, params: parseFmtpParams(m[2] ?? '') };
}

/** `packetization-mode=1; sprop-parameter-sets=Z0I=,aM4=;` → key/value map (keys lower-cased). */
export function parseFmtpParams(text: string): SdpFmtp {
  const out: SdpFmtp = {};
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const i = p.indexOf('=');
    if (i < 0) out[p.toLowerCase()] = '';
    else out[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
  }
  return out;
}

/**
 * One track per `m=` line whose first format is an RTP payload type (0..127), in SDP order.
 * Codec by rtpmap name (docs/media.md §6.1): `H264`, `H265` (case-sensitive), `MPEG4-GENERIC`,
 * `PCMA`, `PCMU`, `opus`, `MPA` (any case); otherwise the static payload types of RFC 3551.
 * Clock rate: the rtpmap's, else the static type's, else 90000 for video and 8000 for the rest.
 */
export function sdpTracks(sdp: Sdp): SdpTrack[] {
  const out: SdpTrack[] = [];
  for (const m of sdp.media) {
    const f = m.formats[0];
    if (f === undefined || !/^\d{1,3}$/.test(f) || Number(f) > 127) continue;
    const payloadType = Number(f);
    const rtpmap = m.rtpmaps.find((r) => r.payloadType === payloadType);
    const fromName = rtpmap ? codecFromEncoding(rtpmap.encoding) : 'other';
    const stat = STATIC_PAYLOAD_TYPES[payloadType];
    const codec: SdpCodec = fromName !== 'other' ? fromName : stat ? stat.codec : 'other';
    const clockRate = rtpmap && rtpmap.clockRate > 0 ? rtpmap.clockRate : stat ? stat.clockRate : m.media === 'video' ? 90000 : 8000;
    const fmtp = m.fmtps.get(payloadType) ?? {};
    const t: SdpTrack = {
      kind: m.media,
      payloadType,
      encoding: rtpmap?.encoding ?? '',
      codec,
      clockRate,
      channels: rtpmap?.channels ?? 1,
      fmtp,
    };
    if (m.control !== undefined) t.control = m.control;
    if (codec === 'h264') addH264ParameterSets(t, fmtp);
    else if (codec === 'h265') addH265ParameterSets(t, fmtp);
    else if (codec === 'aac') {
      const asc = decodeHexConfig(fmtp['config']);
      if (asc) t.asc = asc;
    }
    out.push(t);
  }
  return out;
}

function codecFromEncoding(name: string): SdpCodec {
  if (name === 'H264') return 'h264';
  if (name === 'H265') return 'h265';
  switch (name.toUpperCase()) {
    case 'MPEG4-GENERIC':
      return 'aac';
    case 'PCMA':
      return 'g711a';
    case 'PCMU':
      return 'g711u';
    case 'OPUS':
      return 'opus';
    case 'MPA':
      return 'mpa';
    default:
      return 'other';
  }
}

/** RFC 6184 §8.1 `sprop-parameter-sets`: base64 NAL units separated by `,`, SPS and PPS in any order. */
function addH264ParameterSets(t: SdpTrack, fmtp: SdpFmtp): void {
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  for (const nal of decodeBase64List(fmtp['sprop-parameter-sets'])) {
    const type = h264NaluType(nal);
    if (type === NaluTypeH264.Sps) sps.push(nal);
    else if (type === NaluTypeH264.Pps) pps.push(nal);
  }
  if (sps.length > 0) t.sps = sps;
  if (pps.length > 0) t.pps = pps;
}

/** RFC 7798 §7.1 `sprop-vps`, `sprop-sps`, `sprop-pps`: each a `,`-separated base64 list. */
function addH265ParameterSets(t: SdpTrack, fmtp: SdpFmtp): void {
  const pick = (key: string, type: number): Uint8Array[] =>
    decodeBase64List(fmtp[key]).filter((nal) => h265NaluType(nal) === type);
  const vps = pick('sprop-vps', NaluTypeH265.Vps);
  const sps = pick('sprop-sps', NaluTypeH265.Sps);
  const pps = pick('sprop-pps', NaluTypeH265.Pps);
  if (vps.length > 0) t.vps = vps;
  if (sps.length > 0) t.sps = sps;
  if (pps.length > 0) t.pps = pps;
}

/** Undecodable or empty entries are skipped: in-band parameter sets will follow anyway. */
function decodeBase64List(value: string | undefined): Uint8Array[] {
  if (!value) return [];
  const out: Uint8Array[] = [];
  for (const item of value.split(',')) {
    const b = decodeBase64(item.trim());
    if (b && b.length > 0) out.push(b);
  }
  return out;
}

/** Standard base64 (padding optional); undefined when the text is not base64. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return undefined; // e.g. a length of 4n+1
  }
}

/** RFC 3640 `config=`: 4 or more even hex digits (docs/media.md §6.1), else undefined. */
function decodeHexConfig(value: string | undefined): Uint8Array | undefined {
  if (!value || !/^(?:[0-9a-fA-F]{2}){2,}$/.test(value)) return undefined;
  const out = new Uint8Array(value.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(value.substr(i * 2, 2), 16);
  return out;
}
