import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One sign-in and every token refreshed from it (docs/sessions.md). `session_key` is how the guard
 * finds a token's session in its one per-request statement: Cognito's `origin_jti` (`o:` prefix),
 * or, for a token without one that this service issued, the access token's `jti` (`j:` prefix).
 * A refresh token is kept only as its SHA-256, to recognise it at /v1/auth/refresh.
 */
export class CreateSessions1764000040000 implements MigrationInterface {
  name = 'CreateSessions1764000040000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES user_mapping (id) ON DELETE CASCADE,
        refresh_token_hash char(64) UNIQUE,
        user_agent varchar(256),
        ip_address varchar(64),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz
      )
    `);
    await q.query(`CREATE INDEX ix_session_user_created ON session (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_session_expires ON session (expires_at)`);
    await q.query(`
      CREATE TABLE session_key (
        key varchar(140) PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES session (id) ON DELETE CASCADE
      )
    `);
    await q.query(`CREATE INDEX ix_session_key_session ON session_key (session_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_key`);
    await q.query(`DROP TABLE session`);
  }
}
