import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ADMIN_GROUP, AuthUser } from '../identity/auth-user';
import { CognitoService } from '../cognito/cognito.service';
import { ApiError } from '../common/api-error';
import { cursorTimestampSql, decodeCursor, DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { UserStatus } from '../identity/entities/user-mapping.entity';
import { AccountChangesService } from '../users/account-changes.service';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { WithdrawalService } from '../users/withdrawal.service';
import { AuditEntry, AuditLogRepository } from './audit-log.repository';
import { AdminUserQueryDto, CreateGroupDto, InviteUserDto } from './dto/admin.dto';
import { AdminUserDetail, AdminUserSummary, GroupMember, GroupResponse } from './dto/admin.response';

const USERS_CURSOR = 'admin-users';

interface TargetRow {
  id: string;
  cognito_username: string;
  cognito_sub: string;
  status: UserStatus;
  withdrawal_requested_at: Date | null;
}

/** `%` and `_` in a search are literal characters, not wildcards. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * User and group administration. Each write records its intent before Cognito is called and
 * finishes (revocation, status, audit entry) in one transaction after it, so a change cut short
 * converges on a retry or in the sweep; a failure is audited on its own.
 */
@Injectable()
export class AdminService {
  private readonly logger = new Logger(AdminService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly cognito: CognitoService,
    private readonly withdrawal: WithdrawalService,
    private readonly audit: AuditLogRepository,
    private readonly users: UserMappingRepository,
    private readonly changes: AccountChangesService,
  ) {}

  // ---- users ---------------------------------------------------------------------------------

  async listUsers(query: AdminUserQueryDto): Promise<Page<AdminUserSummary>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor === undefined ? null : decodeCursor(USERS_CURSOR, query.cursor);
    const rows: Array<{
      id: string;
      email: string | null;
      nickname: string | null;
      status: UserStatus;
      created_at: Date;
      cursor_ts: string;
    }> = await this.dataSource.query(
      `SELECT id, email, nickname, status, created_at, ${cursorTimestampSql('created_at')} AS cursor_ts
           FROM user_mapping
          WHERE ($1::varchar IS NULL OR status = $1)
            AND ($2::text IS NULL OR lower(email) LIKE $2 ESCAPE '\\' OR lower(nickname) LIKE $2 ESCAPE '\\')
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
          ORDER BY created_at DESC, id DESC
          LIMIT $5`,
      [query.status ?? null, query.q ? likePattern(query.q) : null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return toPage(USERS_CURSOR, rows, limit, (row) => ({
      id: row.id,
      email: row.email,
      nickname: row.nickname,
      status: row.status,
      createdAt: row.created_at.toISOString(),
    }));
  }

  async userDetail(id: string): Promise<AdminUserDetail> {
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
   * managed and put in groups before they ever log in. Cognito cannot take part in the
   * transaction: if the database write fails after Cognito created the user, the row is created
   * just in time at their first login, and a retry answers USER_EXISTS.
   */
  async inviteUser(actor: AuthUser, dto: InviteUserDto): Promise<AdminUserDetail> {
    const groups = [...new Set(dto.groups ?? [])];
    const entry: AuditEntry = { actorId: actor.id, action: 'user.invite', details: { groups } };
    try {
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
      const profile = await this.cognito.adminCreateUser(dto);
      for (const group of groups) {
        await this.cognito.adminAddUserToGroup(profile.username, group);
      }
      const fields = { email: profile.email ?? dto.email, phoneNumber: profile.phoneNumber, nickname: profile.nickname };
      const user = await this.dataSource.transaction(async (m) => {
        const { user: row } = await this.users.ensure(profile.sub, profile.username, fields, m);
        await this.audit.record(m, { ...entry, targetUserId: row.id });
        return row;
      });
      return { ...UserProfileResponse.from(user, groups), enabled: profile.enabled };
    } catch (error) {
      await this.auditFailure(entry, error);
      throw error;
    }
  }

  async disable(actor: AuthUser, id: string): Promise<void> {
    await this.changeUser(actor, 'user.disable', id, {}, async (m, target) => {
      await this.changes.assertNotLastAdmin(m, target.cognito_sub);
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
  async deleteUser(actor: AuthUser, id: string): Promise<void> {
    const user = await this.users.findById(id);
    if (user === null) {
      throw ApiError.notFound('No such user');
    }
    if (user.status === 'withdrawn') {
      return;
    }
    if (user.withdrawalRequestedAt === null) {
      await this.audited({ actorId: actor.id, action: 'user.delete', targetUserId: id, details: {} }, () =>
        this.dataSource.transaction(async (m) => {
          const target = await this.lockTarget(m, id);
          if (target === null) {
            return;
          }
          await this.changes.assertNotLastAdmin(m, target.cognito_sub);
          await this.withdrawal.recordIntent(m, id);
          await this.audit.record(m, { actorId: actor.id, action: 'user.delete', targetUserId: id, details: {} });
        }),
      );
    }
    // The intent is committed: from here the withdrawal converges even if this call fails.
    await this.audited({ actorId: actor.id, action: 'user.delete.complete', targetUserId: id }, () => this.withdrawal.complete(id));
  }

  // ---- groups --------------------------------------------------------------------------------

  listGroups(): Promise<GroupResponse[]> {
    return this.cognito.listGroups();
  }

  async createGroup(actor: AuthUser, dto: CreateGroupDto): Promise<GroupResponse> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.create', details: { group: dto.name } };
    return this.audited(entry, async () => {
      // Cognito answers GroupExistsException; cognito-local overwrites silently, so ask first.
      if ((await this.cognito.getGroup(dto.name)) !== null) {
        throw ApiError.conflict(`The group ${dto.name} already exists`, 'GROUP_EXISTS');
      }
      return this.dataSource.transaction(async (m) => {
        await this.audit.record(m, entry);
        return this.cognito.createGroup(dto);
      });
    });
  }

  /**
   * The intent is recorded under the group's lock, so no member joins after the deletion has
   * listed the members; their tokens (which still list the group) are cut off before Cognito
   * deletes it and again after. The audit entry is written when the deletion finishes.
   */
  async deleteGroup(actor: AuthUser, name: string): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.delete', details: { group: name } };
    await this.audited(entry, async () => {
      if (name === ADMIN_GROUP) {
        throw ApiError.conflict('The admin group cannot be deleted');
      }
      await this.changes.finishPendingGroupDeletions(name);
      await this.requireGroup(name);
      const change = await this.dataSource.transaction(async (m) => {
        await this.changes.lockGroup(m, name);
        if (await this.changes.additionsPending(m, name)) {
          throw ApiError.conflict(`A user is being added to ${name}; try again shortly`);
        }
        return this.changes.begin(m, { userId: null, action: 'group.delete', details: { group: name }, actorId: actor.id });
      });
      await this.changes.finish(change);
    });
  }

  async groupMembers(name: string): Promise<GroupMember[]> {
    await this.requireGroup(name);
    const members = await this.cognito.listUsersInGroup(name);
    const rows: GroupMember[] = await this.dataSource.query(
      `SELECT id, email, nickname FROM user_mapping WHERE cognito_sub = ANY($1::varchar[]) ORDER BY created_at, id`,
      [members.map((u) => u.sub)],
    );
    return rows.map((row) => ({ id: row.id, email: row.email, nickname: row.nickname }));
  }

  async addToGroup(actor: AuthUser, id: string, group: string): Promise<void> {
    await this.changeUser(actor, 'group.add_user', id, { group }, async (m, target) => {
      await this.requireGroup(group);
      await this.changes.lockGroup(m, group);
      return !(await this.cognito.adminListGroupsForUser(target.cognito_username)).includes(group);
    });
  }

  async removeFromGroup(actor: AuthUser, id: string, group: string): Promise<void> {
    await this.changeUser(actor, 'group.remove_user', id, { group }, async (m, target) => {
      await this.requireGroup(group);
      if (!(await this.cognito.adminListGroupsForUser(target.cognito_username)).includes(group)) {
        return false;
      }
      if (group === ADMIN_GROUP) {
        await this.changes.assertNotLastAdmin(m, target.cognito_sub);
      }
      return true;
    });
  }

  // ---- audit log -----------------------------------------------------------------------------

  auditLog(limit: number | undefined, cursor: string | undefined): ReturnType<AuditLogRepository['list']> {
    return this.audit.list(limit ?? DEFAULT_PAGE_SIZE, cursor);
  }

  // ---- helpers -------------------------------------------------------------------------------

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
    action: 'user.disable' | 'user.enable' | 'group.add_user' | 'group.remove_user',
    targetId: string,
    details: Record<string, unknown>,
    decide: (m: EntityManager, target: TargetRow) => Promise<boolean>,
  ): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action, targetUserId: targetId, details };
    const exists = (await this.users.findById(targetId)) !== null;
    await this.audited(exists ? entry : null, async () => {
      await this.changes.finishPendingFor(targetId);
      const change = await this.dataSource.transaction(async (m) => {
        const target = await this.lockTarget(m, targetId);
        if (target === null) {
          throw ApiError.notFound('No such user (or the user has been withdrawn)');
        }
        if (!(await decide(m, target))) {
          await this.audit.record(m, { ...entry, details: { ...details, changed: false } });
          return null;
        }
        return this.changes.begin(m, { userId: targetId, action, details, actorId: actor.id });
      });
      if (change !== null) {
        await this.changes.finish(change);
      }
    });
  }

  /** The target's row, locked for the transaction; null when unknown or (being) withdrawn. */
  private async lockTarget(m: EntityManager, id: string): Promise<TargetRow | null> {
    const rows: TargetRow[] = await m.query(
      `SELECT id, cognito_username, cognito_sub, status, withdrawal_requested_at FROM user_mapping WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const target = rows[0];
    return target === undefined || target.status === 'withdrawn' || target.withdrawal_requested_at !== null ? null : target;
  }

  /** Runs `work`; if it fails, records the failure in the audit log (when there is a target to name) and rethrows. */
  private async audited<T>(entry: AuditEntry | null, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (entry !== null) {
        await this.auditFailure(entry, error);
      }
      throw error;
    }
  }

  private async auditFailure(entry: AuditEntry, error: unknown): Promise<void> {
    try {
      await this.audit.recordFailure(entry, error);
    } catch (auditError) {
      this.logger.error({ err: auditError, action: entry.action }, 'could not audit a failed admin action');
    }
  }

  private async requireGroup(name: string): Promise<void> {
    if ((await this.cognito.getGroup(name)) === null) {
      throw ApiError.notFound(`No group named ${name}`);
    }
  }
}
