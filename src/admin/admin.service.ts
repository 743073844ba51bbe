import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ADMIN_GROUP, AuthUser } from '../auth/auth-user';
import { CognitoService } from '../cognito/cognito.service';
import { ApiError } from '../common/api-error';
import { cursorTimestampSql, decodeCursor, DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { UserStatus } from '../users/entities/user-mapping.entity';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { WithdrawalService } from '../users/withdrawal.service';
import { AuditEntry, AuditLogRepository } from './audit-log.repository';
import { AdminUserQueryDto, CreateGroupDto } from './dto/admin.dto';
import { AdminUserDetail, AdminUserSummary, GroupMember, GroupResponse } from './dto/admin.response';

/** Serializes every change that could remove the last admin (two admins demoting each other). */
const ADMIN_MEMBERSHIP_LOCK = 727_002;
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
 * User and group administration. Each write changes Cognito and the database together and
 * records itself in the audit log in the transaction of its database effect; a failed Cognito
 * call rolls the database back and is audited as a failure.
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

  async disable(actor: AuthUser, id: string): Promise<void> {
    await this.change(actor, 'user.disable', id, {}, async (m, target) => {
      await this.assertNotLastAdmin(m, target);
      await m.query(`UPDATE user_mapping SET status = 'disabled', tokens_valid_after = now(), updated_at = now() WHERE id = $1`, [id]);
      await this.cognito.adminSetEnabled(target.cognito_username, false);
    });
  }

  async enable(actor: AuthUser, id: string): Promise<void> {
    await this.change(actor, 'user.enable', id, {}, async (m, target) => {
      await m.query(`UPDATE user_mapping SET status = 'active', updated_at = now() WHERE id = $1 AND status = 'disabled'`, [id]);
      await this.cognito.adminSetEnabled(target.cognito_username, true);
    });
  }

  /** Deletion is a withdrawal (the same event and handler as self-service). */
  async deleteUser(actor: AuthUser, id: string): Promise<void> {
    await this.change(actor, 'user.delete', id, {}, async (m, target) => {
      await this.assertNotLastAdmin(m, target);
      await this.withdrawal.recordIntent(m, id);
    });
    // The intent is committed: from here the withdrawal converges even if this call fails.
    try {
      await this.withdrawal.complete(id);
    } catch (error) {
      await this.auditFailure({ actorId: actor.id, action: 'user.delete.complete', targetUserId: id }, error);
      throw error;
    }
  }

  // ---- groups --------------------------------------------------------------------------------

  listGroups(): Promise<GroupResponse[]> {
    return this.cognito.listGroups();
  }

  async createGroup(actor: AuthUser, dto: CreateGroupDto): Promise<GroupResponse> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.create', details: { group: dto.name } };
    try {
      // Cognito answers GroupExistsException; cognito-local overwrites silently, so ask first.
      if ((await this.cognito.getGroup(dto.name)) !== null) {
        throw ApiError.conflict(`The group ${dto.name} already exists`, 'GROUP_EXISTS');
      }
      return await this.dataSource.transaction(async (m) => {
        await this.audit.record(m, entry);
        return this.cognito.createGroup(dto);
      });
    } catch (error) {
      await this.auditFailure(entry, error);
      throw error;
    }
  }

  async deleteGroup(actor: AuthUser, name: string): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.delete', details: { group: name } };
    try {
      if (name === ADMIN_GROUP) {
        throw ApiError.conflict('The admin group cannot be deleted');
      }
      await this.requireGroup(name);
      const members = await this.cognito.listUsersInGroup(name);
      await this.dataSource.transaction(async (m) => {
        // Their tokens still list the group: refuse them so the next refresh drops it.
        await m.query(`UPDATE user_mapping SET tokens_valid_after = now(), updated_at = now() WHERE cognito_sub = ANY($1::varchar[])`, [
          members.map((u) => u.sub),
        ]);
        await this.audit.record(m, { ...entry, details: { group: name, members: members.length } });
        await this.cognito.deleteGroup(name);
      });
    } catch (error) {
      await this.auditFailure(entry, error);
      throw error;
    }
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
    await this.change(actor, 'group.add_user', id, { group }, async (m, target) => {
      await this.requireGroup(group);
      const groups = await this.cognito.adminListGroupsForUser(target.cognito_username);
      if (groups.includes(group)) {
        return { changed: false };
      }
      await this.users.revokeTokensIssuedBeforeNow(id, m);
      await this.cognito.adminAddUserToGroup(target.cognito_username, group);
      return { changed: true };
    });
  }

  async removeFromGroup(actor: AuthUser, id: string, group: string): Promise<void> {
    await this.change(actor, 'group.remove_user', id, { group }, async (m, target) => {
      await this.requireGroup(group);
      const groups = await this.cognito.adminListGroupsForUser(target.cognito_username);
      if (!groups.includes(group)) {
        return { changed: false };
      }
      if (group === ADMIN_GROUP) {
        await this.assertNotLastAdmin(m, target);
      }
      await this.users.revokeTokensIssuedBeforeNow(id, m);
      await this.cognito.adminRemoveUserFromGroup(target.cognito_username, group);
      return { changed: true };
    });
  }

  // ---- audit log -----------------------------------------------------------------------------

  auditLog(limit: number | undefined, cursor: string | undefined): ReturnType<AuditLogRepository['list']> {
    return this.audit.list(limit ?? DEFAULT_PAGE_SIZE, cursor);
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * Runs `work` in a transaction holding the target's row lock, then records the audit entry in
   * the same transaction. The Cognito call inside `work` comes last, so a Cognito failure rolls
   * the database back; the failure is then audited on its own.
   */
  private async change(
    actor: AuthUser,
    action: string,
    targetId: string,
    details: Record<string, unknown>,
    work: (m: EntityManager, target: TargetRow) => Promise<Record<string, unknown> | void>,
  ): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action, targetUserId: targetId, details };
    let targetExists = false;
    try {
      await this.dataSource.transaction(async (m) => {
        const rows: TargetRow[] = await m.query(
          `SELECT id, cognito_username, cognito_sub, status, withdrawal_requested_at FROM user_mapping WHERE id = $1 FOR UPDATE`,
          [targetId],
        );
        const target = rows[0];
        if (target === undefined || target.status === 'withdrawn' || target.withdrawal_requested_at !== null) {
          targetExists = target !== undefined;
          throw ApiError.notFound('No such user (or the user has been withdrawn)');
        }
        targetExists = true;
        const result = await work(m, target);
        await this.audit.record(m, { ...entry, details: { ...details, ...result } });
      });
    } catch (error) {
      if (targetExists) {
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

  /** 409 if the target is the last enabled, active member of the admin group. */
  private async assertNotLastAdmin(m: EntityManager, target: TargetRow): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_MEMBERSHIP_LOCK]);
    const admins = await this.cognito.listUsersInGroup(ADMIN_GROUP);
    if (!admins.some((u) => u.sub === target.cognito_sub)) {
      return;
    }
    const others = admins.filter((u) => u.sub !== target.cognito_sub && u.enabled).map((u) => u.sub);
    const [{ count }]: Array<{ count: number }> = await m.query(
      `SELECT count(*)::int AS count FROM user_mapping
        WHERE cognito_sub = ANY($1::varchar[]) AND status = 'active' AND withdrawal_requested_at IS NULL`,
      [others],
    );
    if (count === 0) {
      throw ApiError.conflict('This is the last admin: promote another admin first');
    }
  }
}
