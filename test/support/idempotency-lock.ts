import { Client } from 'pg';
import { KEY_LOCK_ID } from '../../src/idempotency/idempotency.repository';

/**
 * Runs `during` while another session holds a user's Idempotency-Key: the advisory lock a request
 * in flight holds (KEY_LOCK_ID).
 */
export async function whileKeyHeld(databaseUrl: string, userId: string, key: string, during: () => Promise<void>): Promise<void> {
  const first = new Client({ connectionString: databaseUrl });
  await first.connect();
  try {
    await first.query('BEGIN');
    await first.query(`SELECT pg_advisory_xact_lock(${KEY_LOCK_ID})`, [userId, key]);
    await during();
    await first.query('ROLLBACK');
  } finally {
    await first.end();
  }
}
