import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUserGlobalSignOutCommand,
  AttributeType,
  CreateGroupCommand,
  DeleteGroupCommand,
  DescribeUserPoolClientCommand,
  GetGroupCommand,
  paginateAdminListGroupsForUser,
  paginateListGroups,
  paginateListUsers,
  paginateListUsersInGroup,
} from '@aws-sdk/client-cognito-identity-provider';
import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { CognitoApi } from './cognito-api';
import { CognitoGroup, CognitoListedUser, CognitoProfile, MfaSettings, toGroup, toListedUser, toProfile } from './cognito.types';

/** ListUsers returns at most 60 users a call. */
export const LIST_USERS_PAGE_SIZE = 60;

/** Cognito's default authentication flow session duration, when the app client does not say. */
const DEFAULT_AUTH_SESSION_SECONDS = 180;

/**
 * The Cognito calls made with the task role's IAM permissions: the Admin* operations, the pool's
 * listings and groups, and the app client's settings. Nothing here acts on a user's token.
 */
@Injectable()
export class CognitoAdminService {
  private readonly logger = new Logger(CognitoAdminService.name);
  private authSessionValidity?: Promise<number>;

  constructor(private readonly api: CognitoApi) {}

  private get pool(): { UserPoolId: string } {
    return { UserPoolId: this.api.userPoolId };
  }

