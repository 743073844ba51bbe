import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUserGlobalSignOutCommand,
  AssociateSoftwareTokenCommand,
  AttributeType,
  AuthenticationResultType,
  ChallengeNameType,
  ChangePasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  DescribeUserPoolClientCommand,
  ForgotPasswordCommand,
  GetGroupCommand,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SetUserMFAPreferenceCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
  VerifySoftwareTokenCommand,
  VerifyUserAttributeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createHmac } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { AppConfig, CognitoConfig } from '../config/app-config';
import { CognitoErrorOverrides, errorName, mapCognitoError } from './cognito-errors';

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

/** Cognito's default authentication flow session duration, when the app client does not say. */
const DEFAULT_AUTH_SESSION_SECONDS = 180;

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

/** ListUsers returns at most 60 users a call. */
export const LIST_USERS_PAGE_SIZE = 60;

export interface CognitoGroup {
  name: string;
  description: string | null;
  precedence: number | null;
}

function attribute(attributes: AttributeType[] | undefined, name: string): string | null {
  return attributes?.find((a) => a.Name === name)?.Value ?? null;
}

function toProfile(username: string, attributes: AttributeType[] | undefined, enabled = true): CognitoProfile {
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

/** The longest a request waits for any one Cognito call, retries included, before it answers 503. */
export const COGNITO_CALL_DEADLINE_MS = 2_500;

function delivery(details: { Destination?: string; DeliveryMedium?: string } | undefined): CodeDelivery {
  return { destination: details?.Destination ?? '', medium: details?.DeliveryMedium ?? 'EMAIL' };
}

/**
 * The one place that talks to the Cognito API. Every SDK error leaves this class as an
 * `ApiError` with the contract's code; callers never see SDK types for failures.
 */
@Injectable()
export class CognitoService implements OnModuleDestroy {
  private readonly logger = new Logger(CognitoService.name);
  private readonly client: CognitoIdentityProviderClient;
  private readonly cognito: CognitoConfig;

  constructor(config: AppConfig) {
    this.cognito = config.cognito;
    this.client = new CognitoIdentityProviderClient({
      region: this.cognito.region,
      endpoint: this.cognito.endpoint,
      // Throttling (and transient faults) are retried twice with exponential backoff before we
      // answer 429 / 503. The SDK's default backoff for throttling (random up to 1 s, then 2 s)
      // would not fit the call's deadline; 200 ms then 400 ms does.
      retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 100 * 2 ** attempt),
      // An unreachable Cognito must give a fast 503, not a hung request: a connection that is not
      // up in 1 s, or an attempt with no answer by the call's deadline, is an error (the SDK only
      // logs an expired requestTimeout unless told to throw).
      requestHandler: { connectionTimeout: 1_000, requestTimeout: COGNITO_CALL_DEADLINE_MS, throwOnRequestTimeout: true },
    });
  }

  /**
   * Options for every SDK call: the whole call, retries and backoff included, is abandoned at
   * the deadline, so a black-holed Cognito answers 503 IDP_UNAVAILABLE in bounded time.
   */
  private deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(COGNITO_CALL_DEADLINE_MS) };
  }

  onModuleDestroy(): void {
    this.client.destroy();
  }

  private get clientId(): string {
    return this.cognito.clientId;
  }

  /** SECRET_HASH is required on user-facing calls when the app client has a secret. */
  private secretHash(username: string): { SecretHash?: string } {
    if (this.cognito.clientSecret === undefined) {
      return {};
    }
    const hash = createHmac('sha256', this.cognito.clientSecret)
      .update(username + this.clientId)
      .digest('base64');
    return { SecretHash: hash };
  }

  private async call<T>(operation: string, run: () => Promise<T>, overrides?: CognitoErrorOverrides): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw mapCognitoError(error, operation, overrides);
    }
  }

  /** Like `call`, for operations where the named SDK errors mean "already done" or "nothing to reveal". */
  private async tolerate(operation: string, run: () => Promise<unknown>, tolerated: string[]): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (tolerated.includes(errorName(error) ?? '')) {
        return;
      }
      throw mapCognitoError(error, operation);
    }
  }

  // ---- sign-up and login --------------------------------------------------------------------

  async signUp(input: {
    email: string;
    password: string;
    nickname: string;
    phoneNumber?: string;
  }): Promise<{ userSub: string; codeDelivery: CodeDelivery }> {
    const attributes: AttributeType[] = [
      { Name: 'email', Value: input.email },
      { Name: 'nickname', Value: input.nickname },
    ];
    if (input.phoneNumber !== undefined) {
      attributes.push({ Name: 'phone_number', Value: input.phoneNumber });
    }
    const out = await this.call('SignUp', () =>
      this.client.send(
        new SignUpCommand({
          ClientId: this.clientId,
          Username: input.email,
          Password: input.password,
          UserAttributes: attributes,
          ...this.secretHash(input.email),
        }),
        this.deadline(),
      ),
    );
    return { userSub: out.UserSub ?? '', codeDelivery: delivery(out.CodeDeliveryDetails) };
  }

  async confirmSignUp(email: string, code: string): Promise<void> {
    await this.call(
      'ConfirmSignUp',
      () =>
        this.client.send(
          new ConfirmSignUpCommand({ ClientId: this.clientId, Username: email, ConfirmationCode: code, ...this.secretHash(email) }),
          this.deadline(),
        ),
      {
        // Unknown email, or an account that cannot be confirmed (already confirmed): the same
        // answer as a wrong code, so the route tells nothing about who exists.
        UserNotFoundException: () => mapCognitoError({ name: 'CodeMismatchException' }, 'ConfirmSignUp'),
        NotAuthorizedException: () => mapCognitoError({ name: 'CodeMismatchException' }, 'ConfirmSignUp'),
      },
    );
  }

  /** Sends a new code; unknown or already-confirmed emails are not revealed to the caller. */
  async resendConfirmationCode(email: string): Promise<void> {
    await this.tolerate(
      'ResendConfirmationCode',
      () =>
        this.client.send(
          new ResendConfirmationCodeCommand({ ClientId: this.clientId, Username: email, ...this.secretHash(email) }),
          this.deadline(),
        ),
      ['UserNotFoundException', 'InvalidParameterException'],
    );
  }

  async login(email: string, password: string): Promise<AuthOutcome> {
    const out = await this.call(
      'InitiateAuth',
      () =>
        this.client.send(
          new InitiateAuthCommand({
            ClientId: this.clientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: email, PASSWORD: password, ...this.secretHashParam(email) },
          }),
          this.deadline(),
        ),
      {
        // Unknown email and wrong password get the same answer (no user enumeration).
        UserNotFoundException: () => mapCognitoError({ name: 'NotAuthorizedException' }, 'InitiateAuth'),
        // cognito-local reports a wrong password as InvalidPasswordException; Cognito says NotAuthorized.
        InvalidPasswordException: () => mapCognitoError({ name: 'NotAuthorizedException' }, 'InitiateAuth'),
        // Cognito says so before it checks the password: answering it would tell anyone that the
        // account exists. The user recovers the way anyone with a wrong password does, through
        // password/forgot (which works for an account in this state).
        PasswordResetRequiredException: () => mapCognitoError({ name: 'NotAuthorizedException' }, 'InitiateAuth'),
      },
    );
    return this.outcome('InitiateAuth', out);
  }

  /**
   * Answers a challenge of `login` (or of a previous answer). A session Cognito no longer knows,
   * or one that belongs to another user, is SESSION_EXPIRED: the client has to log in again.
   */
  async respondToChallenge(email: string, name: ChallengeNameType, session: string, answers: Record<string, string>): Promise<AuthOutcome> {
    const out = await this.call(
      'RespondToAuthChallenge',
      () =>
        this.client.send(
          new RespondToAuthChallengeCommand({
            ClientId: this.clientId,
            ChallengeName: name,
            Session: session,
            ChallengeResponses: { USERNAME: email, ...answers, ...this.secretHashParam(email) },
          }),
          this.deadline(),
        ),
      { NotAuthorizedException: sessionExpired, UserNotFoundException: sessionExpired },
    );
    return this.outcome('RespondToAuthChallenge', out);
  }

  /** MFA_SETUP during login: the TOTP secret for the challenge session (no access token yet). */
  async associateSoftwareTokenForSession(session: string): Promise<{ secretCode: string; session: string }> {
    const out = await this.call(
      'AssociateSoftwareToken',
      () => this.client.send(new AssociateSoftwareTokenCommand({ Session: session }), this.deadline()),
      { NotAuthorizedException: sessionExpired },
    );
    return { secretCode: out.SecretCode ?? '', session: out.Session ?? session };
  }

  /** MFA_SETUP during login: proves the authenticator app, and returns the session to answer MFA_SETUP with. */
  async verifySoftwareTokenForSession(session: string, code: string): Promise<string> {
    const out = await this.call(
      'VerifySoftwareToken',
      () => this.client.send(new VerifySoftwareTokenCommand({ Session: session, UserCode: code }), this.deadline()),
      { NotAuthorizedException: sessionExpired, EnableSoftwareTokenMFAException: codeMismatch },
    );
    return out.Session ?? session;
  }

  private async outcome(
    operation: string,
    out: { AuthenticationResult?: AuthenticationResultType; ChallengeName?: string; Session?: string },
  ): Promise<AuthOutcome> {
    const result = out.AuthenticationResult;
    if (result?.AccessToken !== undefined && result.IdToken !== undefined) {
      return {
        tokens: {
          accessToken: result.AccessToken,
          idToken: result.IdToken,
          refreshToken: result.RefreshToken,
          expiresIn: result.ExpiresIn ?? 3600,
        },
      };
    }
    if (out.ChallengeName !== undefined && out.Session !== undefined) {
      return { challenge: { name: out.ChallengeName, session: out.Session, expiresIn: await this.challengeSessionSeconds() } };
    }
    // Neither tokens nor a challenge: not something Cognito documents, so not the client's fault.
    throw mapCognitoError({ name: 'UnexpectedAnswer', $fault: 'server' }, operation);
  }

  private authSessionValidity?: Promise<number>;

  /**
   * The app client's authentication flow session duration (3..15 min), read once: Cognito does not
   * say in a challenge how long its session lives. If it cannot be read, the shortest Cognito
   * allows is announced, so a client never relies on a session that is already gone.
   */
  challengeSessionSeconds(): Promise<number> {
    this.authSessionValidity ??= this.client
      .send(new DescribeUserPoolClientCommand({ UserPoolId: this.cognito.userPoolId, ClientId: this.clientId }), this.deadline())
      .then((out) => {
        const minutes = out.UserPoolClient?.AuthSessionValidity;
        return minutes === undefined ? DEFAULT_AUTH_SESSION_SECONDS : minutes * 60;
      })
      .catch((error: unknown) => {
        this.logger.warn({ errorName: errorName(error) ?? 'unknown' }, 'could not read the app client session duration');
        this.authSessionValidity = undefined;
        return DEFAULT_AUTH_SESSION_SECONDS;
      });
    return this.authSessionValidity;
  }

  private secretHashParam(username: string): { SECRET_HASH?: string } {
    const { SecretHash } = this.secretHash(username);
    return SecretHash === undefined ? {} : { SECRET_HASH: SecretHash };
  }

  async refresh(refreshToken: string): Promise<CognitoTokens> {
    const overrides: CognitoErrorOverrides = {
      NotAuthorizedException: refreshRefused,
      InvalidParameterException: refreshRefused,
      UserNotFoundException: refreshRefused,
    };
    // With a client secret, SECRET_HASH would need the username, which an opaque refresh token
    // does not reveal; GetTokensFromRefreshToken takes the client secret itself instead.
    const result =
      this.cognito.clientSecret === undefined
        ? (
            await this.call(
              'InitiateAuth',
              () =>
                this.client.send(
                  new InitiateAuthCommand({
                    ClientId: this.clientId,
                    AuthFlow: 'REFRESH_TOKEN_AUTH',
                    AuthParameters: { REFRESH_TOKEN: refreshToken },
                  }),
                  this.deadline(),
                ),
              overrides,
            )
          ).AuthenticationResult
        : (
            await this.call(
              'GetTokensFromRefreshToken',
              () =>
                this.client.send(
                  new GetTokensFromRefreshTokenCommand({
                    ClientId: this.clientId,
                    ClientSecret: this.cognito.clientSecret,
                    RefreshToken: refreshToken,
                  }),
                  this.deadline(),
                ),
              overrides,
            )
          ).AuthenticationResult;
    if (result?.AccessToken === undefined || result.IdToken === undefined) {
      throw refreshRefused();
    }
    return {
      accessToken: result.AccessToken,
      idToken: result.IdToken,
      refreshToken: result.RefreshToken,
      expiresIn: result.ExpiresIn ?? 3600,
    };
  }

  async revokeRefreshToken(refreshToken: string): Promise<void> {
    // A refresh token that is already invalid is as revoked as it gets: logout still succeeds.
    await this.tolerate(
      'RevokeToken',
      () =>
        this.client.send(
          new RevokeTokenCommand({ ClientId: this.clientId, ClientSecret: this.cognito.clientSecret, Token: refreshToken }),
          this.deadline(),
        ),
      ['NotAuthorizedException', 'UnsupportedTokenTypeException', 'InvalidParameterException'],
    );
  }

  // ---- passwords ----------------------------------------------------------------------------

  /** Unknown emails are not revealed: the caller answers 202 either way. */
  async forgotPassword(email: string): Promise<void> {
    await this.tolerate(
      'ForgotPassword',
      () =>
        this.client.send(
          new ForgotPasswordCommand({ ClientId: this.clientId, Username: email, ...this.secretHash(email) }),
          this.deadline(),
        ),
      ['UserNotFoundException', 'InvalidParameterException', 'NotAuthorizedException'],
    );
  }

  async confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void> {
    await this.call(
      'ConfirmForgotPassword',
      () =>
        this.client.send(
          new ConfirmForgotPasswordCommand({
            ClientId: this.clientId,
            Username: email,
            ConfirmationCode: code,
            Password: newPassword,
            ...this.secretHash(email),
          }),
          this.deadline(),
        ),
      { UserNotFoundException: () => mapCognitoError({ name: 'CodeMismatchException' }, 'ConfirmForgotPassword') },
    );
  }

  async changePassword(accessToken: string, currentPassword: string, newPassword: string): Promise<void> {
    // cognito-local reports a wrong previous password as InvalidPasswordException; our own policy
    // check runs before this call, so here it can only mean the current password is wrong.
    const wrongCurrent = (): ApiError => new ApiError(400, 'INVALID_CREDENTIALS', 'The current password is wrong');
    await this.call(
      'ChangePassword',
      () =>
        this.client.send(
          new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: currentPassword, ProposedPassword: newPassword }),
          this.deadline(),
        ),
      { NotAuthorizedException: wrongCurrent, InvalidPasswordException: wrongCurrent },
    );
  }

  // ---- the caller's own attributes ----------------------------------------------------------

  async getUser(accessToken: string): Promise<CognitoProfile> {
    const out = await this.call('GetUser', () => this.client.send(new GetUserCommand({ AccessToken: accessToken }), this.deadline()));
    return toProfile(out.Username ?? '', out.UserAttributes);
  }

  async updateUserAttributes(accessToken: string, attributes: Record<string, string>): Promise<CodeDelivery | null> {
    const out = await this.call('UpdateUserAttributes', () =>
      this.client.send(
        new UpdateUserAttributesCommand({
          AccessToken: accessToken,
          UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        }),
        this.deadline(),
      ),
    );
    const details = out.CodeDeliveryDetailsList?.[0];
    return details === undefined ? null : delivery(details);
  }

  async verifyUserAttribute(accessToken: string, name: string, code: string): Promise<void> {
    await this.call('VerifyUserAttribute', () =>
      this.client.send(new VerifyUserAttributeCommand({ AccessToken: accessToken, AttributeName: name, Code: code }), this.deadline()),
    );
  }

  /** Starts TOTP enrolment: a new secret for the caller's authenticator app. */
  async associateSoftwareToken(accessToken: string): Promise<string> {
    const out = await this.call('AssociateSoftwareToken', () =>
      this.client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }), this.deadline()),
    );
    return out.SecretCode ?? '';
  }

  /** Proves the authenticator app with one of its codes; a wrong code is CODE_MISMATCH. */
  async verifySoftwareToken(accessToken: string, code: string): Promise<void> {
    const out = await this.call(
      'VerifySoftwareToken',
      () => this.client.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: code }), this.deadline()),
      {
        EnableSoftwareTokenMFAException: codeMismatch,
        // Verify before Associate: there is no secret to check the code against.
        InvalidParameterException: () => ApiError.conflict('Start TOTP enrolment first (POST /v1/users/me/mfa/totp)'),
      },
    );
    if (out.Status !== undefined && out.Status !== 'SUCCESS') {
      throw codeMismatch();
    }
  }

  /** TOTP on (and preferred) or off as the caller's second step. */
  async setSoftwareTokenMfa(accessToken: string, enabled: boolean): Promise<void> {
    await this.call(
      'SetUserMFAPreference',
      () =>
        this.client.send(
          new SetUserMFAPreferenceCommand({
            AccessToken: accessToken,
            SoftwareTokenMfaSettings: { Enabled: enabled, PreferredMfa: enabled },
          }),
          this.deadline(),
        ),
      { InvalidParameterException: () => ApiError.conflict('TOTP is not verified for this account') },
    );
  }

  // ---- administration -----------------------------------------------------------------------

  /**
   * An invitation: Cognito creates the user with a temporary password and emails it. The first
   * login then answers NEW_PASSWORD_REQUIRED.
   */
  async adminCreateUser(input: { email: string; nickname: string; phoneNumber?: string }): Promise<CognitoProfile> {
    const attributes: AttributeType[] = [
      { Name: 'email', Value: input.email },
      // The address is the one the admin typed and the invitation goes to: mark it verified, so
      // a forgotten-password code can reach it.
      { Name: 'email_verified', Value: 'true' },
      { Name: 'nickname', Value: input.nickname },
    ];
    if (input.phoneNumber !== undefined) {
      attributes.push({ Name: 'phone_number', Value: input.phoneNumber });
    }
    const out = await this.call('AdminCreateUser', () =>
      this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.cognito.userPoolId,
          Username: input.email,
          UserAttributes: attributes,
          DesiredDeliveryMediums: ['EMAIL'],
        }),
        this.deadline(),
      ),
    );
    return toProfile(out.User?.Username ?? input.email, out.User?.Attributes, out.User?.Enabled ?? true);
  }

  /** The second factors of a user, read with the task role (works whatever the caller's token scopes). */
  async adminGetMfa(username: string): Promise<MfaSettings> {
    const out = await this.call('AdminGetUser', () =>
      this.client.send(new AdminGetUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username }), this.deadline()),
    );
    const preferred = out.PreferredMfaSetting ?? null;
    return { totp: (out.UserMFASettingList ?? []).includes('SOFTWARE_TOKEN_MFA'), preferred: preferred === '' ? null : preferred };
  }

  async adminGetUser(username: string): Promise<CognitoProfile> {
    const out = await this.call('AdminGetUser', () =>
      this.client.send(new AdminGetUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username }), this.deadline()),
    );
    return toProfile(out.Username ?? username, out.UserAttributes, out.Enabled ?? true);
  }

  /** Whether the user `username` exists in the pool and is still the one with this `sub`. */
  async userExists(username: string, sub: string): Promise<boolean> {
    try {
      const out = await this.client.send(
        new AdminGetUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username }),
        this.deadline(),
      );
      return toProfile(out.Username ?? username, out.UserAttributes).sub === sub;
    } catch (error) {
      if (errorName(error) === 'UserNotFoundException') {
        return false;
      }
      throw mapCognitoError(error, 'AdminGetUser');
    }
  }

  /**
   * Every user of the pool, one page at a time (at most 60 each), so that a caller walking a
   * pool of a million users holds one page in memory.
   */
  async *listUsers(): AsyncGenerator<CognitoListedUser[]> {
    let paginationToken: string | undefined;
    do {
      const out = await this.call('ListUsers', () =>
        this.client.send(
          new ListUsersCommand({ UserPoolId: this.cognito.userPoolId, Limit: LIST_USERS_PAGE_SIZE, PaginationToken: paginationToken }),
          this.deadline(),
        ),
      );
      yield (out.Users ?? []).map((u) => ({ ...toProfile(u.Username ?? '', u.Attributes, u.Enabled ?? true), status: u.UserStatus ?? '' }));
      paginationToken = out.PaginationToken;
    } while (paginationToken !== undefined && paginationToken !== '');
  }

  /** Deletes the user; a user that is already gone counts as deleted (idempotent). */
  async adminDeleteUser(username: string): Promise<void> {
    await this.tolerate(
      'AdminDeleteUser',
      () => this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username }), this.deadline()),
      ['UserNotFoundException'],
    );
  }

  async adminSetEnabled(username: string, enabled: boolean): Promise<void> {
    const input = { UserPoolId: this.cognito.userPoolId, Username: username };
    await this.call(enabled ? 'AdminEnableUser' : 'AdminDisableUser', () =>
      this.client.send(enabled ? new AdminEnableUserCommand(input) : new AdminDisableUserCommand(input), this.deadline()),
    );
  }

  /**
   * Signs the user out of every session with the task role: every refresh token of the user stops
   * working (access tokens are refused by our own cut-off). Works for tokens without the
   * self-service scope, unlike GlobalSignOut.
   */
  async adminUserGlobalSignOut(username: string): Promise<void> {
    await this.call('AdminUserGlobalSignOut', () =>
      this.client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.cognito.userPoolId, Username: username }), this.deadline()),
    );
  }

  async adminListGroupsForUser(username: string): Promise<string[]> {
    const groups: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('AdminListGroupsForUser', () =>
        this.client.send(
          new AdminListGroupsForUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username, NextToken: nextToken }),
          this.deadline(),
        ),
      );
      groups.push(...(out.Groups ?? []).map((g) => g.GroupName ?? '').filter((n) => n !== ''));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return groups;
  }

  async adminAddUserToGroup(username: string, group: string): Promise<void> {
    await this.call('AdminAddUserToGroup', () =>
      this.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: this.cognito.userPoolId, Username: username, GroupName: group }),
        this.deadline(),
      ),
    );
  }

  async adminRemoveUserFromGroup(username: string, group: string): Promise<void> {
    await this.call('AdminRemoveUserFromGroup', () =>
      this.client.send(
        new AdminRemoveUserFromGroupCommand({ UserPoolId: this.cognito.userPoolId, Username: username, GroupName: group }),
        this.deadline(),
      ),
    );
  }

  async listGroups(): Promise<CognitoGroup[]> {
    const groups: CognitoGroup[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('ListGroups', () =>
        this.client.send(new ListGroupsCommand({ UserPoolId: this.cognito.userPoolId, NextToken: nextToken }), this.deadline()),
      );
      groups.push(
        ...(out.Groups ?? []).map((g) => ({
          name: g.GroupName ?? '',
          description: g.Description ?? null,
          precedence: g.Precedence ?? null,
        })),
      );
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return groups;
  }

  /** Null when the group does not exist. */
  async getGroup(name: string): Promise<CognitoGroup | null> {
    try {
      const out = await this.client.send(new GetGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name }), this.deadline());
      return { name: out.Group?.GroupName ?? name, description: out.Group?.Description ?? null, precedence: out.Group?.Precedence ?? null };
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') {
        return null;
      }
      throw mapCognitoError(error, 'GetGroup');
    }
  }

  async createGroup(group: { name: string; description?: string; precedence?: number }): Promise<CognitoGroup> {
    const out = await this.call('CreateGroup', () =>
      this.client.send(
        new CreateGroupCommand({
          UserPoolId: this.cognito.userPoolId,
          GroupName: group.name,
          Description: group.description,
          Precedence: group.precedence,
        }),
        this.deadline(),
      ),
    );
    return {
      name: out.Group?.GroupName ?? group.name,
      description: out.Group?.Description ?? null,
      precedence: out.Group?.Precedence ?? null,
    };
  }

  async deleteGroup(name: string): Promise<void> {
    await this.call('DeleteGroup', () =>
      this.client.send(new DeleteGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name }), this.deadline()),
    );
  }

  /** Cognito usernames and subs of a group's members. */
  async listUsersInGroup(name: string): Promise<CognitoProfile[]> {
    const users: CognitoProfile[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('ListUsersInGroup', () =>
        this.client.send(
          new ListUsersInGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name, NextToken: nextToken }),
          this.deadline(),
        ),
      );
      users.push(...(out.Users ?? []).map((u) => toProfile(u.Username ?? '', u.Attributes, u.Enabled ?? true)));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return users;
  }
}

function sessionExpired(): ApiError {
  return new ApiError(401, 'SESSION_EXPIRED', 'The login session has expired or is not yours; log in again');
}

function codeMismatch(): ApiError {
  return new ApiError(400, 'CODE_MISMATCH', 'The code is wrong');
}

function refreshRefused(): ApiError {
  return ApiError.unauthenticated('The refresh token is invalid, expired or revoked; log in again');
}
