/**
 * `Sdp` → text (RFC 8866 §5): every line followed by CRLF. Writes the line lists, not the parsed
 * views (see types.ts), so `serializeSdp(parseSdp(x)) === x` for SDP with CRLF line ends,
 * single spaces in `m=` lines and no continuation lines.
 */
import type { Sdp, SdpMedia } from './types.ts';

export function serializeSdp(sdp: Sdp): string {
  let out = '';
  for (const l of sdp.lines) out += `${l.type}=${l.value}\r\n`;
  for (const m of sdp.media) {
    out += `m=${mediaLineValue(m)}\r\n`;
    for (const l of m.lines) out += `${l.type}=${l.value}\r\n`;
  }
  return out;
}

/** `<media> <port>[/<count>] <proto> <fmt> …` */
export function mediaLineValue(m: Pick<SdpMedia, 'media' | 'port' | 'portCount' | 'proto' | 'formats'>): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return [m.media, port, m.proto, ...m.formats].join(' ');
}