  // ---- users --------------------------------------------------------------------------------

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
    const out = await this.api.send(
      'AdminCreateUser',
      new AdminCreateUserCommand({ ...this.pool, Username: input.email, UserAttributes: attributes, DesiredDeliveryMediums: ['EMAIL'] }),
    );
    return toProfile(out.User?.Username ?? input.email, out.User?.Attributes, out.User?.Enabled ?? true);
  }

  /** The second factors of a user, read with the task role (works whatever the caller's token scopes). */
  async adminGetMfa(username: string): Promise<MfaSettings> {
    const out = await this.api.send('AdminGetUser', new AdminGetUserCommand({ ...this.pool, Username: username }));
    const preferred = out.PreferredMfaSetting ?? null;
    return { totp: (out.UserMFASettingList ?? []).includes('SOFTWARE_TOKEN_MFA'), preferred: preferred === '' ? null : preferred };
  }

  async adminGetUser(username: string): Promise<CognitoProfile> {
    const out = await this.api.send('AdminGetUser', new AdminGetUserCommand({ ...this.pool, Username: username }));
    return toProfile(out.Username ?? username, out.UserAttributes, out.Enabled ?? true);
  }

  /** The user's profile, Cognito status and creation time; null when there is no such user. */
  async adminFindUser(username: string): Promise<{ profile: CognitoProfile; status: string; createdAt: Date | null } | null> {
    const out = await this.api.sendOrNull('AdminGetUser', new AdminGetUserCommand({ ...this.pool, Username: username }), [
      'UserNotFoundException',
    ]);
    if (out === null) {
      return null;
    }
    const profile = toProfile(out.Username ?? username, out.UserAttributes, out.Enabled ?? true);
    return { profile, status: out.UserStatus ?? '', createdAt: out.UserCreateDate ?? null };
  }

  /** Whether the user `username` exists in the pool and is still the one with this `sub`. */
  async userExists(username: string, sub: string): Promise<boolean> {
    const out = await this.api.sendOrNull('AdminGetUser', new AdminGetUserCommand({ ...this.pool, Username: username }), [
      'UserNotFoundException',
    ]);
    return out !== null && toProfile(out.Username ?? username, out.UserAttributes).sub === sub;
  }

  /**
   * Every user of the pool, one page at a time (at most 60 each), so that a caller walking a
   * pool of a million users holds one page in memory.
   */
  async *listUsers(): AsyncGenerator<CognitoListedUser[]> {
    for await (const page of this.api.pages('ListUsers', paginateListUsers, { ...this.pool }, LIST_USERS_PAGE_SIZE)) {
      yield (page.Users ?? []).map(toListedUser);
    }
  }

  /** Deletes the user; a user that is already gone counts as deleted (idempotent). */
  async adminDeleteUser(username: string): Promise<void> {
    await this.api.sendOrNull('AdminDeleteUser', new AdminDeleteUserCommand({ ...this.pool, Username: username }), ['UserNotFoundException']);
  }

  async adminSetEnabled(username: string, enabled: boolean): Promise<void> {
    const input = { ...this.pool, Username: username };
    if (enabled) {
      await this.api.send('AdminEnableUser', new AdminEnableUserCommand(input));
    } else {
      await this.api.send('AdminDisableUser', new AdminDisableUserCommand(input));
    }
  }

  /**
   * Signs the user out of every session with the task role: every refresh token of the user stops
   * working (access tokens are refused by our own cut-off). Works for tokens without the
   * self-service scope, unlike GlobalSignOut.
   */
  async adminUserGlobalSignOut(username: string): Promise<void> {
    await this.api.send('AdminUserGlobalSignOut', new AdminUserGlobalSignOutCommand({ ...this.pool, Username: username }));
  }

  // ---- groups -------------------------------------------------------------------------------

  async adminListGroupsForUser(username: string): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.api.pages('AdminListGroupsForUser', paginateAdminListGroupsForUser, { ...this.pool, Username: username })) {
      names.push(...(page.Groups ?? []).map((g) => toGroup(g).name).filter((n) => n !== ''));
    }
    return names;
  }

  async adminAddUserToGroup(username: string, group: string): Promise<void> {
    await this.api.send('AdminAddUserToGroup', new AdminAddUserToGroupCommand({ ...this.pool, Username: username, GroupName: group }));
  }

  async adminRemoveUserFromGroup(username: string, group: string): Promise<void> {
    await this.api.send('AdminRemoveUserFromGroup', new AdminRemoveUserFromGroupCommand({ ...this.pool, Username: username, GroupName: group }));
  }

  async listGroups(): Promise<CognitoGroup[]> {
    const groups: CognitoGroup[] = [];
    for await (const page of this.api.pages('ListGroups', paginateListGroups, { ...this.pool })) {
      groups.push(...(page.Groups ?? []).map((g) => toGroup(g)));
    }
    return groups;
  }

  /** Null when the group does not exist. */
  async getGroup(name: string): Promise<CognitoGroup | null> {
    const out = await this.api.sendOrNull('GetGroup', new GetGroupCommand({ ...this.pool, GroupName: name }), ['ResourceNotFoundException']);
    return out === null ? null : toGroup(out.Group, name);
  }

  async createGroup(group: { name: string; description?: string; precedence?: number }): Promise<CognitoGroup> {
    const out = await this.api.send(
      'CreateGroup',
      new CreateGroupCommand({ ...this.pool, GroupName: group.name, Description: group.description, Precedence: group.precedence }),
    );
    return toGroup(out.Group, group.name);
  }

  async deleteGroup(name: string): Promise<void> {
    await this.api.send('DeleteGroup', new DeleteGroupCommand({ ...this.pool, GroupName: name }));
  }

  /** A group's members: usernames, subs, and whether (and how far) each can sign in. */
  async listUsersInGroup(name: string): Promise<CognitoListedUser[]> {
    const users: CognitoListedUser[] = [];
    for await (const page of this.api.pages('ListUsersInGroup', paginateListUsersInGroup, { ...this.pool, GroupName: name })) {
      users.push(...(page.Users ?? []).map(toListedUser));
    }
    return users;
  }

  // ---- the app client -----------------------------------------------------------------------

  /**
   * The app client's authentication flow session duration (3..15 min), read once: Cognito does not
   * say in a challenge how long its session lives. If it cannot be read, the shortest Cognito
   * allows is announced, so a client never relies on a session that is already gone.
   */
  challengeSessionSeconds(): Promise<number> {
    this.authSessionValidity ??= this.readAuthSessionValidity();
    return this.authSessionValidity;
  }

  private async readAuthSessionValidity(): Promise<number> {
    const command = new DescribeUserPoolClientCommand({ ...this.pool, ClientId: this.api.clientId });
    try {
      const out = await this.api.send('DescribeUserPoolClient', command);
      const minutes = out.UserPoolClient?.AuthSessionValidity;
      return minutes === undefined ? DEFAULT_AUTH_SESSION_SECONDS : minutes * 60;
    } catch (error) {
      // `send` has logged what the SDK said when it was unexpected; this line says what it costs.
      this.logger.warn({ code: error instanceof ApiError ? error.code : 'unknown' }, 'could not read the app client session duration');
      this.authSessionValidity = undefined;
      return DEFAULT_AUTH_SESSION_SECONDS;
    }
  }
}
