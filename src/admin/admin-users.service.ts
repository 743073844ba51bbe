import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { ADMIN_GROUP, AuthUser } from '../identity/auth-user';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { ApiError } from '../common/api-error';
import { Page, pageRequest, toPage } from '../common/pagination';
import { AccountChangesService } from '../users/account-changes.service';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { AdminUserListRepository } from '../users/admin-user-list.repository';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { WithdrawalService } from '../users/withdrawal.service';
import { AdminGroupsService } from './admin-groups.service';
import { AuditEntry, AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { AdminUserQueryDto, InviteUserDto } from './dto/admin.dto';
import { AdminUserDetail, AdminUserSummary } from './dto/admin.response';

/** Cursor kind of GET /v1/admin/users: a cursor of another list is refused. */
const USERS_CURSOR = 'admin-users';

type UserChange = 'user.disable' | 'user.enable' | 'group.add_user' | 'group.remove_user';

/**
 * User administration. Each write records its intent before Cognito is called and finishes
 * (revocation, status, audit entry) in one transaction after it, so a change cut short converges
 * on a retry or in the sweep; a failure is audited on its own.
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly transactions: Transactions,
    private readonly cognito: CognitoAdminService,
    private readonly withdrawal: WithdrawalService,
    private readonly audit: AuditLogRepository,
    private readonly auditLog: AuditLogService,
    private readonly users: UserMappingRepository,
    private readonly userList: AdminUserListRepository,
    private readonly changes: AccountChangesService,
    private readonly groups: AdminGroupsService,
  ) {}

  async list(query: AdminUserQueryDto): Promise<Page<AdminUserSummary>> {
    const page = pageRequest(USERS_CURSOR, query);
    const rows = await this.userList.listForAdmin({ status: query.status ?? null, search: query.q ? query.q : null }, page);
    return toPage(page, rows, (row) => ({
      id: row.id,
      email: row.email,
      nickname: row.nickname,
      status: row.status,
      createdAt: row.created_at.toISOString(),
    }));
  }

  async detail(id: string): Promise<AdminUserDetail> {
    const user = await this.users.findById(id);
    if (user === null) {
      throw ApiError.notFound('No such user');
    }
    if (user.status === 'withdrawn') {
      return { ...UserProfileResponse.from(user, []), enabled: false };
    }
    const [groups, profile] = await Promise.all([
      this.cognito.adminListGroupsForUser(user.cognitoUsername),
      this.cognito.adminGetUser(user.cognitoUsername),
    ]);
    return { ...UserProfileResponse.from(user, groups), enabled: profile.enabled };
  }

  /**
   * An invitation. Cognito creates the user and emails a temporary password; the first login then
   * answers NEW_PASSWORD_REQUIRED. The row is written at once, so the new user can be found,
   * managed and put in groups before they ever log in. Like every admin write it records its
   * intent first (AccountChangesService.invite): if the database is lost after Cognito created the
   * user, a retry of the same invitation or the sweep writes the row and the audit entry, once.
   */
  async invite(actor: AuthUser, dto: InviteUserDto): Promise<AdminUserDetail> {
    const groups = [...new Set(dto.groups ?? [])];
    const entry: AuditEntry = { actorId: actor.id, action: 'user.invite', details: { groups } };
    return this.auditLog.audited(entry, async () => {
      await this.assertGroupsExist(groups);
      const invitation = { email: dto.email, nickname: dto.nickname, phoneNumber: dto.phoneNumber, groups };
      const user = await this.users.findById(await this.changes.invite(actor.id, invitation));
      if (user === null) {
        throw ApiError.notFound('No such user (withdrawn meanwhile)');
      }
      // Cognito creates users enabled, and an invitation only ever finishes for one never signed in.
      return { ...UserProfileResponse.from(user, groups), enabled: true };
    });
  }

  async disable(actor: AuthUser, id: string): Promise<void> {
    await this.changeUser(actor, 'user.disable', id, {}, async (target) => {
      await this.changes.assertNotLastAdmin(target.cognitoSub);
      return true;
    });
  }

  async enable(actor: AuthUser, id: string): Promise<void> {
    await this.changeUser(actor, 'user.enable', id, {}, () => Promise.resolve(true));
  }

  /**
   * Deletion is a withdrawal (the same event and handler as self-service). Idempotent: a user
   * already withdrawn answers 204 again with no second audit entry, and a withdrawal left
   * half-done is finished.
   */
  async delete(actor: AuthUser, id: string): Promise<void> {
    const user = await this.users.findById(id);
    if (user === null) {
      throw ApiError.notFound('No such user');
    }
    if (user.status === 'withdrawn') {
      return;
    }
    if (user.withdrawalRequestedAt === null) {
      const entry: AuditEntry = { actorId: actor.id, action: 'user.delete', targetUserId: id, details: {} };
      await this.auditLog.audited(entry, () =>
        this.transactions.run(async () => {
          const target = await this.users.lockLive(id);
          if (target === null) {
            return;
          }
          await this.changes.assertNotLastAdmin(target.cognitoSub);
          await this.withdrawal.recordIntent(id);
          await this.audit.record(entry);
        }),
      );
    }
    // The intent is committed: from here the withdrawal converges even if this call fails.
    await this.auditLog.audited({ actorId: actor.id, action: 'user.delete.complete', targetUserId: id }, () =>
      this.withdrawal.complete(id),
    );
  }

  async addToGroup(actor: AuthUser, id: string, group: string): Promise<void> {
    await this.changeUser(actor, 'group.add_user', id, { group }, async (target) => {
      await this.groups.require(group);
      await this.changes.lockGroup(group);
      return !(await this.cognito.adminListGroupsForUser(target.cognitoUsername)).includes(group);
    });
  }

  async removeFromGroup(actor: AuthUser, id: string, group: string): Promise<void> {
    await this.changeUser(actor, 'group.remove_user', id, { group }, async (target) => {
      await this.groups.require(group);
      if (!(await this.cognito.adminListGroupsForUser(target.cognitoUsername)).includes(group)) {
        return false;
      }
      if (group === ADMIN_GROUP) {
        await this.changes.assertNotLastAdmin(target.cognitoSub);
      }
      return true;
    });
  }

  /** 400 naming each group of an invitation that Cognito does not have. */
  private async assertGroupsExist(groups: string[]): Promise<void> {
    const unknown: string[] = [];
    for (const group of groups) {
      if ((await this.cognito.getGroup(group)) === null) {
        unknown.push(group);
      }
    }
    if (unknown.length > 0) {
      throw ApiError.validation(
        'Unknown groups',
        unknown.map((group) => ({ field: 'groups', message: `no group named ${group}` })),
      );
    }
  }

  /**
   * A change to one user that Cognito and the database must agree on (AccountChangesService):
   * a change an earlier attempt left half-done is finished first; then, holding the target's row
   * lock, `decide` checks the change is allowed and says whether there is anything to do. If not,
   * the no-op is audited at once; if so, the intent is recorded (and the user's tokens cut off)
   * before Cognito is called, and the audit entry is written when the change finishes. A failure
   * is audited on its own.
   */
  private async changeUser(
    actor: AuthUser,
    action: UserChange,
    targetId: string,
    details: Record<string, unknown>,
    decide: (target: UserMapping) => Promise<boolean>,
  ): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action, targetUserId: targetId, details };
    const exists = (await this.users.findById(targetId)) !== null;
    await this.auditLog.audited(exists ? entry : null, async () => {
      await this.changes.finishPendingFor(targetId);
      const pending = await this.transactions.run(async () => {
        const target = await this.users.lockLive(targetId);
        if (target === null) {
          throw ApiError.notFound('No such user (or the user has been withdrawn)');
        }
        if (!(await decide(target))) {
          await this.audit.record({ ...entry, details: { ...details, changed: false } });
          return null;
        }
        return this.changes.begin({ userId: targetId, action, details, actorId: actor.id });
      });
      if (pending !== null) {
        await this.changes.finish(pending);
      }
    });
  }
}
