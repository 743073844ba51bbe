/** Who is calling: established by the guard from a verified access token and the caller's row. */
export interface AuthUser {
  /** `user_mapping.id` */
  id: string;
  sub: string;
  username: string;
  groups: string[];
  jti: string | null;
  /** Token expiry, epoch seconds. */
  exp: number;
  /** The raw access token, for Cognito calls made on the caller's behalf. */
  accessToken: string;
}

export const ADMIN_GROUP = 'admin';
export const MODERATOR_GROUP = 'moderator';

export function isAdmin(user: AuthUser): boolean {
  return user.groups.includes(ADMIN_GROUP);
}

export function canModerate(user: AuthUser): boolean {
  return user.groups.includes(ADMIN_GROUP) || user.groups.includes(MODERATOR_GROUP);
}
