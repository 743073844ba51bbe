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
    const details: Record<string, unknown> =
      change.action === 'group.delete'
        ? { group: change.details.group, members: event.membersRevoked }
        : { ...change.details, changed: true };
    await this.audit.record(event.manager, { actorId: change.actorId, action: change.action, targetUserId: change.userId, details });
  }
}
