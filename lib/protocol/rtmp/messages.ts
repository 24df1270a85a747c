/**
 * RTMP message builders and parsers (RTMP spec §5.4 protocol control, §6.2 user control,
 * §7.1 command/data messages; docs/protocols.md §2.4–§2.5; docs/media.md §2 for `@setDataFrame`).
 * Builders return complete chunk bytes, chunked at OUT_CHUNK_SIZE: callers send Set Chunk Size
 * 4096 before any message longer than 128 bytes (both lal conns do, docs/protocols.md §2.5/§7.1).
 * Control messages go on csid 2, message stream 0, timestamp 0.
 */
import { ParseError } from '../../core/errors.ts';
import { putU16be, putU32be, u16be, u32be } from '../../core/bytes.ts';
import { decodeAmf0All, encodeAmf0, type Amf0Value } from '../../format/amf0/index.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { OUT_CHUNK_SIZE, RtmpCsid, RtmpMsgType, UserControlEvent } from './constants.ts';

function control(type: number, body: Uint8Array): Uint8Array {
  return encodeRtmpMessage({ csid: RtmpCsid.Control, type, timestamp: 0, streamId: 0, body }, OUT_CHUNK_SIZE);
}

function u32Body(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32be(b, 0, v >>> 0);
  return b;
}

/** Set Chunk Size (type 1). */
export function setChunkSize(n: number): Uint8Array {
  return control(RtmpMsgType.SetChunkSize, u32Body(n & 0x7fffffff));
}

/** Window Acknowledgement Size (type 5). */
export function windowAckSize(n: number): Uint8Array {
  return control(RtmpMsgType.WindowAckSize, u32Body(n));
}

/** Set Peer Bandwidth (type 6); limitType: PeerBandwidthLimit. */
export function setPeerBandwidth(n: number, limitType: number): Uint8Array {
  const b = new Uint8Array(5);
  putU32be(b, 0, n >>> 0);
  b[4] = limitType;
  return control(RtmpMsgType.SetPeerBandwidth, b);
}

/** Acknowledgement (type 3) with the sequence number (bytes received). */
export function acknowledgement(seq: number): Uint8Array {
  return control(RtmpMsgType.Ack, u32Body(seq));
}

/** User Control (type 4): event type (u16) + one u32 value. */
export function userControl(event: number, value: number): Uint8Array {
  const b = new Uint8Array(6);
  putU16be(b, 0, event);
  putU32be(b, 2, value >>> 0);
  return control(RtmpMsgType.UserControl, b);
}

export const streamBegin = (streamId: number): Uint8Array => userControl(UserControlEvent.StreamBegin, streamId);
export const streamIsRecorded = (streamId: number): Uint8Array => userControl(UserControlEvent.StreamIsRecorded, streamId);
export const pingRequest = (timestamp: number): Uint8Array => userControl(UserControlEvent.PingRequest, timestamp);
export const pingResponse = (timestamp: number): Uint8Array => userControl(UserControlEvent.PingResponse, timestamp);

/** AMF0 command (type 20): name, transaction id, then the arguments. */
export function command(csid: number, streamId: number, name: string, tid: number, ...args: Amf0Value[]): Uint8Array {
  return encodeRtmpMessage(
    { csid, type: RtmpMsgType.CommandAmf0, timestamp: 0, streamId, body: encodeAmf0(name, tid, ...args) },
    OUT_CHUNK_SIZE,
  );
}

/** AMF0 data message (type 18) with a ready body (e.g. metadata). */
export function dataMessage(csid: number, streamId: number, body: Uint8Array, timestamp = 0): Uint8Array {
  return encodeRtmpMessage({ csid, type: RtmpMsgType.DataAmf0, timestamp, streamId, body }, OUT_CHUNK_SIZE);
}

/** A decoded command message. */
export interface RtmpCommand {
  name: string;
  tid: number;
  /** Values after the transaction id (command object first, usually). */
  args: Amf0Value[];
}

/**
 * Parse a command body. For AMF3 commands (type 17) the first byte (the AMF0 switch) is
 * skipped and the rest read as AMF0 (docs/protocols.md §2.4). Throws ParseError.
 */
export function parseCommand(body: Uint8Array, type: number = RtmpMsgType.CommandAmf0): RtmpCommand {
  let b = body;
  if (type === RtmpMsgType.CommandAmf3) {
    if (b.length < 1) throw new ParseError('rtmp: empty AMF3 command message');
    b = b.subarray(1);
  }
  const values = decodeAmf0All(b);
  const name = values[0];
  const tid = values[1];
  if (typeof name !== 'string') throw new ParseError('rtmp: command message does not start with an AMF0 string name');
  if (typeof tid !== 'number') throw new ParseError(`rtmp: command ${name} has no numeric transaction id`);
  return { name, tid, args: values.slice(2) };
}

/** Parsed User Control message (type 4). */
export function parseUserControl(body: Uint8Array): { event: number; value: number } | undefined {
  if (body.length < 6) return undefined;
  return { event: u16be(body, 0), value: u32be(body, 2) };
}

// `@setDataFrame` forms live with the FLV format (docs/media.md §2); re-exported for RTMP users.
export { SET_DATA_FRAME, stripSetDataFrame, withSetDataFrame } from '../../format/flv/metadata.ts';
