import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ACCOUNT_CHANGE_COMPLETED, AccountChangeCompletedEvent } from '../users/account-change.event';
import { AuditLogRepository } from './audit-log.repository';

/**
 * An admin's account change is audited in the transaction that finishes it, whether the request
 * itself finished it or a retry or the sweep did after a partial failure.
 */
@Injectable()
export class AdminAuditHandler {
  constructor(private readonly audit: AuditLogRepository) {}

  @OnEvent(ACCOUNT_CHANGE_COMPLETED, { promisify: true, suppressErrors: false })
  async onChangeCompleted(event: AccountChangeCompletedEvent): Promise<void> {
    const { change } = event;
    if (change.actorId === null) {
      return;
    }
    let details: Record<string, unknown> = { ...change.details, changed: true };
    if (change.action === 'group.delete') {
      details = { group: change.details.group, members: event.membersRevoked };
    } else if (change.action === 'user.invite') {
      // The invitee's address and name are on their row (the target), not copied into the log.
      details = { groups: change.details.groups };
    }
    await this.audit.record(event.manager, { actorId: change.actorId, action: change.action, targetUserId: change.userId, details });
  }
}
