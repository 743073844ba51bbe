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

function delivery(details: { Destination?: string; DeliveryMedium?: string } | undefined): CodeDelivery {
  return { destination: details?.Destination ?? '', medium: details?.DeliveryMedium ?? 'EMAIL' };
}

/**
 * The one place that talks to the Cognito API (STYLE.md). Every SDK error leaves this class as an
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
      // Throttling is retried with backoff by the SDK's standard mode before we answer 429.
      maxAttempts: 3,
      retryMode: 'standard',
      // An unreachable Cognito must give a fast 503, not a hung request.
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    });
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
      () => this.client.send(new ResendConfirmationCodeCommand({ ClientId: this.clientId, Username: email, ...this.secretHash(email) })),
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
        this.client.send(new RevokeTokenCommand({ ClientId: this.clientId, ClientSecret: this.cognito.clientSecret, Token: refreshToken })),
      ['NotAuthorizedException', 'UnsupportedTokenTypeException', 'InvalidParameterException'],
    );
  }

  async globalSignOut(accessToken: string): Promise<void> {
    await this.call('GlobalSignOut', () => this.client.send(new GlobalSignOutCommand({ AccessToken: accessToken })));
  }

  // ---- passwords ----------------------------------------------------------------------------

  /** Unknown emails are not revealed: the caller answers 202 either way. */
  async forgotPassword(email: string): Promise<void> {
    await this.tolerate(
      'ForgotPassword',
      () => this.client.send(new ForgotPasswordCommand({ ClientId: this.clientId, Username: email, ...this.secretHash(email) })),
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
        ),
      { NotAuthorizedException: wrongCurrent, InvalidPasswordException: wrongCurrent },
    );
  }

  // ---- the caller's own attributes ----------------------------------------------------------

  async getUser(accessToken: string): Promise<CognitoProfile> {
    const out = await this.call('GetUser', () => this.client.send(new GetUserCommand({ AccessToken: accessToken })));
    return toProfile(out.Username ?? '', out.UserAttributes);
  }

  async updateUserAttributes(accessToken: string, attributes: Record<string, string>): Promise<CodeDelivery | null> {
    const out = await this.call('UpdateUserAttributes', () =>
      this.client.send(
        new UpdateUserAttributesCommand({
          AccessToken: accessToken,
          UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        }),
      ),
    );
    const details = out.CodeDeliveryDetailsList?.[0];
    return details === undefined ? null : delivery(details);
  }

  async verifyUserAttribute(accessToken: string, name: string, code: string): Promise<void> {
    await this.call('VerifyUserAttribute', () =>
      this.client.send(new VerifyUserAttributeCommand({ AccessToken: accessToken, AttributeName: name, Code: code })),
    );
  }

  // ---- administration -----------------------------------------------------------------------

  async adminGetUser(username: string): Promise<CognitoProfile> {
    const out = await this.call('AdminGetUser', () =>
      this.client.send(new AdminGetUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username })),
    );
    return toProfile(out.Username ?? username, out.UserAttributes, out.Enabled ?? true);
  }

  /** Deletes the user; a user that is already gone counts as deleted (idempotent). */
  async adminDeleteUser(username: string): Promise<void> {
    await this.tolerate(
      'AdminDeleteUser',
      () => this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username })),
      ['UserNotFoundException'],
    );
  }

  async adminSetEnabled(username: string, enabled: boolean): Promise<void> {
    const input = { UserPoolId: this.cognito.userPoolId, Username: username };
    await this.call(enabled ? 'AdminEnableUser' : 'AdminDisableUser', () =>
      this.client.send(enabled ? new AdminEnableUserCommand(input) : new AdminDisableUserCommand(input)),
    );
  }

  async adminListGroupsForUser(username: string): Promise<string[]> {
    const groups: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('AdminListGroupsForUser', () =>
        this.client.send(
          new AdminListGroupsForUserCommand({ UserPoolId: this.cognito.userPoolId, Username: username, NextToken: nextToken }),
        ),
      );
      groups.push(...(out.Groups ?? []).map((g) => g.GroupName ?? '').filter((n) => n !== ''));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return groups;
  }

  async adminAddUserToGroup(username: string, group: string): Promise<void> {
    await this.call('AdminAddUserToGroup', () =>
      this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.cognito.userPoolId, Username: username, GroupName: group })),
    );
  }

  async adminRemoveUserFromGroup(username: string, group: string): Promise<void> {
    await this.call('AdminRemoveUserFromGroup', () =>
      this.client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: this.cognito.userPoolId, Username: username, GroupName: group })),
    );
  }

  async listGroups(): Promise<CognitoGroup[]> {
    const groups: CognitoGroup[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('ListGroups', () =>
        this.client.send(new ListGroupsCommand({ UserPoolId: this.cognito.userPoolId, NextToken: nextToken })),
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
      const out = await this.client.send(new GetGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name }));
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
      this.client.send(new DeleteGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name })),
    );
  }

  /** Cognito usernames and subs of a group's members. */
  async listUsersInGroup(name: string): Promise<CognitoProfile[]> {
    const users: CognitoProfile[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('ListUsersInGroup', () =>
        this.client.send(new ListUsersInGroupCommand({ UserPoolId: this.cognito.userPoolId, GroupName: name, NextToken: nextToken })),
      );
      users.push(...(out.Users ?? []).map((u) => toProfile(u.Username ?? '', u.Attributes, u.Enabled ?? true)));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return users;
  }
}

function refreshRefused(): ApiError {
  return new ApiError(401, 'UNAUTHENTICATED', 'The refresh token is invalid, expired or revoked; log in again', {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
}
