import jwt from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import type { AccessTokenClaims } from '../identity/auth-user';
import { VerifiedTokenCache } from './verified-token-cache';

const claims = (exp: number): AccessTokenClaims => ({
  sub: 's',
  username: 'u',
  groups: [],
  jti: 'j',
  scopes: [],
  iat: exp - 3600,
  exp,
  authTime: null,
  originJti: null,
});
const published = () => true;

describe('VerifiedTokenCache', () => {
  it('returns the claims of a remembered token while it is unexpired', () => {
    const cache = new VerifiedTokenCache(10);
    const key = VerifiedTokenCache.keyOf('a.b.c');
    cache.set(key, claims(1000), 'kid');
    expect(cache.get(key, 990, 5, published)).toEqual(claims(1000));
    expect(cache.get(VerifiedTokenCache.keyOf('a.b.d'), 990, 5, published)).toBeNull();
  });

  it('forgets a token once it expired beyond the skew', () => {
    const cache = new VerifiedTokenCache(10);
    const key = VerifiedTokenCache.keyOf('t');
    cache.set(key, claims(1000), 'kid');
    expect(cache.get(key, 1004, 5, published)).not.toBeNull();
    expect(cache.get(key, 1006, 5, published)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('expires a remembered token at the same second as a fresh verification with jsonwebtoken', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign({ sub: 's', iat: 0, exp: 1000 }, privateKey, { algorithm: 'RS256' });
    const freshAccepts = (now: number): boolean => {
      try {
        jwt.verify(token, publicKey, { algorithms: ['RS256'], clockTolerance: 5, clockTimestamp: now });
        return true;
      } catch {
        return false;
      }
    };
    for (const now of [1004, 1005, 1006]) {
      const cache = new VerifiedTokenCache(10);
      const key = VerifiedTokenCache.keyOf(token);
      cache.set(key, claims(1000), 'kid');
      expect({ now, cached: cache.get(key, now, 5, published) !== null }).toEqual({ now, cached: freshAccepts(now) });
    }
  });

  it('forgets a token whose signing key left the JWKS', () => {
    const cache = new VerifiedTokenCache(10);
    const key = VerifiedTokenCache.keyOf('t');
    cache.set(key, claims(1000), 'old-kid');
    expect(cache.get(key, 900, 5, (kid) => kid !== 'old-kid')).toBeNull();
  });

  it('evicts the oldest entry at capacity', () => {
    const cache = new VerifiedTokenCache(2);
    const [a, b, c] = ['a', 'b', 'c'].map((t) => VerifiedTokenCache.keyOf(t));
    cache.set(a, claims(1000), 'k');
    cache.set(b, claims(1000), 'k');
    cache.set(c, claims(1000), 'k');
    expect(cache.get(a, 900, 5, published)).toBeNull();
    expect(cache.get(c, 900, 5, published)).not.toBeNull();
    expect(cache.size).toBe(2);
  });
});
