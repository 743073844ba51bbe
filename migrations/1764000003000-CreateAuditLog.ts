import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditLog1764000003000 implements MigrationInterface {
  name = 'CreateAuditLog1764000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        actor_id uuid NOT NULL REFERENCES user_mapping (id),
        action varchar(64) NOT NULL,
        target_user_id uuid REFERENCES user_mapping (id),
        outcome varchar(16) NOT NULL DEFAULT 'succeeded',
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT ck_audit_log_outcome CHECK (outcome IN ('succeeded', 'failed')),
        CONSTRAINT ck_audit_log_details CHECK (jsonb_typeof(details) = 'object')
      )
    `);
    // Newest-first keyset pages.
    await q.query(`CREATE INDEX ix_audit_log_created ON audit_log (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_audit_log_target ON audit_log (target_user_id) WHERE target_user_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
