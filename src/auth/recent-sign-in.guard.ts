import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { AuthUser } from '../identity/auth-user';
import { assertRecentSignIn, RECENT_SIGN_IN_KEY } from '../identity/recent-sign-in';

/** `@RecentSignIn()`: the caller signed in at most REAUTH_MAX_AGE seconds ago, before anything changes. */
@Injectable()
export class RecentSignInGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean | undefined>(RECENT_SIGN_IN_KEY, [context.getHandler(), context.getClass()]) !== true) {
      return true;
    }
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (user !== undefined) {
      assertRecentSignIn(user, this.config.reauthMaxAgeSeconds);
    }
    return true;
  }
}
