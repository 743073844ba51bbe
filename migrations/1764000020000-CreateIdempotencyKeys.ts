import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of the create routes. A row is written in the same transaction as the effect
 * it answers, so a committed row is always a completed request with its whole response: the
 * state "in flight" is not a row but a transaction-scoped advisory lock on (user, key), which
 * PostgreSQL releases with the transaction, also when the connection is cut.
 */
export class CreateIdempotencyKeys1764000020000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL REFERENCES user_mapping (id) ON DELETE CASCADE,
        key varchar(255) NOT NULL CHECK (key ~ '^[A-Za-z0-9_-]{1,255}$'),
        request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
        status_code smallint NOT NULL CHECK (status_code BETWEEN 200 AND 299),
        response_body json,
        response_headers jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )
    `);
    await q.query(`CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
