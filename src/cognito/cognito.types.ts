import type { AttributeType, AuthenticationResultType, GroupType, UserType } from '@aws-sdk/client-cognito-identity-provider';

export interface CodeDelivery {
  destination: string;
  medium: string;
}

export interface CognitoTokens {
  accessToken: string;
  idToken: string;
  refreshToken?: string;
  expiresIn: number;
}

/** A second step Cognito asks for before it issues tokens (MFA, an invited user's new password). */
export interface CognitoChallenge {
  name: string;
  session: string;
  /** Seconds left in the challenge session (the app client's authentication flow session duration). */
  expiresIn: number;
}

/** What a login step ends in: tokens, or the next challenge. */
export type AuthOutcome = { tokens: CognitoTokens } | { challenge: CognitoChallenge };

/** The second factors a user has set up, as AdminGetUser reports them. */
export interface MfaSettings {
  totp: boolean;
  preferred: string | null;
}

/** The Cognito user attributes the API mirrors into `user_mapping`. */
export interface CognitoProfile {
  username: string;
  sub: string;
  email: string | null;
  emailVerified: boolean;
  phoneNumber: string | null;
  nickname: string | null;
  enabled: boolean;
}

/** A user as ListUsers reports it: the profile plus its sign-up state. */
export interface CognitoListedUser extends CognitoProfile {
  /** Cognito's UserStatus: UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, ... */
  status: string;
}

export interface CognitoGroup {
  name: string;
  description: string | null;
  precedence: number | null;
}

function attribute(attributes: AttributeType[] | undefined, name: string): string | null {
  return attributes?.find((a) => a.Name === name)?.Value ?? null;
}

export function toProfile(username: string, attributes: AttributeType[] | undefined, enabled = true): CognitoProfile {
  return {
    username,
    sub: attribute(attributes, 'sub') ?? username,
    email: attribute(attributes, 'email'),
    emailVerified: attribute(attributes, 'email_verified') === 'true',
    phoneNumber: attribute(attributes, 'phone_number'),
    nickname: attribute(attributes, 'nickname'),
    enabled,
  };
}

/** A user of a listing (ListUsers, ListUsersInGroup), which carries its attributes as `Attributes`. */
export function toListedUser(user: UserType): CognitoListedUser {
  return { ...toProfile(user.Username ?? '', user.Attributes, user.Enabled ?? true), status: user.UserStatus ?? '' };
}

/** `fallbackName` when Cognito's answer does not name the group (it always does; the SDK types say it may not). */
export function toGroup(group: GroupType | undefined, fallbackName = ''): CognitoGroup {
  return { name: group?.GroupName ?? fallbackName, description: group?.Description ?? null, precedence: group?.Precedence ?? null };
}

export function toDelivery(details: { Destination?: string; DeliveryMedium?: string } | undefined): CodeDelivery {
  return { destination: details?.Destination ?? '', medium: details?.DeliveryMedium ?? 'EMAIL' };
}

/** Null unless Cognito issued both an access and an id token. */
export function toTokens(result: AuthenticationResultType | undefined): CognitoTokens | null {
  if (result?.AccessToken === undefined || result.IdToken === undefined) {
    return null;
  }
  return { accessToken: result.AccessToken, idToken: result.IdToken, refreshToken: result.RefreshToken, expiresIn: result.ExpiresIn ?? 3600 };
}
