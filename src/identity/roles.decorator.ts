import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'auth:roles';

/** The caller must be in at least one of these Cognito groups (exact, case-sensitive match). */
export const Roles = (...groups: string[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, groups);
