import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Account changes that touch Cognito (group membership, disable/enable, global sign-out, group
 * deletion) are recorded here before Cognito is called and removed in the transaction that
 * finishes them, so a change cut short by a crash or a database outage is completed by a retry
 * or by the sweep, revocation and audit included.
 */
export class CreatePendingChanges1764000030000 implements MigrationInterface {
  name = 'CreatePendingChanges1764000030000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pending_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid REFERENCES user_mapping (id) ON DELETE CASCADE,
        action varchar(64) NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        actor_id uuid,
        requested_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_pending_changes_target CHECK ((user_id IS NULL) = (action = 'group.delete'))
      )
    `);
    // The guard asks "does this user have a change in flight?" on every request.
    await q.query(`CREATE INDEX ix_pending_changes_user ON pending_changes (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_pending_changes_due ON pending_changes (next_attempt_at)`);
    // The withdrawal sweep backs off per row, so one row that keeps failing does not starve the rest.
    await q.query(`ALTER TABLE user_mapping ADD COLUMN withdrawal_attempts integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE user_mapping ADD COLUMN withdrawal_next_attempt_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_mapping DROP COLUMN withdrawal_next_attempt_at`);
    await q.query(`ALTER TABLE user_mapping DROP COLUMN withdrawal_attempts`);
    await q.query(`DROP TABLE pending_changes`);
  }
}
