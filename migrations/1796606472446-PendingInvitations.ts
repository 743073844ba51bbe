import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An admin invitation is recorded in `pending_changes` before Cognito creates the user, so an
 * invitation cut short after Cognito acted (database lost) is finished and audited by a retry or
 * the sweep. Like a group deletion it has no `user_mapping` row yet: its target is the address.
 */
export class PendingInvitations1796606472446 implements MigrationInterface {
  name = 'PendingInvitations1796606472446';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pending_changes DROP CONSTRAINT ck_pending_changes_target`);
    await q.query(
      `ALTER TABLE pending_changes ADD CONSTRAINT ck_pending_changes_target CHECK ((user_id IS NULL) = (action IN ('group.delete', 'user.invite')))`,
    );
    // A retried invitation finds the one an earlier attempt left unfinished.
    await q.query(`CREATE INDEX ix_pending_changes_invite ON pending_changes ((lower(details->>'email'))) WHERE action = 'user.invite'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_pending_changes_invite`);
    await q.query(`DELETE FROM pending_changes WHERE action = 'user.invite'`);
    await q.query(`ALTER TABLE pending_changes DROP CONSTRAINT ck_pending_changes_target`);
    await q.query(`ALTER TABLE pending_changes ADD CONSTRAINT ck_pending_changes_target CHECK ((user_id IS NULL) = (action = 'group.delete'))`);
  }
}
