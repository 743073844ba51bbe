import { Injectable, Logger } from '@nestjs/common';
import { Page, pageRequest, PageQueryDto, toPage } from '../common/pagination';
import { AuditEntry, AuditLogRepository } from './audit-log.repository';
import { AuditEntryResponse } from './dto/admin.response';

/** Cursor kind of GET /v1/admin/audit-log: a cursor of another list is refused. */
const AUDIT_CURSOR = 'audit';

/** The audit log: its list, and the record of an admin action that failed. */
@Injectable()
export class AuditLogService {
  private readonly logger = new Logger(AuditLogService.name);

  constructor(private readonly audit: AuditLogRepository) {}

  async list(query: PageQueryDto): Promise<Page<AuditEntryResponse>> {
    const page = pageRequest(AUDIT_CURSOR, query);
    return toPage(page, await this.audit.list(page), (row) => ({
      id: row.id,
      actorId: row.actor_id,
      action: row.action,
      targetUserId: row.target_user_id,
      details: { ...row.details, outcome: row.outcome },
      createdAt: row.created_at.toISOString(),
    }));
  }

  /** Runs `work`; if it fails, records the failure in the audit log (when there is a target to name) and rethrows. */
  async audited<T>(entry: AuditEntry | null, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (entry !== null) {
        await this.recordFailure(entry, error);
      }
      throw error;
    }
  }

  /** Records a failed action; a failure to record it is logged, never hides the action's own error. */
  async recordFailure(entry: AuditEntry, error: unknown): Promise<void> {
    try {
      await this.audit.recordFailure(entry, error);
    } catch (auditError) {
      this.logger.error({ err: auditError, action: entry.action }, 'could not audit a failed admin action');
    }
  }
}
