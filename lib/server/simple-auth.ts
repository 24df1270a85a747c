/**
 * Simple authentication (docs/behaviour.md §10): `lal_secret` = lowercase hex MD5 of key + stream name,
 * or the configured `dangerous_lal_secret`. Returns undefined when allowed, else the reason.
 */
import { createHash } from 'node:crypto';

export interface SimpleAuthConfig {
  key: string;
  dangerous_lal_secret: string;
}

export function simpleAuthSecret(key: string, streamName: string): string {
  return createHash('md5').update(key + streamName, 'utf8').digest('hex');
}

export function checkSimpleAuth(cfg: SimpleAuthConfig, enabled: boolean, streamName: string, urlParam: string): string | undefined {
  if (!enabled) return undefined;
  let secret: string | null = null;
  try {
    secret = new URLSearchParams(urlParam).get('lal_secret');
  } catch {
    secret = null;
  }
  if (!secret) return 'lal.logic: simple auth failed since url param lal_secret not found';
  const v = secret.toLowerCase();
  if (cfg.dangerous_lal_secret && cfg.dangerous_lal_secret === v) return undefined;
  if (v === simpleAuthSecret(cfg.key, streamName)) return undefined;
  return 'lal.logic: simple auth failed since url param lal_secret invalid';
}

/** The simple_auth switches; any of them on means simple auth is in use. */
const SIMPLE_AUTH_SWITCHES = [
  'pub_rtmp_enable',
  'sub_rtmp_enable',
  'sub_httpflv_enable',
  'sub_httpts_enable',
  'pub_rtsp_enable',
  'sub_rtsp_enable',
  'hls_m3u8_enable',
] as const;

/** Values published in LAL's own config file: known to anyone who has read it. */
export const LAL_PUBLIC_SIMPLE_AUTH = { key: 'q191201771', dangerous_lal_secret: 'pengrl' } as const;

/**
 * docs/quirks.md Q-CFG-5: what to warn about at start when simple auth is on (any `*_enable`)
 * with a secret anyone can know: an empty `key` (the secret is then the MD5 of the stream name
 * alone), LAL's published `key`, or LAL's published `dangerous_lal_secret` (which opens every
 * stream). Each warning names the config key. Empty when simple auth is off.
 */
export function simpleAuthWarnings(cfg: SimpleAuthConfig & Partial<Record<(typeof SIMPLE_AUTH_SWITCHES)[number], boolean>>): string[] {
  const on = SIMPLE_AUTH_SWITCHES.filter((k) => cfg[k] === true);
  if (on.length === 0) return [];
  const what = `simple auth is enabled (${on.map((k) => `simple_auth.${k}`).join(', ')})`;
  const out: string[] = [];
  if (cfg.key === '') {
    out.push(`${what} with an empty simple_auth.key: lal_secret is then the MD5 of the stream name alone, which anyone can compute; set a private key`);
  } else if (cfg.key === LAL_PUBLIC_SIMPLE_AUTH.key) {
    out.push(`${what} with simple_auth.key "${LAL_PUBLIC_SIMPLE_AUTH.key}", LAL's published example key: anyone can compute lal_secret; set a private key`);
  }
  if (cfg.dangerous_lal_secret === LAL_PUBLIC_SIMPLE_AUTH.dangerous_lal_secret) {
    out.push(
      `${what} with simple_auth.dangerous_lal_secret "${LAL_PUBLIC_SIMPLE_AUTH.dangerous_lal_secret}", LAL's published default: anyone who knows it may publish and play every stream; set it to "" (or a private value)`,
    );
  }
  return out;
}
