/**
 * Seeded fuzz test of the RTMP command and user-control message parsers (issue #9): 100,000
 * random and mutated AMF0/AMF3 command bodies, only ParseError may escape, and an accepted
 * command re-encodes to a body that parses the same.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { encodeAmf0 } from '../../format/amf0/encode.ts';
import { RtmpMsgType } from './constants.ts';
import { parseCommand, parseUserControl } from './messages.ts';

const CORPUS = [
  encodeAmf0('connect', 1, { app: 'live', type: 'nonprivate', tcUrl: 'rtmp://127.0.0.1:1935/live', objectEncoding: 3 }),
  encodeAmf0('publish', 5, null, 'test?token=x', 'live'),
  encodeAmf0('play', 4, null, 'test', -2000, -1, true),
  encodeAmf0('_result', 2, null, 1),
  encodeAmf0('onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'x' }),
  concat([Uint8Array.of(0), encodeAmf0('createStream', 2, null)]), // AMF3 form: a leading 00
  fromHex('0006 00000001'), // user control: ping request
];

describe('RTMP message parsers fuzz', () => {
  test('parseCommand: 100,000 inputs (AMF0 and AMF3 types), only ParseError, round trip', () => {
    const r = fuzz('rtmp command', { seed: 0xc3d, corpus: CORPUS, dictionary: [fromHex('02'), fromHex('00'), fromHex('000009')] }, ({ input, rnd }) => {
      const type = rnd() < 0.7 ? RtmpMsgType.CommandAmf0 : RtmpMsgType.CommandAmf3;
      const cmd = parseCommand(input, type);
      fuzzCheck(typeof cmd.name === 'string' && typeof cmd.tid === 'number', 'name and transaction id');
      const again = parseCommand(encodeAmf0(cmd.name, cmd.tid, ...cmd.args));
      // encodings compare (a NaN Date is equal to itself there)
      fuzzCheck(Bun.deepEquals(encodeAmf0(again.name, again.tid, ...again.args), encodeAmf0(cmd.name, cmd.tid, ...cmd.args)), 'command round trip');
      const uc = parseUserControl(input);
      if (uc) fuzzCheck(uc.event <= 0xffff && uc.value <= 0xffffffff, 'user control fields');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
