import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { ADMIN_GROUP, AuthUser } from '../identity/auth-user';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { ApiError } from '../common/api-error';
import { AccountChangesService } from '../users/account-changes.service';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { AuditEntry, AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { CreateGroupDto } from './dto/admin.dto';
import { GroupMember, GroupResponse } from './dto/admin.response';

/** The groups (Cognito's) and their members (our rows). Membership changes are AdminUsersService's. */
@Injectable()
export class AdminGroupsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly cognito: CognitoAdminService,
    private readonly audit: AuditLogRepository,
    private readonly auditLog: AuditLogService,
    private readonly users: UserMappingRepository,
    private readonly changes: AccountChangesService,
  ) {}

  list(): Promise<GroupResponse[]> {
    return this.cognito.listGroups();
  }

  async create(actor: AuthUser, dto: CreateGroupDto): Promise<GroupResponse> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.create', details: { group: dto.name } };
    return this.auditLog.audited(entry, async () => {
      // Cognito answers GroupExistsException; cognito-local overwrites silently, so ask first.
      if ((await this.cognito.getGroup(dto.name)) !== null) {
        throw ApiError.conflict(`The group ${dto.name} already exists`, 'GROUP_EXISTS');
      }
      return this.transactions.run(async () => {
        await this.audit.record(entry);
        return this.cognito.createGroup(dto);
      });
    });
  }

  /**
   * The intent is recorded under the group's lock, so no member joins after the deletion has
   * listed the members; their tokens (which still list the group) are cut off before Cognito
   * deletes it and again after. The audit entry is written when the deletion finishes.
   */
  async delete(actor: AuthUser, name: string): Promise<void> {
    const entry: AuditEntry = { actorId: actor.id, action: 'group.delete', details: { group: name } };
    await this.auditLog.audited(entry, async () => {
      if (name === ADMIN_GROUP) {
        throw ApiError.conflict('The admin group cannot be deleted');
      }
      await this.changes.finishPendingGroupDeletions(name);
      await this.require(name);
      const deletion = await this.transactions.run(async () => {
        await this.changes.lockGroup(name);
        if (await this.changes.additionsPending(name)) {
          throw ApiError.conflict(`A user is being added to ${name}; try again shortly`);
        }
        return this.changes.begin({ userId: null, action: 'group.delete', details: { group: name }, actorId: actor.id });
      });
      await this.changes.finish(deletion);
    });
  }

  async members(name: string): Promise<GroupMember[]> {
    await this.require(name);
    const members = await this.cognito.listUsersInGroup(name);
    const rows = await this.users.findBySubs(members.map((u) => u.sub));
    return rows.map((user) => ({ id: user.id, email: user.email, nickname: user.nickname }));
  }

  /** 404 unless Cognito has a group of this name. */
  async require(name: string): Promise<void> {
    if ((await this.cognito.getGroup(name)) === null) {
      throw ApiError.notFound(`No group named ${name}`);
    }
  }
}
