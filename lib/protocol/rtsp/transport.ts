/**
 * The RTSP `Transport` header (RFC 2326 §12.39; docs/protocols.md §3.3, §7.2).
 *
 *   Transport = 1#transport-spec
 *   transport-spec = transport-protocol "/" profile ["/" lower-transport] *( ";" parameter )
 *   e.g. RTP/AVP/TCP;unicast;interleaved=0-1
 *        RTP/AVP;unicast;client_port=30000-30001;mode=record
 *        RTP/AVP/UDP;unicast;client_port=30000-30001;server_port=40000-40001
 *
 * Parsing keeps every parameter (in order, with the raw text of the spec) so a server can echo
 * what it received; the commonly used ones are decoded. A single port/channel `n` means `n-n+1`.
 */
import { ParseError } from '../../core/errors.ts';

export interface RtspTransport {
  /** `RTP/AVP`, `RTP/AVP/TCP`, … as written. */
  protocol: string;
  /** From the lower-transport part: `TCP` → tcp, otherwise (absent or `UDP`) udp. */
  lower: 'tcp' | 'udp';
  /** `unicast` / `multicast` when stated. */
  delivery?: 'unicast' | 'multicast';
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  /** `mode=` value without quotes, upper-cased (`PLAY`, `RECORD`). */
  mode?: string;
  ssrc?: string;
  /** Every parameter in order (`value` undefined for flags such as `unicast`). */
  params: { name: string; value?: string }[];
  /** The transport-spec text as received (trimmed). */
  raw: string;
}

/** One track a SETUP established, as both ends report it: which track, its control and URI. */
export interface RtspSetupTrack {
  trackIndex: number;
  control: string;
  uri: string;
}

/** A track set up over the RTSP connection itself (RTP/AVP/TCP, interleaved channels). */
export interface RtspTcpSetup extends RtspSetupTrack {
  transport: 'tcp';
  rtpChannel: number;
  rtcpChannel: number;
}

/** Longest Transport header value accepted (a few specs of ~60 bytes each). */
export const MAX_TRANSPORT_SPECS = 16;

function parseRange(name: string, value: string, max: number): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value.trim());
  if (!m) throw new ParseError(`rtsp: invalid Transport ${name}=${value.slice(0, 40)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) throw new ParseError(`rtsp: Transport ${name}=${value.slice(0, 40)} out of range 0..${max}`);
  return [a, b];
}

/** Parse one transport-spec. */
export function parseRtspTransportSpec(spec: string): RtspTransport {
  const raw = spec.trim();
  const parts = raw.split(';');
  const protocol = parts[0].trim();
  const pm = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?:\/([A-Za-z0-9_.-]+))?$/.exec(protocol);
  if (!pm) throw new ParseError(`rtsp: invalid Transport protocol ${JSON.stringify(protocol.slice(0, 40))}`);
  const lowerText = (pm[3] ?? '').toUpperCase();
  if (lowerText !== '' && lowerText !== 'TCP' && lowerText !== 'UDP') {
    throw new ParseError(`rtsp: unknown Transport lower transport ${pm[3]}`);
  }
  const t: RtspTransport = { protocol, lower: lowerText === 'TCP' ? 'tcp' : 'udp', params: [], raw };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i].trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : p.slice(eq + 1).trim();
    t.params.push({ name, value });
    const key = name.toLowerCase();
    if (value === undefined) {
      if (key === 'unicast' || key === 'multicast') t.delivery = key;
      continue;
    }
    switch (key) {
      case 'interleaved':
        t.interleaved = parseRange(name, value, 255);
        break;
      case 'client_port':
        t.clientPort = parseRange(name, value, 65535);
        break;
      case 'server_port':
        t.serverPort = parseRange(name, value, 65535);
        break;
      case 'mode':
        t.mode = value.replace(/^"|"$/g, '').toUpperCase();
        break;
      case 'ssrc':
        t.ssrc = value;
        break;
      default:
        break; // destination, source, ttl, layers, port, append…: kept in params only
    }
  }
  return t;
}

/** Parse a whole header value (comma-separated alternatives, in the client's preference order). */
export function parseRtspTransport(value: string): RtspTransport[] {
  const specs = value.split(',').filter((s) => s.trim() !== '');
  if (specs.length === 0) throw new ParseError('rtsp: empty Transport header');
  if (specs.length > MAX_TRANSPORT_SPECS) throw new ParseError(`rtsp: Transport header lists more than ${MAX_TRANSPORT_SPECS} alternatives`);
  return specs.map(parseRtspTransportSpec);
}

/** What lal writes: `<protocol>;<unicast|multicast>;interleaved=a-b;client_port=…;server_port=…;mode=…`. */
export function formatRtspTransport(t: {
  protocol: string;
  delivery?: 'unicast' | 'multicast';
  interleaved?: readonly [number, number];
  clientPort?: readonly [number, number];
  serverPort?: readonly [number, number];
  mode?: string;
}): string {
  let s = t.protocol;
  if (t.delivery) s += `;${t.delivery}`;
  if (t.interleaved) s += `;interleaved=${t.interleaved[0]}-${t.interleaved[1]}`;
  if (t.clientPort) s += `;client_port=${t.clientPort[0]}-${t.clientPort[1]}`;
  if (t.serverPort) s += `;server_port=${t.serverPort[0]}-${t.serverPort[1]}`;
  if (t.mode) s += `;mode=${t.mode.toLowerCase()}`;
  return s;
}
