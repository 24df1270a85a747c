/**
 * Seeded fuzz tests of the RTSP authentication header parsers (issue #9), 100,000 random and
 * mutated values each: the auth-param list (only ParseError), challenge picking and the server's
 * verification of Basic and Digest `Authorization` values (never throw), and the quoting of
 * our own `Authorization` (whatever a challenge carried parses back unchanged).
 */
import { describe, expect, test } from 'bun:test';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../../core/testing.ts';
import { parseAuthParams, pickRtspAuthChallenge, rtspAuthorization, RtspAuthMethod, RtspServerAuth } from './auth.ts';

const RANDOM = (n: number) => new Uint8Array(n).fill(3);
const server = (method: 0 | 1) => new RtspServerAuth({ method, username: 'admin', password: 'P@ss', random: RANDOM });
const digestChallenge = server(RtspAuthMethod.Digest).challenge();
const ch = pickRtspAuthChallenge([digestChallenge]);
if (!ch) throw new Error('no challenge');
const GOOD_DIGEST = rtspAuthorization(ch, { username: 'admin', password: 'P@ss', method: 'DESCRIBE', uri: 'rtsp://h/live/s', cnonce: '0a4f113b', nc: 1 });

const VALUES = [
  digestChallenge,
  'Digest realm="IP Camera(23394)", nonce="a6b5c4", qop="auth,auth-int", opaque="x", algorithm=MD5, stale=FALSE',
  'Basic realm="lal"',
  GOOD_DIGEST,
  'Basic YWRtaW46UEBzcw==',
  'Digest username="a\\"b", realm="r", nonce="n", uri="u", response="00"',
];
const DICT = ['Digest ', 'Basic ', 'realm=', 'nonce=', 'qop=auth', 'algorithm=MD5', 'algorithm=SHA-256', '"', '\\', ',', ', ', '=', ' '].map(utf8Encode);
const text = (input: Uint8Array, rnd: () => number) => (rnd() < 0.8 ? utf8Decode(input) : latin1(input));
const rest = (v: string) => v.slice(v.search(/[ \t]/) + 1);

describe('RTSP auth fuzz', () => {
  test('parseAuthParams: 100,000 inputs, only ParseError, bounded parameter count', () => {
    const r = fuzz('rtsp auth params', { seed: 0xa07, corpus: VALUES.map((v) => utf8Encode(rest(v))), dictionary: DICT }, ({ input, rnd }) => {
      const p = parseAuthParams(text(input, rnd));
      fuzzCheck(p.size <= 32, () => `${p.size} parameters`);
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);

  test('challenges and Authorization values: 100,000 inputs, never throw, our quoting round-trips', () => {
    const digest = server(RtspAuthMethod.Digest);
    digest.challenge(); // the nonce GOOD_DIGEST answers
    const basic = server(RtspAuthMethod.Basic);
    const r = fuzz('rtsp auth headers', { seed: 0xa08, corpus: VALUES.map(utf8Encode), dictionary: DICT, allowed: [] }, ({ input, rnd }) => {
      const value = text(input, rnd);
      for (const s of [digest, basic]) {
        const v = s.verify('DESCRIBE', value);
        fuzzCheck(['ok', 'missing', 'scheme-mismatch', 'bad-credentials', 'unknown-nonce', 'malformed'].includes(v), v);
      }
      const picked = pickRtspAuthChallenge([value]);
      if (picked?.scheme !== 'digest') return;
      const answer = rtspAuthorization(picked, { username: 'u"\\', password: 'p', method: 'SETUP', uri: 'rtsp://h/a b', cnonce: 'c', nc: 2 });
      const p = parseAuthParams(rest(answer));
      fuzzCheck(p.get('realm') === picked.realm && p.get('nonce') === picked.nonce && p.get('username') === 'u"\\' && p.get('uri') === 'rtsp://h/a b',
        () => `quoting round trip of ${JSON.stringify(picked)}: ${answer}`);
      if (picked.opaque !== undefined) fuzzCheck(p.get('opaque') === picked.opaque, 'opaque round trip');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
