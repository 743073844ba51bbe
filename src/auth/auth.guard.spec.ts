import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ApiError } from '../common/api-error';
import type { AuthUser } from '../identity/auth-user';
import { Public } from '../identity/public.decorator';
import { AuthGuard } from './auth.guard';
import type { Authenticator } from './authenticator';

class Routes {
  privateRoute(): void {}

  @Public()
  publicRoute(): void {}
}

/** The guard as Nest runs it, on one request to one of the routes above. */
function guardOn(route: keyof Routes, request: { user?: AuthUser }, authenticate: Authenticator['authenticate']): boolean | Promise<boolean> {
  const authenticator = { authenticate } as Authenticator;
  const context = new ExecutionContextHost([request, {}, undefined], Routes, Routes.prototype[route]);
  return new AuthGuard(new Reflector(), authenticator).canActivate(context);
}

const refuse = (): Promise<AuthUser> => Promise.reject(ApiError.unauthenticated());
const caller = { id: 'u1', sub: 's1' } as AuthUser;

describe('AuthGuard', () => {
  it('lets a request through at once when the hook already authenticated its caller', () => {
    expect(guardOn('privateRoute', { user: caller }, refuse)).toBe(true);
  });

  it('authenticates a private route the hook did not see, and refuses what the authenticator refuses', async () => {
    await expect(guardOn('privateRoute', {}, refuse)).rejects.toThrow(ApiError);
    const request: { user?: AuthUser } = {};
    await expect(guardOn('privateRoute', request, () => Promise.resolve(caller))).resolves.toBe(true);
    expect(request.user).toBe(caller);
  });

  it('lets a public route through without a caller', () => {
    expect(guardOn('publicRoute', {}, refuse)).toBe(true);
  });
});
