import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AttributeType,
  ChangePasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  ForgotPasswordCommand,
  GetGroupCommand,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUsersInGroupCommand,
  ResendConfirmationCodeCommand,
  RevokeTokenCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
  VerifyUserAttributeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
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

  async login(email: string, password: string): Promise<CognitoTokens> {
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
      },
    );
    const result = out.AuthenticationResult;
    if (result?.AccessToken === undefined || result.IdToken === undefined) {
      // A challenge (MFA, NEW_PASSWORD_REQUIRED) is not supported by this API.
      throw mapCognitoError({ name: 'NotAuthorizedException' }, 'InitiateAuth');
    }
    return {
      accessToken: result.AccessToken,
      idToken: result.IdToken,
      refreshToken: result.RefreshToken,
      expiresIn: result.ExpiresIn ?? 3600,
    };
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

  async globalSignOut(accessToken: string): Promise<void> {
    await this.call('GlobalSignOut', () => this.client.send(new GlobalSignOutCommand({ AccessToken: accessToken }), this.deadline()));
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

  // ---- administration -----------------------------------------------------------------------

  async adminGetUser(username: string): Promise<CognitoProfile> {
    const out = await this.call('AdminGetUser', () =>
      this.client.send(new AdminGetUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username }), this.deadline()),
    );
    return toProfile(out.Username ?? username, out.UserAttributes, out.Enabled ?? true);
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

function refreshRefused(): ApiError {
  return ApiError.unauthenticated('The refresh token is invalid, expired or revoked; log in again');
}
