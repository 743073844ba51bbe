import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { createHash } from 'node:crypto';
import { statement } from '../database/statement';

/**
 * How long a session lives without an end: Cognito's default refresh token validity (30 days).
 * A session's tokens come from its refresh token, so none outlives it by more than an access
 * token's lifetime.
 */
export const SESSION_LIFETIME_SECONDS = 30 * 24 * 60 * 60;

/** `lastSeenAt` is written at most once per this interval: accurate to it, no write per request. */
export const LAST_SEEN_RESOLUTION_SQL = `interval '5 minutes'`;

/** The session columns of the guard's statement (LEFT JOIN: all null without a session). */
export type SessionColumns =
  | { session_id: string; session_ended: boolean; session_seen_long_ago: boolean }
  | { session_id: null; session_ended: null; session_seen_long_ago: null };

/** Where a session was started: the sign-in request, as the service sees the client. */
export interface SessionOrigin {
  userAgent: string | null;
  ipAddress: string | null;
}

/** A `session` row as the list reads it (the table has no entity: this is its one declaration). */
export interface SessionRow {
  id: string;
  created_at: Date;
  last_seen_at: Date;
  user_agent: string | null;
  ip_address: string | null;
}

/** The key the guard finds a token's session by: Cognito's origin_jti, else the token's own jti. */
export function sessionKeyOf(claims: { originJti: string | null; jti: string | null }): string | null {
  if (claims.originJti !== null) {
    return `o:${claims.originJti}`;
  }
  return claims.jti === null ? null : `j:${claims.jti}`;
}

export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

function cut(origin: SessionOrigin): [string | null, string | null] {
  return [
    origin.userAgent === null ? null : origin.userAgent.slice(0, 256),
    origin.ipAddress === null ? null : origin.ipAddress.slice(0, 64),
  ];
}

const INSERT_SESSION = statement<
  { id: string },
  [userId: string, refreshTokenHash: string | null, userAgent: string | null, ipAddress: string | null, lifetimeSeconds: number]
>(
  `INSERT INTO session (user_id, refresh_token_hash, user_agent, ip_address, expires_at)
   VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second')
   ON CONFLICT (refresh_token_hash) DO NOTHING
   RETURNING id`,
);
const INSERT_KEYLESS_SESSION = statement<
  { id: string },
  [userId: string, userAgent: string | null, ipAddress: string | null, lifetimeSeconds: number]
