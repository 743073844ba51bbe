import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../common/api-error';
import { AuthUser } from './auth-user';
import { IS_PUBLIC_KEY } from './decorators/public.decorator';

/** Global: every route needs a valid Cognito access token unless it is `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('cognito-jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic === true) {
      return true;
    }
    return super.canActivate(context) as Promise<boolean>;
  }

  /** passport reports refusals as `info`; ours are `ApiError`s with the precise code. */
  override handleRequest<TUser = AuthUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    // Not `instanceof Error`: socket errors from Node's core may come from another realm.
    if (err !== null && err !== undefined && err !== false) {
      throw err as Error;
    }
    if (info instanceof ApiError) {
      throw info;
    }
    if (user === false || user === null || user === undefined) {
      throw ApiError.unauthenticated();
    }
    return user;
  }
}
