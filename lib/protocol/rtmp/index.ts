/** RTMP protocol library, sans-I/O (Adobe RTMP spec 1.0; docs/protocols.md §2, §7.1): re-exports only. */
export * from './constants.ts';
export * from './handshake.ts';
export * from './chunk-reader.ts';
export * from './chunk-writer.ts';
export * from './messages.ts';
export * from './url.ts';
export * from './server-conn.ts';
export * from './client-conn.ts';
