import { test, expect, describe } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { encodeAmf0 } from '../../format/amf0/index.ts';
import { RtmpChunkReader } from './chunk-reader.ts';
import {
  acknowledgement,
  command,
  dataMessage,
  parseCommand,
  parseUserControl,
  pingRequest,
  pingResponse,
  setChunkSize,
  setPeerBandwidth,
  stripSetDataFrame,
  streamBegin,
  streamIsRecorded,
  userControl,
  windowAckSize,
  withSetDataFrame,
  SET_DATA_FRAME,
} from './messages.ts';
import { fromHex, toHex } from '../../core/testing.ts';

describe('control message builders (exact bytes)', () => {
  test.each([
    ['setChunkSize(4096)', () => setChunkSize(4096), '02 000000 000004 01 00000000 00001000'],
    ['windowAckSize(5000000)', () => windowAckSize(5000000), '02 000000 000004 05 00000000 004c4b40'],
    ['setPeerBandwidth(5000000, 2)', () => setPeerBandwidth(5000000, 2), '02 000000 000005 06 00000000 004c4b40 02'],
    ['acknowledgement(2500000)', () => acknowledgement(2500000), '02 000000 000004 03 00000000 002625a0'],
    ['userControl(3, 7)', () => userControl(3, 7), '02 000000 000006 04 00000000 0003 00000007'],
    ['streamBegin(1)', () => streamBegin(1), '02 000000 000006 04 00000000 0000 00000001'],
    ['streamIsRecorded(1)', () => streamIsRecorded(1), '02 000000 000006 04 00000000 0004 00000001'],
    ['pingRequest(9)', () => pingRequest(9), '02 000000 000006 04 00000000 0006 00000009'],
    ['pingResponse(9)', () => pingResponse(9), '02 000000 000006 04 00000000 0007 00000009'],
  ])('%s', (_name, build, bytes) => {
    expect(toHex(build())).toBe(toHex(fromHex(bytes)));
  });

  test('parseUserControl', () => {
    expect(parseUserControl(fromHex('0006 0000abcd'))).toEqual({ event: 6, value: 0xabcd });
    expect(parseUserControl(fromHex('0006 00'))).toBeUndefined();
  });
});

describe('commands', () => {
  test('command() encodes type 20 and parseCommand reads it back', () => {
    const bytes = command(5, 1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Start' });
    const [m] = new RtmpChunkReader().feed(bytes);
    expect([m.csid, m.type, m.streamId, m.timestamp]).toEqual([5, 20, 1, 0]);
    expect(toHex(m.body)).toBe(toHex(encodeAmf0('onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Start' })));
    expect(parseCommand(m.body)).toEqual({ name: 'onStatus', tid: 0, args: [null, { level: 'status', code: 'NetStream.Play.Start' }] });
  });

  test('AMF3 command messages (type 17): first byte skipped', () => {
    const body = new Uint8Array([0x00, ...encodeAmf0('connect', 1, { app: 'live' })]);
    expect(parseCommand(body, 17)).toEqual({ name: 'connect', tid: 1, args: [{ app: 'live' }] });
    expect(() => parseCommand(new Uint8Array(0), 17)).toThrow(ParseError);
  });

  test('malformed commands are ParseErrors', () => {
    expect(() => parseCommand(encodeAmf0(1, 2))).toThrow(/string name/);
    expect(() => parseCommand(encodeAmf0('play'))).toThrow(/transaction id/);
    expect(() => parseCommand(encodeAmf0('play', 'x'))).toThrow(ParseError);
    expect(() => parseCommand(fromHex('02 0005 61'))).toThrow(ParseError);
  });

  test('dataMessage() is type 18 with the body unchanged', () => {
    const body = encodeAmf0('onMetaData', { width: 2 });
    const [m] = new RtmpChunkReader().feed(dataMessage(5, 1, body, 33));
    expect([m.type, m.csid, m.streamId, m.timestamp]).toEqual([18, 5, 1, 33]);
    expect(m.body).toEqual(body);
  });
});

describe('@setDataFrame (docs/media.md §2)', () => {
  const meta = encodeAmf0('onMetaData', { duration: 0 });
  const withSdf = new Uint8Array([...encodeAmf0('@setDataFrame'), ...meta]);

  test('SET_DATA_FRAME is the AMF0 string from the spec', () => {
    expect(toHex(SET_DATA_FRAME)).toBe('02000d40736574446174614672616d65');
  });
  test('strip removes a leading @setDataFrame (as a view) and leaves others alone', () => {
    const s = stripSetDataFrame(withSdf);
    expect(s).toEqual(meta);
    expect(s.buffer).toBe(withSdf.buffer);
    expect(stripSetDataFrame(meta)).toBe(meta);
  });
  test('with prepends it once', () => {
    expect(withSetDataFrame(meta)).toEqual(withSdf);
    expect(withSetDataFrame(withSdf)).toBe(withSdf);
    expect(stripSetDataFrame(withSetDataFrame(meta))).toEqual(meta);
  });
});
