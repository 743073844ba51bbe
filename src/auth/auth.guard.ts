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
 * the hook did not see. Synchronous when the caller is found: an async guard costs every request
 * two more promises in Nest's guard chain (about 1 KB of garbage per request, measured).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    if (request.user !== undefined) {
      return true;
    }
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    return isPublic === true || this.authenticateHere(request);
  }

  private async authenticateHere(request: FastifyRequest & { user?: AuthUser }): Promise<boolean> {
    request.user = await this.authenticator.authenticate(request);
    return true;
  }
}
