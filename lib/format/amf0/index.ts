/** AMF0 (Adobe AMF0 spec): re-exports only. */
export * from './types.ts';
export * from './decode.ts';
export * from './encode.ts';
