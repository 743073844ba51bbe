import { Injectable } from '@nestjs/common';
import { AccountChangeAudit, ChangeRecord } from '../users/account-change';
import { AuditLogRepository } from './audit-log.repository';

/**
 * The admin feature's side of the users layer's audit port: an admin's account change is audited
 * in the transaction that finishes it, whether the request itself finished it or a retry or the
 * sweep did after a partial failure. Changes users make to their own account are not audited.
 */
@Injectable()
export class AdminChangeAudit extends AccountChangeAudit {
  constructor(private readonly audit: AuditLogRepository) {
    super();
  }

  async changeCompleted(change: ChangeRecord, membersRevoked: number): Promise<void> {
    if (change.actorId === null) {
      return;
    }
    let details: Record<string, unknown> = { ...change.details, changed: true };
    if (change.action === 'group.delete') {
      details = { group: change.details.group, members: membersRevoked };
    } else if (change.action === 'user.invite') {
      // The invitee's address and name are on their row (the target), not copied into the log.
      details = { groups: change.details.groups };
    }
    // In the change's transaction: Transactions.run holds it for the repository.
    await this.audit.record({ actorId: change.actorId, action: change.action, targetUserId: change.userId, details });
  }
}
