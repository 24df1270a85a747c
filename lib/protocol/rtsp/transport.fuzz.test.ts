/**
 * Seeded fuzz test of the RTSP Transport header parser (issue #9): 100,000 random and mutated
 * header values, only ParseError may escape, and the decoded fields survive format → parse.
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { formatRtspTransport, parseRtspTransport, type RtspTransport } from './transport.ts';

const VALUES = [
  'RTP/AVP/TCP;unicast;interleaved=0-1',
  'RTP/AVP;unicast;client_port=30000-30001;mode=record',
  'RTP/AVP/UDP;unicast;client_port=30000-30001;server_port=40000-40001;ssrc=1234ABCD',
  'RTP/AVP;multicast;destination=224.2.0.1;port=3456-3457;ttl=16, RTP/AVP/TCP;interleaved=4',
  'RTP/AVP;unicast;client_port=5000;mode="PLAY"',
];
const DICT = [';', ',', '=', '-', 'interleaved=', 'client_port=', 'server_port=', 'mode=', 'unicast', 'multicast', 'RTP/AVP', '/TCP', '/UDP', '65535', '65536', '255', '256', '"'].map(utf8Encode);

const fields = (t: RtspTransport) => ({
  protocol: t.protocol, lower: t.lower, delivery: t.delivery, interleaved: t.interleaved, clientPort: t.clientPort, serverPort: t.serverPort,
  // formatting writes mode unquoted: quotes and blanks inside them (mode=" PLAY"), and an empty
  // mode=, do not survive; only PLAY/RECORD matter
  mode: t.mode?.replace(/"/g, '').trim() || undefined,
});

describe('parseRtspTransport fuzz', () => {
  test('100,000 inputs: only ParseError, ranges in bounds, format → parse keeps the fields', () => {
    const r = fuzz('rtsp transport', { seed: 0x7a5, corpus: VALUES.map(utf8Encode), dictionary: DICT }, ({ input, rnd }) => {
      const specs = parseRtspTransport(rnd() < 0.8 ? utf8Decode(input) : latin1(input));
      fuzzCheck(specs.length >= 1 && specs.length <= 16, 'spec count');
      for (const t of specs) {
        if (t.interleaved) fuzzCheck(t.interleaved.every((c) => c >= 0 && c <= 255), 'channels 0..255');
        for (const p of [t.clientPort, t.serverPort]) if (p) fuzzCheck(p.every((x) => x >= 0 && x <= 65535), 'ports 0..65535');
        const [again] = parseRtspTransport(formatRtspTransport(t));
        fuzzCheck(Bun.deepEquals(fields(again), fields(t)), () => `format → parse ${JSON.stringify(fields(t))} → ${JSON.stringify(fields(again))}`);
      }
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
