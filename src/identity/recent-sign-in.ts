import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiError } from '../common/api-error';
import type { AuthUser } from './auth-user';

export const RECENT_SIGN_IN_KEY = 'auth:recent-sign-in';

const REAUTH_DESCRIPTION =
  "REAUTHENTICATION_REQUIRED: the sign-in (the token's auth_time) is older than REAUTH_MAX_AGE. " +
  'WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=<seconds> (RFC 9470): sign in again and repeat the call.';

/**
 * The route needs a recent sign-in (step-up, RFC 9470): the token's `auth_time` at most
 * REAUTH_MAX_AGE seconds ago. Checked by the global RecentSignInGuard, documented in OpenAPI.
 */
export const RecentSignIn = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(RECENT_SIGN_IN_KEY, true), ApiUnauthorizedResponse({ description: REAUTH_DESCRIPTION }));

/** The same rule for a route that needs it only in some states (TOTP re-bound while it is on). */
export const MaybeRecentSignIn = (when: string): MethodDecorator =>
  applyDecorators(ApiUnauthorizedResponse({ description: `${when}: ${REAUTH_DESCRIPTION}` }));

/**
 * Refuses a token whose sign-in is older than `maxAgeSeconds`. Only `auth_time` counts: Cognito
 * keeps the sign-in's on every refreshed token (an emulator that resets it must not be relied on),
 * and a token without one is never recent.
 */
export function assertRecentSignIn(user: AuthUser, maxAgeSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): void {
  if (user.authTime !== null && nowSeconds - user.authTime <= maxAgeSeconds) {
    return;
  }
  throw new ApiError(
    401,
    'REAUTHENTICATION_REQUIRED',
    `This needs a sign-in within the last ${maxAgeSeconds} seconds: sign in again and repeat the request`,
    {
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_user_authentication", max_age=${maxAgeSeconds}` },
    },
  );
}
