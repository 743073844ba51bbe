import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { cursorTimestampSql, KeysetWindow } from '../common/pagination';

export interface AuditEntry {
  actorId: string;
  action: string;
  targetUserId?: string | null;
  details?: Record<string, unknown>;
  outcome?: 'succeeded' | 'failed';
}

/** An `audit_log` row as the list reads it. */
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

/** The queries over `audit_log`. */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Written with the manager of the transaction that makes the change it describes. */
  async record(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await manager.query(`INSERT INTO audit_log (actor_id, action, target_user_id, outcome, details) VALUES ($1, $2, $3, $4, $5::jsonb)`, [
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
    return this.record(this.dataSource.manager, {
      ...entry,
      outcome: 'failed',
      details: { ...entry.details, error: typeof code === 'string' ? code : 'INTERNAL_ERROR' },
    });
  }

  /** Entries newest first, one keyset window. */
  list(page: KeysetWindow): Promise<AuditRow[]> {
    return this.dataSource.query(
      `SELECT id, actor_id, action, target_user_id, outcome, details, created_at, ${cursorTimestampSql('created_at')} AS cursor_ts
         FROM audit_log
        WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $3`,
      [page.after?.createdAt ?? null, page.after?.id ?? null, page.take],
    );
  }
}
