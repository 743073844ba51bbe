import { Injectable } from '@nestjs/common';
import { cursorTimestampSql, KeysetWindow } from '../common/pagination';
import { dynamic, statement } from '../database/statement';
import { Transactions } from '../database/transactions';

export interface AuditEntry {
  actorId: string;
  action: string;
  targetUserId?: string | null;
  details?: Record<string, unknown>;
  outcome?: 'succeeded' | 'failed';
}

/** An `audit_log` row as the list reads it (the table has no entity: this is its one declaration). */
export interface AuditRow {
  id: string;
  actor_id: string;
  action: string;
  target_user_id: string | null;
  outcome: string;
  details: Record<string, unknown>;
  created_at: Date;
  cursor_ts: string;
}

const RECORD = statement<
  never,
  [actorId: string, action: string, targetUserId: string | null, outcome: 'succeeded' | 'failed', details: string]
>(`INSERT INTO audit_log (actor_id, action, target_user_id, outcome, details) VALUES ($1, $2, $3, $4, $5::jsonb)`);
/** Its WHERE holds only the filters given (auditListQuery): built per call. */
const AUDIT_PAGE = dynamic<AuditRow>();

/** The queries over `audit_log`. */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Written in the transaction that makes the change it describes: the surrounding one (Transactions.run). */
  async record(entry: AuditEntry): Promise<void> {
    await this.transactions.execute(RECORD, [
      entry.actorId,
      entry.action,
      entry.targetUserId ?? null,
      entry.outcome ?? 'succeeded',
      JSON.stringify(entry.details ?? {}),
    ]);
  }

  /** A failed attempt changes nothing else, so it is recorded on its own. */
  recordFailure(entry: AuditEntry, error: unknown): Promise<void> {
    const code = (error as { code?: unknown } | null)?.code;
    return this.record({
      ...entry,
      outcome: 'failed',
      details: { ...entry.details, error: typeof code === 'string' ? code : 'INTERNAL_ERROR' },
    });
  }

  /** Entries newest first that match `filters`, one keyset window. */
  list(filters: AuditFilters, page: KeysetWindow): Promise<AuditRow[]> {
    const { sql, params } = auditListQuery(filters, page);
    return this.transactions.rows(AUDIT_PAGE(sql), params);
  }
}

/** What the audit log is filtered by; every filter present must match (AND). */
export interface AuditFilters {
  action?: string;
  actorId?: string;
  targetUserId?: string;
  /** Inclusive, as UTC text with microseconds. */
  from?: string;
  /** Exclusive, as UTC text with microseconds. */
  to?: string;
}

/**
 * The query of one keyset window over the filtered log. Only the conditions of the filters given
 * are in the SQL (values always as parameters), so each filter meets an index that also orders by
 * (created_at, id): ix_audit_log_action, ix_audit_log_actor, ix_audit_log_target, or
 * ix_audit_log_created for a time range alone. Exported so a test can EXPLAIN it.
 */
export function auditListQuery(filters: AuditFilters, page: KeysetWindow): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown): void => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  if (filters.action !== undefined) {
    add((p) => `action = ${p}`, filters.action);
  }
  if (filters.actorId !== undefined) {
    add((p) => `actor_id = ${p}::uuid`, filters.actorId);
  }
  if (filters.targetUserId !== undefined) {
    add((p) => `target_user_id = ${p}::uuid`, filters.targetUserId);
  }
  if (filters.from !== undefined) {
    add((p) => `created_at >= ${p}::timestamptz`, filters.from);
  }
  if (filters.to !== undefined) {
    add((p) => `created_at < ${p}::timestamptz`, filters.to);
  }
  if (page.after !== null) {
    params.push(page.after.createdAt, page.after.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(page.take);
  const sql = `SELECT id, actor_id, action, target_user_id, outcome, details, created_at, ${cursorTimestampSql('created_at')} AS cursor_ts
         FROM audit_log
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC
        LIMIT $${params.length}`;
  return { sql, params };
}
