import { Client } from 'pg';

/**
 * Runs `during` while another session holds a user's Idempotency-Key: the advisory lock a request
 * in flight holds (the key's lock in src/idempotency/idempotency.repository.ts).
 */
export async function whileKeyHeld(databaseUrl: string, userId: string, key: string, during: () => Promise<void>): Promise<void> {
  const first = new Client({ connectionString: databaseUrl });
  await first.connect();
  try {
    await first.query('BEGIN');
    await first.query(`SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))`, [userId, key]);
    await during();
    await first.query('ROLLBACK');
  } finally {
    await first.end();
  }
}
