import { describe, expect, test } from 'bun:test';
import { defaultConfig } from './config.ts';
import { checkSimpleAuth, simpleAuthSecret, simpleAuthWarnings } from './simple-auth.ts';

describe('simpleAuthWarnings (docs/quirks.md Q-CFG-5)', () => {
  test('the shipped config ships dangerous_lal_secret empty and warns about nothing while auth is off', () => {
    const c = defaultConfig().simple_auth;
    expect(c.dangerous_lal_secret).toBe('');
    expect(simpleAuthWarnings(c)).toEqual([]);
    expect(simpleAuthWarnings({ ...c, key: '', dangerous_lal_secret: 'pengrl' })).toEqual([]);
  });

  test("auth on with LAL's dangerous secret: one warning naming simple_auth.dangerous_lal_secret", () => {
    const w = simpleAuthWarnings({ ...defaultConfig().simple_auth, key: 'my-private-key', dangerous_lal_secret: 'pengrl', pub_rtmp_enable: true });
    expect(w.length).toBe(1);
    expect(w[0]).toContain('simple_auth.dangerous_lal_secret');
    expect(w[0]).toContain('simple_auth.pub_rtmp_enable');
  });

  test('auth on with an empty key, or with LAL’s published key: a warning naming simple_auth.key', () => {
    for (const key of ['', 'q191201771']) {
      const w = simpleAuthWarnings({ ...defaultConfig().simple_auth, key, hls_m3u8_enable: true });
      expect(w.length).toBe(1);
      expect(w[0]).toContain('simple_auth.key');
      expect(w[0]).toContain('simple_auth.hls_m3u8_enable');
    }
    expect(simpleAuthWarnings({ ...defaultConfig().simple_auth, key: '', dangerous_lal_secret: 'pengrl', sub_rtsp_enable: true }).length).toBe(2);
  });

  test('a private key and an empty (or private) dangerous secret: no warning', () => {
    for (const d of ['', 'not-the-default']) {
      expect(simpleAuthWarnings({ ...defaultConfig().simple_auth, key: 'k3y', dangerous_lal_secret: d, pub_rtmp_enable: true, sub_httpflv_enable: true })).toEqual([]);
    }
  });

  test('an empty dangerous secret is never accepted as lal_secret', () => {
    const cfg = { key: 'k', dangerous_lal_secret: '' };
    expect(checkSimpleAuth(cfg, true, 's', 'lal_secret=')).toContain('not found');
    expect(checkSimpleAuth(cfg, true, 's', 'lal_secret=pengrl')).toContain('invalid');
    expect(checkSimpleAuth(cfg, true, 's', `lal_secret=${simpleAuthSecret('k', 's')}`)).toBeUndefined();
  });
});
