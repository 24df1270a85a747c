/**
 * Simple authentication (behaviour.md §10): `lal_secret` = lowercase hex MD5 of key + stream name,
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
