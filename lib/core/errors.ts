/**
 * Error types shared by every module (docs/architecture.md §1.7 rule 4).
 * Messages are module-prefixed (`rtmp: chunk size 0 is invalid`) so a log line says where.
 */

/**
 * Every code a LalError can carry: a stable machine-readable tag (tests and callers branch on it;
 * log lines carry the message). Grouped by where they arise.
 */
export type LalErrorCode =
  // malformed input (ParseError) and broken protocol state (ProtocolError)
  | 'parse' | 'protocol' | 'truncated' | 'too-large' | 'too-many' | 'sequence' | 'crc' | 'no-sync'
  | 'unsupported' | 'bad-signature' | 'bad-command' | 'bad-reply' | 'bad-request' | 'bad-transport' | 'handshake'
  | 'rtsp-header' | 'rtsp-request' | 'rtsp-response' | 'rtsp-interleaved' | 'rtsp-setup' | 'status' | 'status-error'
  | 'server-error' | 'refused' | 'auth' | 'no-track' | 'no-tracks' | 'unknown-track' | 'not-publishing'
  // lifecycle
  | 'state' | 'closed' | 'timeout' | 'aborted' | 'queue-full' | 'connect-failed' | 'in-exist'
  // configuration and usage
  | 'config' | 'usage' | 'hls-config' | 'rtp-options' | 'rtp-codec' | 'no-port' | 'udp-ports'
  // encoders and I/O
  | 'rtmp-encode' | 'amf0-encode' | 'unsafe-path' | 'bad-name' | 'io' | 'flv-io' | 'hls-io' | 'hls-path' | 'hls-state' | 'transport' | 'http'
  // clients (push, pull, remux)
  | 'pub' | 'pull' | 'rtsp' | 'rtsp-client' | 'remux' | 'remux-input' | 'remux-io' | 'remux-empty' | 'remux-usage' | 'remux-unsupported';

/** Base class of every error lal throws on purpose. `code` is a stable machine-readable tag. */
export class LalError extends Error {
  readonly code: LalErrorCode;
  constructor(code: LalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LalError';
    this.code = code;
  }
}

/** Malformed input: the bytes (or text) handed to a parser do not follow the format. */
export class ParseError extends LalError {
  constructor(message: string, code: LalErrorCode = 'parse') {
    super(code, message);
    this.name = 'ParseError';
  }
}

/** A peer broke the protocol's state machine (e.g. media before `publish`). */
export class ProtocolError extends LalError {
  constructor(message: string, code: LalErrorCode = 'protocol') {
    super(code, message);
    this.name = 'ProtocolError';
  }
}

/** Invalid configuration or command-line usage; commands turn it into exit code 1. */
export class ConfigError extends LalError {
  constructor(message: string, code: LalErrorCode = 'config') {
    super(code, message);
    this.name = 'ConfigError';
  }
}

/** Short text of any thrown value, for one-line logs. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/**
 * Text of a thrown value for a log line that must help at 3 a.m.: the message of a LalError (an
 * expected failure with a module-prefixed message), the stack of anything else (a bug).
 */
export function errorDetail(e: unknown): string {
  if (e instanceof LalError) return e.message || e.code;
  if (e instanceof Error) return e.stack || `${e.name}: ${e.message}`;
  return String(e);
}

/** Whether a thrown value is a bug (not a LalError): log it at error with its stack. */
export function isBug(e: unknown): boolean {
  return !(e instanceof LalError);
}
