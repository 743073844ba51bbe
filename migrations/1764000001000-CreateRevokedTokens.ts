import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRevokedTokens1764000001000 implements MigrationInterface {
  name = 'CreateRevokedTokens1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE revoked_tokens (
        jti varchar(128) PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES user_mapping (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      )
    `);
    await q.query(`CREATE INDEX ix_revoked_tokens_expires ON revoked_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE revoked_tokens`);
  }
}
