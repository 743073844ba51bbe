import { ApiError } from '../common/api-error';
import type { AccessTokenClaims } from '../identity/auth-user';

/** Allowed clock skew for exp / nbf / iat: 5 s either way (docs/architecture.md, the auth guard). */
export const CLOCK_SKEW_SECONDS = 5;

/**
 * The claim checks jsonwebtoken does not do for us (it already checked signature, RS256, exp
 * when present, nbf and the exact issuer). Cognito access tokens have no `aud`, so `client_id`
 * is compared here.
 */
export function checkAccessTokenClaims(payload: Record<string, unknown>, clientId: string, nowSeconds: number): AccessTokenClaims {
  const refuse = (why: string): never => {
    throw ApiError.unauthenticated(why);
  };
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    refuse('The token has no expiry');
  }
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat) || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    refuse('The token has no valid issue time');
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds + CLOCK_SKEW_SECONDS)) {
    refuse('The token is not valid yet');
  }
  if (payload.token_use !== 'access') {
    refuse('Only access tokens are accepted');
  }
  if (payload.client_id !== clientId) {
    refuse('The token was issued to another client');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    refuse('The token has no subject');
  }
  const groups = payload['cognito:groups'];
  if (groups !== undefined && (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))) {
    refuse('The token groups are malformed');
  }
  if (payload.jti !== undefined && typeof payload.jti !== 'string') {
    refuse('The token id is malformed');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') {
    refuse('The token scope is malformed');
  }
  if (payload.origin_jti !== undefined && (typeof payload.origin_jti !== 'string' || payload.origin_jti === '')) {
    refuse('The token origin is malformed');
  }
  if (payload.auth_time !== undefined && (typeof payload.auth_time !== 'number' || !Number.isFinite(payload.auth_time))) {
    refuse('The token sign-in time is malformed');
  }
  const username = typeof payload.username === 'string' && payload.username !== '' ? payload.username : (payload.sub as string);
  return {
    sub: payload.sub as string,
    username,
    groups: (groups as string[] | undefined) ?? [],
    jti: (payload.jti as string | undefined) ?? null,
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter((s) => s !== '') : [],
    iat: payload.iat as number,
    exp: payload.exp as number,
    authTime: typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time : null,
    originJti: typeof payload.origin_jti === 'string' && payload.origin_jti !== '' ? payload.origin_jti : null,
  };
}
