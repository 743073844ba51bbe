import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../common/api-error';
import { AuthUser } from '../identity/auth-user';
import { ROLES_KEY } from '../identity/roles.decorator';

/** `@Roles(...)`: the caller must be in one of the groups, matched exactly. No user, no access. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (roles === undefined) {
      return true;
    }
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (user === undefined || !user.groups.some((group) => roles.includes(group))) {
      throw ApiError.forbidden(`This requires the ${roles.join(' or ')} group`);
    }
    return true;
  }
}
