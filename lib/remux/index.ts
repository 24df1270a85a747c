/** RTMP/FLV ⇄ AvPacket remuxing (docs/architecture.md §1.1 lib/remux): re-exports only. */
export * from './rtmp.ts';
export * from './flv.ts';
export * from './mpegts.ts';
export * from './align.ts';
