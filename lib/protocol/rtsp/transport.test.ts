import { test, expect, describe } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { MAX_TRANSPORT_SPECS, formatRtspTransport, parseRtspTransport, parseRtspTransportSpec } from './transport.ts';

describe('parseRtspTransport (RFC 2326 §12.39)', () => {
  test('TCP interleaved', () => {
    const [t] = parseRtspTransport('RTP/AVP/TCP;unicast;interleaved=0-1');
    expect(t).toMatchObject({ protocol: 'RTP/AVP/TCP', lower: 'tcp', delivery: 'unicast', interleaved: [0, 1], raw: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  });

  test('UDP with client ports and record mode (ffmpeg publisher)', () => {
    const [t] = parseRtspTransport('RTP/AVP/UDP;unicast;client_port=30000-30001;mode=record');
    expect(t).toMatchObject({ lower: 'udp', clientPort: [30000, 30001], mode: 'RECORD' });
    expect(t.params).toEqual([{ name: 'unicast', value: undefined }, { name: 'client_port', value: '30000-30001' }, { name: 'mode', value: 'record' }]);
  });

  test('RTP/AVP without lower transport is UDP; single port means p-p+1; quoted mode', () => {
    const [t] = parseRtspTransport(' RTP/AVP;unicast;client_port=5000;server_port=6000-6001;mode="PLAY";ssrc=1234ABCD ');
    expect(t).toMatchObject({ protocol: 'RTP/AVP', lower: 'udp', clientPort: [5000, 5001], serverPort: [6000, 6001], mode: 'PLAY', ssrc: '1234ABCD' });
    expect(t.raw).toBe('RTP/AVP;unicast;client_port=5000;server_port=6000-6001;mode="PLAY";ssrc=1234ABCD');
  });

  test('alternatives in preference order; multicast flag', () => {
    const ts = parseRtspTransport('RTP/AVP;multicast;ttl=127,RTP/AVP/TCP;unicast;interleaved=2-3');
    expect(ts.map((t) => t.delivery)).toEqual(['multicast', 'unicast']);
    expect(ts[1].interleaved).toEqual([2, 3]);
  });

  test.each(['', ',', 'RTP', 'RTP/AVP/SCTP;unicast', 'RTP/AVP/TCP;interleaved=a-b', 'RTP/AVP/TCP;interleaved=0-256', 'RTP/AVP;client_port=70000-70001', 'RTP/AVP;client_port=1-2-3'])(
    'invalid: %j',
    (v) => {
      expect(() => parseRtspTransport(v)).toThrow(ParseError);
    },
  );

  test('too many alternatives', () => {
    expect(() => parseRtspTransport(Array(MAX_TRANSPORT_SPECS + 1).fill('RTP/AVP').join(','))).toThrow(ParseError);
  });

  test('format → parse round trip', () => {
    const s = formatRtspTransport({ protocol: 'RTP/AVP/UDP', delivery: 'unicast', clientPort: [30000, 30001], serverPort: [40000, 40001], mode: 'RECORD' });
    expect(s).toBe('RTP/AVP/UDP;unicast;client_port=30000-30001;server_port=40000-40001;mode=record');
    expect(parseRtspTransportSpec(s)).toMatchObject({ clientPort: [30000, 30001], serverPort: [40000, 40001], mode: 'RECORD' });
    expect(formatRtspTransport({ protocol: 'RTP/AVP/TCP', delivery: 'unicast', interleaved: [4, 5] })).toBe('RTP/AVP/TCP;unicast;interleaved=4-5');
  });
});
