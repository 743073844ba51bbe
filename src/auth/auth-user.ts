import type { UserMapping } from '../users/entities/user-mapping.entity';

/** What a verified Cognito access token says (times in epoch seconds). */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  groups: string[];
  jti: string | null;
  iat: number;
  exp: number;
}

/** Who is calling: established by the guard from a verified access token and the caller's row. */
export interface AuthUser extends AccessTokenClaims {
  /** `user_mapping.id` */
  id: string;
  /** The caller's `user_mapping` row as the guard read it at the start of this request. */
  account: UserMapping;
  /** The raw access token, for Cognito calls made on the caller's behalf. */
  accessToken: string;
}

export const ADMIN_GROUP = 'admin';
export const MODERATOR_GROUP = 'moderator';

export function canModerate(user: AuthUser): boolean {
  return user.groups.includes(ADMIN_GROUP) || user.groups.includes(MODERATOR_GROUP);
}
