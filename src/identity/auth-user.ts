import { ApiError } from '../common/api-error';
import type { UserMapping } from './entities/user-mapping.entity';

/** What a verified Cognito access token says (times in epoch seconds). */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  groups: string[];
  jti: string | null;
  /** The token's OAuth scopes (`scope`, space-separated in the token). */
  scopes: string[];
  iat: number;
  exp: number;
  /**
   * `auth_time`: when the sign-in this token descends from happened. Cognito keeps it across
   * refreshes (cognito-local resets it); null when the token does not carry a valid one.
   */
  authTime: number | null;
  /** Cognito's `origin_jti`: the same for every token refreshed from one sign-in; null without it. */
  originJti: string | null;
}

/** Who is calling: established by the guard from a verified access token and the caller's row. */
export interface AuthUser extends AccessTokenClaims {
  /** `user_mapping.id` */
  id: string;
  /** The caller's `user_mapping` row as the guard read it at the start of this request. */
  account: UserMapping;
  /** The raw access token, for Cognito calls made on the caller's behalf. */
  accessToken: string;
  /** The session of the calling token (docs/sessions.md); null when it belongs to none known. */
  sessionId: string | null;
}

export const ADMIN_GROUP = 'admin';
export const MODERATOR_GROUP = 'moderator';

export function canModerate(user: AuthUser): boolean {
  return user.groups.includes(ADMIN_GROUP) || user.groups.includes(MODERATOR_GROUP);
}

/**
 * The scope Cognito requires of an access token for the self-service calls made with it
 * (GetUser, UpdateUserAttributes, ChangePassword, VerifyUserAttribute, the TOTP calls). Tokens from
 * the password login always carry it; Hosted UI tokens only if the app client allows it.
 */
export const SELF_SERVICE_SCOPE = 'aws.cognito.signin.user.admin';

/** Refuses, before Cognito would, a self-service call the caller's token cannot make. */
export function assertSelfServiceScope(user: AuthUser): void {
  if (!user.scopes.includes(SELF_SERVICE_SCOPE)) {
    throw new ApiError(
      403,
      'INSUFFICIENT_SCOPE',
      `This needs a token with the ${SELF_SERVICE_SCOPE} scope: allow it on the app client and request it at login`,
    );
  }
}
