import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log's filters (action, actor, target), each with the newest-first keyset order, so a
 * filtered page costs the same at page 10,000 as at page 1 (no scan of the rows that do not
 * match, no sort). A time range alone uses ix_audit_log_created. The target index replaces the
 * plain ix_audit_log_target (its leading column still serves the foreign key).
 *
 * Built CONCURRENTLY, outside a transaction, so audit writes go on while a large log is indexed.
 * An interrupted concurrent build leaves an invalid index behind: each is dropped first, so
 * running the migration again repairs it.
 */
export class AuditLogFilterIndexes1764000045000 implements MigrationInterface {
  name = 'AuditLogFilterIndexes1764000045000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const indexes: Array<[string, string]> = [
      ['ix_audit_log_action', '(action, created_at DESC, id DESC)'],
      ['ix_audit_log_actor', '(actor_id, created_at DESC, id DESC)'],
      ['ix_audit_log_target_created', '(target_user_id, created_at DESC, id DESC) WHERE target_user_id IS NOT NULL'],
    ];
    for (const [name, definition] of indexes) {
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY ${name} ON audit_log ${definition}`);
    }
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_audit_log_target`);
  }

  /** Plain (not CONCURRENTLY): TypeORM reverts inside a transaction whatever `transaction` says. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS ix_audit_log_target ON audit_log (target_user_id) WHERE target_user_id IS NOT NULL`);
    for (const name of ['ix_audit_log_target_created', 'ix_audit_log_actor', 'ix_audit_log_action']) {
      await q.query(`DROP INDEX IF EXISTS ${name}`);
    }
  }
}
