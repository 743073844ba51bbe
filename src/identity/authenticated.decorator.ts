import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ADMIN_GROUP } from './auth-user';
import { Roles } from './roles.decorator';

/**
 * A route (or every route of a controller) for signed-in callers: documented as needing a bearer
 * token in the OpenAPI document and, with `admin`, refused to callers outside the admin group.
 * The global AuthGuard authenticates every route that is not `@Public()` either way; this says so
 * where it is read, and keeps the documentation from drifting from the rule.
 */
export const Authenticated = (options: { admin?: boolean } = {}): MethodDecorator & ClassDecorator =>
  options.admin === true ? applyDecorators(ApiBearerAuth(), Roles(ADMIN_GROUP)) : applyDecorators(ApiBearerAuth());
