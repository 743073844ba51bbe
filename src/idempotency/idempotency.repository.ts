import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { EntityManager } from 'typeorm';

/** How long a key is remembered (contract: a retry within 24 h is answered from the key). */
export const IDEMPOTENCY_KEY_TTL = '24 hours';

/** What a completed request answered, as a retry with its key gets it again. */
export interface StoredResponse {
  requestHash: Buffer;
  statusCode: number;
  /** The response body as the first request sent it (JSON), or null for none. */
  body: unknown;
  headers: Record<string, string>;
}

/** The claim a request makes on its key, in the transaction that will hold its effect. */
export type KeyClaim = { kind: 'in-flight' } | { kind: 'completed'; stored: StoredResponse } | { kind: 'claimed' };

export interface StoredRow {
  request_hash: Buffer;
  status_code: number;
  response_body: unknown;
  response_headers: Record<string, string>;
}

export function toStored(row: StoredRow): StoredResponse {
  return {
    requestHash: row.request_hash,
    statusCode: row.status_code,
    body: row.response_body,
    headers: row.response_headers,
  };
}

/**
 * The queries over `idempotency_keys`. A row is only ever written by `store()`, in the same
 * transaction as the effect it answers; a key whose request is in flight is marked by a
 * transaction-scoped advisory lock on (user, key), released by PostgreSQL with the transaction.
 * A row older than the TTL is treated as absent until the janitor deletes it.
 */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly transactions: Transactions) {}

  /**
   * Takes the key's lock without waiting (another request holding it is `in-flight`) and reads the
   * key's live stored response, in one statement of the caller's transaction.
   */
  async claim(userId: string, key: string, manager: EntityManager = this.transactions.manager): Promise<KeyClaim> {
    const rows: Array<{ locked: boolean } & Partial<StoredRow>> = await manager.query(
      `SELECT l.locked, k.request_hash, k.status_code, k.response_body, k.response_headers
         FROM (SELECT pg_try_advisory_xact_lock(hashtextextended($1::uuid::text || '/' || $2::text, 0)) AS locked) l
         LEFT JOIN idempotency_keys k
           ON l.locked AND k.user_id = $1::uuid AND k.key = $2::text AND k.created_at > now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
      [userId, key],
    );
    const row = rows[0];
    if (!row.locked) {
      return { kind: 'in-flight' };
    }
    return row.status_code === null || row.status_code === undefined
      ? { kind: 'claimed' }
      : { kind: 'completed', stored: toStored(row as StoredRow) };
  }

  /**
   * Stores a claimed key's response in the caller's transaction (so it commits with the effect).
   * False when a live row exists already: a request with the same key committed between this
   * one's snapshot and its lock, and this one's effect must be rolled back.
   */
  async store(userId: string, key: string, response: StoredResponse, manager: EntityManager = this.transactions.manager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body, response_headers)
       VALUES ($1, $2, $3, $4, $5::json, $6::jsonb)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
             response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers,
             created_at = EXCLUDED.created_at
         WHERE idempotency_keys.created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'
       RETURNING 1`,
      [
        userId,
        key,
        response.requestHash,
        response.statusCode,
        response.body === undefined ? null : JSON.stringify(response.body),
        JSON.stringify(response.headers),
      ],
    );
    return rows.length > 0;
  }

  /** The key's live stored response, outside any transaction. */
  async find(userId: string, key: string): Promise<StoredResponse | null> {
    const { rows }: { rows: StoredRow[] } = await this.transactions.execute(
      `SELECT request_hash, status_code, response_body, response_headers
         FROM idempotency_keys
        WHERE user_id = $1 AND key = $2 AND created_at > now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
      [userId, key],
    );
    return rows.length === 0 ? null : toStored(rows[0]);
  }

  /** Deletes the key's row if it expired (before a keyed statement, which only inserts, takes the key again). */
  async forgetExpired(userId: string, key: string): Promise<void> {
    await this.transactions.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
      [userId, key],
    );
  }

  /**
   * Deletes up to `limit` keys older than the TTL. Rows another instance is deleting right now
   * are skipped (SKIP LOCKED), so janitors on several instances share the work instead of
   * queueing behind each other.
   */
  async purgeExpired(limit: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected].
    const { rowCount: affected } = await this.transactions.execute(
      `DELETE FROM idempotency_keys
        WHERE (user_id, key) IN (
          SELECT user_id, key FROM idempotency_keys
           WHERE created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'
           LIMIT $1
           FOR UPDATE SKIP LOCKED
        )`,
      [limit],
    );
    return affected;
  }
}
