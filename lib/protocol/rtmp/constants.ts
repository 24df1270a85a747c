/**
 * RTMP constants (Adobe RTMP spec 1.0, 2012: §5.4 protocol control, §6.2 user control,
 * §7.1 message types) and the values lal puts on the wire (docs/protocols.md §1, §2.3–§2.5).
 */
import { LAL_VERSION } from '../../core/version.ts';

/** Message type ids (RTMP spec §5.4, §7.1). */
export const RtmpMsgType = {
  SetChunkSize: 1,
  Abort: 2,
  Ack: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  CommandAmf3: 17,
  DataAmf0: 18,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

/** Chunk stream ids lal sends on (docs/protocols.md §2.3). */
export const RtmpCsid = {
  /** Protocol control and user control messages. */
  Control: 2,
  /** NetConnection commands (`connect`, `createStream`) and their replies. */
  Command: 3,
  /** NetStream commands (`publish`, `play`, `onStatus`) and metadata. */
  Stream: 5,
  Audio: 6,
  Video: 7,
} as const;

/** User control event types (RTMP spec §6.2, §7.1.7). */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** Set Peer Bandwidth limit types (RTMP spec §5.4.5). */
export const PeerBandwidthLimit = { Hard: 0, Soft: 1, Dynamic: 2 } as const;

/**
 * Largest message body accepted from a peer: 16 MiB. The largest sane key frame (4K intra
 * frame at a high bitrate) is a few MiB; the 24-bit length field cannot exceed this anyway,
 * but a session may pass a lower limit.
 */
export const MAX_MESSAGE_LENGTH = 16 * 1024 * 1024;
/** Largest chunk size accepted in Set Chunk Size: the spec allows 31 bits, but a chunk never needs to exceed the 24-bit message length. 0 is rejected too. */
export const MAX_CHUNK_SIZE = 0xffffff;
/** Chunk size lal announces and sends with (docs/protocols.md §2.3). */
export const OUT_CHUNK_SIZE = 4096;
/** Peer chunk size until a Set Chunk Size arrives (RTMP spec §5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/**
 * Chunk streams with state per connection. Real peers use fewer than 10; the bound keeps a
 * hostile peer from creating 65,599 partially assembled messages.
 */
export const MAX_CHUNK_STREAMS = 64;

/** Window Acknowledgement Size the server announces after `connect` (docs/protocols.md §2.5). */
export const WINDOW_ACK_SIZE = 5_000_000;
/** Set Peer Bandwidth the server announces after `connect`, with limit type 2 (dynamic). */
export const PEER_BANDWIDTH = 5_000_000;
/** The server acknowledges every 2,500,000 received bytes: half of its own window (docs/protocols.md §2.4). */
export const ACK_THRESHOLD = WINDOW_ACK_SIZE / 2;
/** The acknowledgement sequence number wraps to 0 when it would exceed this (docs/protocols.md §2.4). */
export const ACK_SEQ_WRAP = 0xf0000000;

/** Message stream id `createStream` returns; NetStream messages and media use it (docs/protocols.md §2.3). */
export const MSID_STREAM = 1;

/** `fmsVer` in the `connect` `_result` (docs/protocols.md §2.5). */
export const FMS_VERSION = 'FMS/3,0,1,123';
/** `capabilities` in the `connect` `_result`. */
export const FMS_CAPABILITIES = 31;
/** `version` in the `connect` `_result`: our version with commas, e.g. `0,1,0`. */
export const CONNECT_RESULT_VERSION = LAL_VERSION.split('.').join(',');
/** `flashVer` of the push client (docs/protocols.md §1). */
export const FLASH_VER_PUSH = `FMLE/3.0 (compatible; lal${LAL_VERSION})`;
/** `flashVer` of the pull client (docs/protocols.md §1). */
export const FLASH_VER_PULL = 'LNX 9,0,124,2';
/** ASCII text repeated as handshake filler (docs/protocols.md §1). */
export const HANDSHAKE_FILLER_TEXT = `random buf of rtmp handshake gen by lal v${LAL_VERSION} (lal)`;
