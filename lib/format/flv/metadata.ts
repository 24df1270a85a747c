/**
 * Metadata forms (docs/media.md §2): an RTMP data message may start with the AMF0 string
 * `@setDataFrame`; players, FLV files and caches get the form without it, relay pushes the form
 * with it. A leaf module (no AMF0 decoder needed) so light paths such as `lal remux` load little.
 */

/** AMF0 string `@setDataFrame` (docs/media.md §2). */
export const SET_DATA_FRAME = Uint8Array.of(
  0x02, 0x00, 0x0d, 0x40, 0x73, 0x65, 0x74, 0x44, 0x61, 0x74, 0x61, 0x46, 0x72, 0x61, 0x6d, 0x65,
);

function startsWithSetDataFrame(body: Uint8Array): boolean {
  if (body.length < SET_DATA_FRAME.length) return false;
  for (let i = 0; i < SET_DATA_FRAME.length; i++) if (body[i] !== SET_DATA_FRAME[i]) return false;
  return true;
}

/** Metadata "without SDF" form: a view without a leading `@setDataFrame` string (docs/media.md §2). */
export function stripSetDataFrame(body: Uint8Array): Uint8Array {
  return startsWithSetDataFrame(body) ? body.subarray(SET_DATA_FRAME.length) : body;
}

/** Metadata "with SDF" form: `@setDataFrame` prepended if absent (new buffer), else `body` itself. */
export function withSetDataFrame(body: Uint8Array): Uint8Array {
  if (startsWithSetDataFrame(body)) return body;
  const out = new Uint8Array(SET_DATA_FRAME.length + body.length);
  out.set(SET_DATA_FRAME, 0);
  out.set(body, SET_DATA_FRAME.length);
  return out;
}
