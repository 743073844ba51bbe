import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { ApiError } from '../common/api-error';
import { AuthUser } from '../identity/auth-user';
import { SessionList } from '../users/dto/session.response';
import { SessionsRepository } from '../users/sessions.repository';
import { SessionsService } from '../users/sessions.service';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';

/** A user's sessions as an admin sees them: the same list (none is the admin's own), ended audited. */
@Injectable()
export class AdminSessionsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UserMappingRepository,
    private readonly sessions: SessionsRepository,
    private readonly userSessions: SessionsService,
    private readonly audit: AuditLogRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  async list(userId: string): Promise<SessionList> {
    await this.existingUser(userId);
    return this.userSessions.list(userId, null);
  }

  /** Ends the session and writes its audit entry in one transaction. */
  async end(actor: AuthUser, userId: string, sessionId: string): Promise<void> {
    await this.existingUser(userId);
    const entry = { actorId: actor.id, action: 'session.revoke', targetUserId: userId, details: { sessionId } };
    await this.auditLog.audited(entry, () =>
      this.transactions.run(async () => {
        if (!(await this.sessions.end(userId, sessionId))) {
          throw ApiError.notFound('No such session of this user');
        }
        await this.audit.record(entry);
      }),
    );
  }

  private async existingUser(id: string): Promise<void> {
    if ((await this.users.findById(id)) === null) {
      throw ApiError.notFound('No such user');
    }
  }
}
