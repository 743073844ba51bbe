import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../identity/auth-user';
import { IS_PUBLIC_KEY } from '../identity/public.decorator';
import { Authenticator } from './authenticator';

/**
 * Global: every route needs a valid Cognito access token unless it is `@Public()`. The decision is
 * the Authenticator's; for `/v1` routes the Fastify hook already made it before Nest ran
 * (app.setup.ts), so the guard finds the caller on the request and authenticates only a request
 * the hook did not see.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic === true) {
      return true;
    }
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    request.user ??= await this.authenticator.authenticate(request);
    return true;
  }
}
