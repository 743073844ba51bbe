import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUserMapping1764000000000 implements MigrationInterface {
  name = 'CreateUserMapping1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_mapping (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cognito_sub varchar(64) NOT NULL,
        cognito_username varchar(128) NOT NULL,
        email varchar(320),
        phone_number varchar(32),
        nickname varchar(100),
        status varchar(16) NOT NULL DEFAULT 'active',
        tokens_valid_after timestamptz,
        withdrawal_requested_at timestamptz,
        withdrawn_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_user_mapping_cognito_sub UNIQUE (cognito_sub),
        CONSTRAINT ck_user_mapping_status CHECK (status IN ('active', 'disabled', 'withdrawn')),
        CONSTRAINT ck_user_mapping_withdrawn CHECK (
          (status = 'withdrawn') = (withdrawn_at IS NOT NULL)
          AND (status <> 'withdrawn' OR (email IS NULL AND phone_number IS NULL AND nickname IS NULL))
        )
      )
    `);
    // Admin search and keyset pages over (created_at, id).
    await q.query(`CREATE INDEX ix_user_mapping_created ON user_mapping (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_user_mapping_email ON user_mapping (lower(email))`);
    // The withdrawal sweeper only looks at rows with a pending intent.
    await q.query(
      `CREATE INDEX ix_user_mapping_pending_withdrawal ON user_mapping (withdrawal_requested_at)
       WHERE withdrawal_requested_at IS NOT NULL AND status <> 'withdrawn'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_mapping`);
  }
}