>(`INSERT INTO session (user_id, user_agent, ip_address, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 second') RETURNING id`);
const LINK_KEY = statement<{ key: string }, [key: string, sessionId: string]>(
  `INSERT INTO session_key (key, session_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
);
const DELETE_SESSION = statement<never, [id: string]>(`DELETE FROM session WHERE id = $1`);
const SESSION_OF_KEY = statement<{ id: string }, [key: string, userId: string]>(
  `SELECT s.id FROM session_key k JOIN session s ON s.id = k.session_id WHERE k.key = $1 AND s.user_id = $2`,
);
const BY_REFRESH_TOKEN = statement<{ id: string; user_id: string; ended: boolean }, [refreshTokenHash: string]>(
  `SELECT id, user_id, (ended_at IS NOT NULL OR expires_at <= now()) AS ended FROM session WHERE refresh_token_hash = $1`,
);
const KEY_ENDED = statement<unknown, [key: string]>(
  `SELECT 1 FROM session_key k JOIN session s ON s.id = k.session_id WHERE k.key = $1 AND s.ended_at IS NOT NULL`,
);
const TOUCH = statement<never, [id: string]>(
  `UPDATE session SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - ${LAST_SEEN_RESOLUTION_SQL}`,
);
const LIST_LIVE = statement<SessionRow, [userId: string]>(
  `SELECT id, created_at, last_seen_at, user_agent, ip_address FROM session
    WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now()
    ORDER BY created_at DESC, id DESC`,
);
const END = statement<never, [id: string, userId: string]>(
  `UPDATE session SET ended_at = now() WHERE id = $1 AND user_id = $2 AND ended_at IS NULL AND expires_at > now()`,
);
const END_ALL_BUT = statement<never, [userId: string, keep: string | null]>(
  `UPDATE session SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $2::uuid`,
);
const PURGE_EXPIRED = statement<never, []>(`DELETE FROM session WHERE expires_at < now() - interval '1 day'`);

/**
 * The queries over `session` and `session_key` (docs/sessions.md). The guard's read of them is part
 * of its one per-request statement (CallerStateRepository).
 */
@Injectable()
export class SessionsRepository {
  constructor(private readonly transactions: Transactions) {}

  /**
   * Records a sign-in the service handed tokens out for, under the access token's key, with the
   * refresh token's hash. A key or refresh token seen before keeps its session.
   */
  async record(userId: string, key: string, refreshToken: string | null, origin: SessionOrigin): Promise<void> {
    await this.transactions.run(async () => {
      const [userAgent, ipAddress] = cut(origin);
      const hash = refreshToken === null ? null : refreshTokenHash(refreshToken);
      const [session] = await this.transactions.rows(INSERT_SESSION, [userId, hash, userAgent, ipAddress, SESSION_LIFETIME_SECONDS]);
      if (session === undefined) {
        return;
      }
      if ((await this.transactions.rows(LINK_KEY, [key, session.id])).length === 0) {
        // The key already names a session (a Cognito origin_jti seen first at the guard): keep that one.
        await this.transactions.execute(DELETE_SESSION, [session.id]);
      }
    });
  }

  /**
   * A token whose `origin_jti` the service has not seen starts a session at its first request.
   * Concurrent first requests create one: the key's primary key decides, the loser's row goes.
   * Returns the session of the key (null when it names another user's session).
   */
  async startOnFirstSight(userId: string, key: string, origin: SessionOrigin): Promise<string | null> {
    return this.transactions.run(async () => {
      const [userAgent, ipAddress] = cut(origin);
      const [{ id }] = await this.transactions.rows(INSERT_KEYLESS_SESSION, [userId, userAgent, ipAddress, SESSION_LIFETIME_SECONDS]);
      if ((await this.transactions.rows(LINK_KEY, [key, id])).length > 0) {
        return id;
      }
      await this.transactions.execute(DELETE_SESSION, [id]);
      const [found] = await this.transactions.rows(SESSION_OF_KEY, [key, userId]);
      return found?.id ?? null;
    });
  }

  /** The live session a refresh token belongs to, and whether it has ended; null when unknown. */
  async byRefreshToken(refreshToken: string): Promise<{ id: string; userId: string; ended: boolean } | null> {
    const [row] = await this.transactions.rows(BY_REFRESH_TOKEN, [refreshTokenHash(refreshToken)]);
    return row === undefined ? null : { id: row.id, userId: row.user_id, ended: row.ended };
  }

  /** Whether the key names a session that has ended. */
  async keyEnded(key: string): Promise<boolean> {
    return (await this.transactions.rows(KEY_ENDED, [key])).length > 0;
  }

  /** Links a refreshed access token to its session (a key seen before stays where it is). */
  async link(sessionId: string, key: string): Promise<void> {
    await this.transactions.execute(LINK_KEY, [key, sessionId]);
  }

  /** Moves `lastSeenAt` forward, at most once per resolution interval (see the guard). */
  async touch(sessionId: string): Promise<void> {
    await this.transactions.execute(TOUCH, [sessionId]);
  }

  /** The user's sessions not ended and not expired, newest first. */
  listLive(userId: string): Promise<SessionRow[]> {
    return this.transactions.rows(LIST_LIVE, [userId]);
  }

  /** Ends one live session of the user; false when it is unknown, another user's, or over already. */
  async end(userId: string, sessionId: string): Promise<boolean> {
    return (await this.transactions.execute(END, [sessionId, userId])).rowCount > 0;
  }

  /** Ends every session of the user but `keep` (null: all of them); returns how many ended. */
  async endAllBut(userId: string, keep: string | null): Promise<number> {
    return (await this.transactions.execute(END_ALL_BUT, [userId, keep])).rowCount;
  }

  /**
   * Deletes sessions (and their keys) no token could belong to any more: an ended one is kept
   * until then too, so its refresh token and its last access tokens are still recognised.
   */
  async purgeExpired(): Promise<number> {
    return (await this.transactions.execute(PURGE_EXPIRED, [])).rowCount;
  }
}
