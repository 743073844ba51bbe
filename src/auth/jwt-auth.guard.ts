import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { AuthUser } from '../identity/auth-user';
import { bearerToken } from './bearer-token';
import { CognitoJwtStrategy } from './cognito-jwt.strategy';
import { IS_PUBLIC_KEY } from '../identity/public.decorator';

/** What passport gives a strategy for one request: the outcomes it reports back. */
interface StrategyRun {
  success(user: AuthUser): void;
  fail(info?: unknown): void;
  error(err: unknown): void;
  pass(): void;
  redirect(): void;
  authenticate(request: FastifyRequest, options: object): void;
}

/**
 * Global: every route needs a valid Cognito access token unless it is `@Public()`.
 *
 * Runs this application's passport-jwt strategy instance directly, the way passport itself does
 * (a per-request object inheriting from the strategy), instead of looking the strategy up by name
 * in passport's process-wide registry, where a second application instance in the same process
 * (tests, tooling) would silently replace it with one configured for another user pool.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: CognitoJwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic === true) {
      return true;
    }
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = bearerToken(request);
    if (token === null) {
      // What passport-jwt would conclude too, without its Error and the strategy run.
      throw ApiError.unauthenticated();
    }
    request.user = (await this.strategy.authenticateRemembered(token, request)) ?? (await this.authenticate(request));
    return true;
  }

  private authenticate(request: FastifyRequest): Promise<AuthUser> {
    return new Promise<AuthUser>((resolve, reject) => {
      const run = Object.create(this.strategy) as StrategyRun;
      run.success = resolve;
      // passport-jwt reports refusals as `info`; ours are ApiErrors with the precise code.
      run.fail = (info) => reject(info instanceof ApiError ? info : ApiError.unauthenticated());
      run.error = reject;
      run.pass = () => reject(ApiError.unauthenticated());
      run.redirect = () => reject(ApiError.unauthenticated());
      run.authenticate(request, {});
    });
  }
}
