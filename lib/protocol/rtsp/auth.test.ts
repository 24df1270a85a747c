import { test, expect, describe } from 'bun:test';
import { createHash } from 'node:crypto';
import { LalError, ParseError } from '../../core/errors.ts';
import {
  MAX_ISSUED_NONCES,
  RTSP_AUTH_REALM,
  RtspAuthMethod,
  RtspServerAuth,
  md5Hex,
  parseAuthParams,
  pickRtspAuthChallenge,
  rtspAuthorization,
} from './auth.ts';

function counterRandom(): (n: number) => Uint8Array {
  let k = 0;
  return (n) => new Uint8Array(n).fill(++k);
}

describe('client side', () => {
  test('TestGetRtspFirstAuth: Digest when offered first, Basic when offered first', () => {
    const digest = 'Digest realm="54c41545bbe6", nonce="a2e1c8c1a8e2f5c3b0a3c6d1e9f0b7a4", stale="FALSE"';
    const basic = 'Basic realm="54c41545bbe6"';
    expect(pickRtspAuthChallenge([digest, basic])).toEqual({ scheme: 'digest', realm: '54c41545bbe6', nonce: 'a2e1c8c1a8e2f5c3b0a3c6d1e9f0b7a4', opaque: undefined, algorithm: undefined, qopAuth: false });
    expect(pickRtspAuthChallenge([basic, digest])).toEqual({ scheme: 'basic', realm: '54c41545bbe6' });
  });

  test('Dahua: Basic only', () => {
    expect(pickRtspAuthChallenge(['Basic realm="MediaServer3.0"'])).toEqual({ scheme: 'basic', realm: 'MediaServer3.0' });
  });

  test('unusable challenges are skipped', () => {
    expect(pickRtspAuthChallenge(['Negotiate abc', 'Digest realm="r", nonce="n", algorithm=SHA-256', 'Digest realm="r"'])).toBeUndefined();
    expect(pickRtspAuthChallenge(['Digest realm="r", nonce="n", algorithm=SHA-256', 'Digest realm="r", nonce="m", algorithm=MD5'])).toMatchObject({ nonce: 'm', algorithm: 'MD5' });
    expect(pickRtspAuthChallenge([])).toBeUndefined();
  });

  test('TestRtspBasicAuth: admin/admin', () => {
    expect(rtspAuthorization({ scheme: 'basic', realm: 'x' }, { username: 'admin', password: 'admin', method: 'DESCRIBE', uri: 'rtsp://h/a' })).toBe('Basic YWRtaW46YWRtaW4=');
  });

  test('digest without qop (RFC 2069 form, as LAL)', () => {
    const ch = pickRtspAuthChallenge(['Digest realm="lal", nonce="0123456789abcdef0123456789abcdef"']);
    if (!ch) throw new Error('no challenge');
    const h = rtspAuthorization(ch, { username: 'u', password: 'p', method: 'DESCRIBE', uri: 'rtsp://h/live/x' });
    const want = md5Hex(`${md5Hex('u:lal:p')}:0123456789abcdef0123456789abcdef:${md5Hex('DESCRIBE:rtsp://h/live/x')}`);
    expect(h).toBe(`Digest username="u", realm="lal", nonce="0123456789abcdef0123456789abcdef", uri="rtsp://h/live/x", response="${want}"`);
  });

  test('digest with qop=auth: RFC 2617 §3.5 example', () => {
    const ch = pickRtspAuthChallenge([
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ]);
    if (!ch) throw new Error('no challenge');
    const h = rtspAuthorization(ch, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b', nc: 1 });
    expect(h).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(h).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    expect(h).toContain('qop=auth, nc=00000001, cnonce="0a4f113b"');
  });
});

describe('parseAuthParams', () => {
  test('quoted, token and escaped values; keys lower-cased', () => {
    const p = parseAuthParams(' Realm="a, b", nonce=abc ,x="q\\"uote"');
    expect([...p]).toEqual([['realm', 'a, b'], ['nonce', 'abc'], ['x', 'q"uote']]);
  });
  test.each(['realm', 'realm="unterminated', '="x"', 'a=1 b'])('malformed %j', (t) => {
    expect(() => parseAuthParams(t)).toThrow(ParseError);
  });
});

describe('RtspServerAuth (docs/protocols.md §3.5, docs/quirks.md Q-RTSP-1/2)', () => {
  const uri = 'rtsp://127.0.0.1:5544/live/test110';

  test('Basic challenge and verification (docs/quirks.md Q-RTSP-1 FIX)', () => {
    const a = new RtspServerAuth({ method: RtspAuthMethod.Basic, username: 'admin', password: 'admin' });
    expect(a.challenge()).toBe('Basic realm="lal"');
    expect(a.verify('DESCRIBE', undefined)).toBe('missing');
    expect(a.verify('DESCRIBE', 'Basic YWRtaW46YWRtaW4=')).toBe('ok');
    expect(a.verify('DESCRIBE', `Basic ${btoa('admin:nope')}`)).toBe('bad-credentials');
    expect(a.verify('DESCRIBE', `Basic ${btoa('root:admin')}`)).toBe('bad-credentials');
    expect(a.verify('DESCRIBE', `Basic ${btoa('adminadmin')}`)).toBe('malformed');
    expect(a.verify('DESCRIBE', 'Basic !!!')).toBe('malformed');
    expect(a.verify('DESCRIBE', 'Digest username="admin"')).toBe('scheme-mismatch');
  });

  test('Digest: nonce = 32 lowercase hex chars, new per challenge', () => {
    const a = new RtspServerAuth({ method: RtspAuthMethod.Digest, username: 'u', password: 'p', random: counterRandom() });
    const c1 = a.challenge();
    const c2 = a.challenge();
    expect(c1).toBe(`Digest realm="lal", nonce="${createHash('md5').update(new Uint8Array(32).fill(1)).digest('hex')}"`);
    expect(c1).toMatch(/^Digest realm="lal", nonce="[0-9a-f]{32}"$/);
    expect(c2).not.toBe(c1);
  });

  test('Digest: right credentials pass, wrong fail, foreign nonce fails (docs/quirks.md Q-RTSP-2 FIX)', () => {
    const a = new RtspServerAuth({ method: RtspAuthMethod.Digest, username: 'u', password: 'p', random: counterRandom() });
    const ch = pickRtspAuthChallenge([a.challenge()]);
    if (!ch) throw new Error('no challenge');
    expect(a.verify('DESCRIBE', rtspAuthorization(ch, { username: 'u', password: 'p', method: 'DESCRIBE', uri }))).toBe('ok');
    expect(a.verify('DESCRIBE', rtspAuthorization(ch, { username: 'u', password: 'x', method: 'DESCRIBE', uri }))).toBe('bad-credentials');
    expect(a.verify('DESCRIBE', rtspAuthorization(ch, { username: 'v', password: 'p', method: 'DESCRIBE', uri }))).toBe('bad-credentials');
    // Computed for another method than the one being checked.
    expect(a.verify('DESCRIBE', rtspAuthorization(ch, { username: 'u', password: 'p', method: 'SETUP', uri }))).toBe('bad-credentials');
    // A nonce this connection never issued, although the response is computed correctly for it.
    const other = new RtspServerAuth({ method: RtspAuthMethod.Digest, username: 'u', password: 'p' });
    const foreign = pickRtspAuthChallenge([other.challenge()]);
    if (!foreign) throw new Error('no challenge');
    expect(a.verify('DESCRIBE', rtspAuthorization(foreign, { username: 'u', password: 'p', method: 'DESCRIBE', uri }))).toBe('unknown-nonce');
    // Another realm with our nonce.
    expect(a.verify('DESCRIBE', rtspAuthorization({ ...ch, realm: 'x' }, { username: 'u', password: 'p', method: 'DESCRIBE', uri }))).toBe('bad-credentials');
    expect(a.verify('DESCRIBE', 'Basic dTpw')).toBe('scheme-mismatch');
    expect(a.verify('DESCRIBE', 'Digest username="u", realm="lal"')).toBe('malformed');
    expect(a.verify('DESCRIBE', 'Digest garbage')).toBe('malformed');
  });

  test('Digest: a client answering with qop=auth is accepted', () => {
    const a = new RtspServerAuth({ method: RtspAuthMethod.Digest, username: 'u', password: 'p', random: counterRandom() });
    const ch = pickRtspAuthChallenge([a.challenge()]);
    if (!ch || ch.scheme !== 'digest') throw new Error('no challenge');
    const h = rtspAuthorization({ ...ch, qopAuth: true }, { username: 'u', password: 'p', method: 'DESCRIBE', uri, cnonce: 'abcd', nc: 2 });
    expect(h).toContain('nc=00000002');
    expect(a.verify('DESCRIBE', h)).toBe('ok');
    expect(a.verify('DESCRIBE', h.replace('qop=auth', 'qop=auth-int'))).toBe('malformed');
  });

  test(`only the last ${MAX_ISSUED_NONCES} nonces are remembered`, () => {
    const a = new RtspServerAuth({ method: RtspAuthMethod.Digest, username: 'u', password: 'p', random: counterRandom() });
    const first = pickRtspAuthChallenge([a.challenge()]);
    if (!first) throw new Error('no challenge');
    const hdr = rtspAuthorization(first, { username: 'u', password: 'p', method: 'DESCRIBE', uri });
    expect(a.verify('DESCRIBE', hdr)).toBe('ok');
    for (let i = 0; i < MAX_ISSUED_NONCES; i++) a.challenge();
    expect(a.verify('DESCRIBE', hdr)).toBe('unknown-nonce');
  });

  test('realm constant and bad method', () => {
    expect(RTSP_AUTH_REALM).toBe('lal');
    expect(() => new RtspServerAuth({ method: 2 as 0, username: '', password: '' })).toThrow(LalError);
  });
});
