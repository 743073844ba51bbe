import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';

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

/** An `idempotency_keys` answer as the statements read it (the table has no entity: this is its one declaration). */
export interface StoredRow {
  request_hash: Buffer;
  status_code: number;
  response_body: unknown;
  response_headers: Record<string, string>;
}

/**
 * The advisory lock id of an Idempotency-Key, from `$1` (the user's id) and `$2` (the key): every
 * statement that claims a key takes this lock, so a request in flight holds its key.
 */
export const KEY_LOCK_ID = `hashtextextended($1::uuid::text || '/' || $2::text, 0)`;

export function toStored(row: StoredRow): StoredResponse {
  return {
    requestHash: row.request_hash,
    statusCode: row.status_code,
    body: row.response_body,
    headers: row.response_headers,
  };
}

const CLAIM = statement<{ locked: boolean } & Partial<StoredRow>, [userId: string, key: string]>(
  `SELECT l.locked, k.request_hash, k.status_code, k.response_body, k.response_headers
     FROM (SELECT pg_try_advisory_xact_lock(${KEY_LOCK_ID}) AS locked) l
     LEFT JOIN idempotency_keys k
       ON l.locked AND k.user_id = $1::uuid AND k.key = $2::text AND k.created_at > now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
);
const STORE = statement<
  unknown,
  [userId: string, key: string, requestHash: Buffer, statusCode: number, body: string | null, headers: string]
>(
  `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body, response_headers)
   VALUES ($1, $2, $3, $4, $5::json, $6::jsonb)
   ON CONFLICT (user_id, key) DO UPDATE
     SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
         response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers,
         created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'
   RETURNING 1`,
);
const FIND = statement<StoredRow, [userId: string, key: string]>(
  `SELECT request_hash, status_code, response_body, response_headers
     FROM idempotency_keys
    WHERE user_id = $1 AND key = $2 AND created_at > now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
);
const FORGET_EXPIRED = statement<never, [userId: string, key: string]>(
  `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'`,
);
const PURGE_EXPIRED = statement<never, [limit: number]>(
  `DELETE FROM idempotency_keys
    WHERE (user_id, key) IN (
      SELECT user_id, key FROM idempotency_keys
       WHERE created_at <= now() - interval '${IDEMPOTENCY_KEY_TTL}'
       LIMIT $1
       FOR UPDATE SKIP LOCKED
    )`,
);

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
  async claim(userId: string, key: string): Promise<KeyClaim> {
    const [row] = await this.transactions.rows(CLAIM, [userId, key]);
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
  async store(userId: string, key: string, response: StoredResponse): Promise<boolean> {
    const rows = await this.transactions.rows(STORE, [
      userId,
      key,
      response.requestHash,
      response.statusCode,
      response.body === undefined ? null : JSON.stringify(response.body),
      JSON.stringify(response.headers),
    ]);
    return rows.length > 0;
  }

  /** The key's live stored response, outside any transaction. */
  async find(userId: string, key: string): Promise<StoredResponse | null> {
    const [row] = await this.transactions.rows(FIND, [userId, key]);
    return row === undefined ? null : toStored(row);
  }

  /** Deletes the key's row if it expired (before a keyed statement, which only inserts, takes the key again). */
  async forgetExpired(userId: string, key: string): Promise<void> {
    await this.transactions.execute(FORGET_EXPIRED, [userId, key]);
  }

  /**
   * Deletes up to `limit` keys older than the TTL. Rows another instance is deleting right now
   * are skipped (SKIP LOCKED), so janitors on several instances share the work instead of
   * queueing behind each other.
   */
  async purgeExpired(limit: number): Promise<number> {
    return (await this.transactions.execute(PURGE_EXPIRED, [limit])).rowCount;
  }
}
