/** RTSP protocol library, sans-I/O (RFC 2326, RFC 2617; docs/protocols.md §3, §7.2): re-exports only. */
export * from './message.ts';
export * from './interleaved.ts';
export * from './auth.ts';
export * from './transport.ts';
export * from './url.ts';
export * from './server-conn.ts';
export * from './client-conn.ts';
