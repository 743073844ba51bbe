import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import type { AuthUser } from './auth-user';

const REAUTH_DESCRIPTION =
  "REAUTHENTICATION_REQUIRED: the sign-in (the token's auth_time) is older than REAUTH_MAX_AGE seconds. " +
  'WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=<REAUTH_MAX_AGE> (RFC 9470): sign in again and repeat the call.';

/**
 * Refuses a token whose sign-in is older than `maxAgeSeconds` (step-up, RFC 9470). Only
 * `auth_time` counts: Cognito keeps the sign-in's on every refreshed token (an emulator that
 * resets it must not be relied on), and a token without one is never recent.
 */
export function assertRecentSignIn(user: AuthUser, maxAgeSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): void {
  if (user.authTime !== null && nowSeconds - user.authTime <= maxAgeSeconds) {
    return;
  }
  throw new ApiError(
    401,
    'REAUTHENTICATION_REQUIRED',
    `This needs a sign-in within the last ${maxAgeSeconds} seconds: sign in again and repeat the request`,
    { headers: { 'WWW-Authenticate': `Bearer error="insufficient_user_authentication", max_age=${maxAgeSeconds}` } },
  );
}

/** Runs after the global authentication guard, on the routes marked `@RecentSignIn()` only. */
@Injectable()
export class RecentSignInGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (user !== undefined) {
      assertRecentSignIn(user, this.config.reauthMaxAgeSeconds);
    }
    return true;
  }
}

/**
 * The route needs a recent sign-in: the token's `auth_time` at most REAUTH_MAX_AGE seconds ago,
 * checked before the handler runs, so a refusal changes nothing. Documented in OpenAPI.
 */
export const RecentSignIn = (): MethodDecorator & ClassDecorator =>
  applyDecorators(UseGuards(RecentSignInGuard), ApiUnauthorizedResponse({ description: REAUTH_DESCRIPTION }));

/** The same rule for a route that needs it only in some states; its service checks it. */
export const MaybeRecentSignIn = (when: string): MethodDecorator =>
  applyDecorators(ApiUnauthorizedResponse({ description: `${when}: ${REAUTH_DESCRIPTION}` }));
