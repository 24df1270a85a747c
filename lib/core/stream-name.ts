/**
 * Stream names from the wire (docs/architecture.md §1.5 "Names from the wire"): what every
 * protocol checks once, at admission, before a name reaches the hub, a log line or a file path.
 *
 * A name is refused when it is empty, longer than MAX_STREAM_NAME_BYTES in UTF-8, `.` or `..`,
 * or contains `/`, `\` or a control character (C0 U+0000–U+001F or DEL U+007F). Everything LAL
 * users put in names passes: letters, digits, `-_.~`, percent-escapes as sent, non-ASCII text,
 * spaces, and dots inside a name (`a.b`, `a..b`, `.hidden`).
 *
 * Deliberate difference from LAL (docs/urls.md §2): LAL lets an RTMP name contain `/` (ffmpeg's
 * `rtmp://h/a/b/c/d/x` arrives as app `a/b`, name `c/d/x`); such a name cannot be addressed by
 * HTTP or RTSP anyway, and as a file path it would leave the stream's folder, so lal refuses it.
 */
import { utf8Length } from './bytes.ts';

/**
 * Longest stream name, in UTF-8 bytes. Real names (words, UUIDs, signed tokens) stay far below;
 * the bound keeps every log line, stat JSON and notify body that repeats the name small, where a
 * 60,000-character name used to flood them. A name that is also a file name (HLS folder,
 * recording) must in addition fit one path component: see MAX_FILE_NAME_BYTES in safe-path.ts.
 */
export const MAX_STREAM_NAME_BYTES = 1024;


/** A short, printable form of an untrusted name for messages (never the whole of a long one). */
export function quoteName(name: string, max = 80): string {
  return JSON.stringify(name.length > max ? `${name.slice(0, max)}…` : name);
}

/**
 * Why `name` cannot be a stream name, or undefined when it can. The reason is a short English
 * phrase for a log line or an error reply ("contains a control character").
 */
export function checkStreamName(name: string): string | undefined {
  if (name === '') return 'is empty';
  // Cheap upper bound first: a UTF-16 string of n code units is at least n UTF-8 bytes.
  if (name.length > MAX_STREAM_NAME_BYTES || utf8Length(name) > MAX_STREAM_NAME_BYTES) {
    return `is longer than ${MAX_STREAM_NAME_BYTES} bytes`;
  }
  if (name === '.' || name === '..') return `is ${quoteName(name)}`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0x5c) return 'contains a path separator (/ or \\)';
    if (c < 0x20 || c === 0x7f) return 'contains a control character';
  }
  return undefined;
}
