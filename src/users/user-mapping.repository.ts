import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { EntityManager } from 'typeorm';
import { toUserMapping, UserMapping, UserMappingRow, UserStatus } from '../identity/entities/user-mapping.entity';

/**
 * The revocation cut-off: the start of the next whole second of the database clock, read when the
 * statement runs (`clock_timestamp()`, not the transaction's start, `now()`). Token `iat` has
 * one-second precision, so a cut-off inside a second cannot tell a token issued just before it
 * from one issued just after. Rounded up, every token issued before the revocation is refused
 * (its iat is at most the current second) and every token issued from the next second on is
 * accepted; the request that revokes answers only once that second has begun, so a login the
 * client makes after the answer works at once (docs/security.md, "the same-second rule").
 */
const CUT_OFF_SQL = `date_trunc('second', clock_timestamp()) + interval '1 second'`;

export interface ProfileFields {
  email?: string | null;
  phoneNumber?: string | null;
  nickname?: string | null;
}

/**
 * The queries over `user_mapping` the users layer and auth make. Split by caller: the guard's
 * read is CallerStateRepository's, the admin list AdminUserListRepository's, reconcile's batches
 * UserMirrorRepository's, the withdrawal's WithdrawalRepository's. `countStaying` also looks at
 * pending_changes, to answer in one statement. Convention: a transaction's manager, when a
 * method takes one, is the last argument and defaults to the surrounding transaction's
 * (Transactions.manager).
 */
@Injectable()
export class UserMappingRepository {
  constructor(private readonly transactions: Transactions) {}

  /**
   * Creates the row for a Cognito user unless it exists; concurrent callers get the same row.
   * Returns whether this call inserted it.
   */
  async ensure(
    sub: string,
    username: string,
    fields: ProfileFields = {},
    manager: EntityManager = this.transactions.manager,
  ): Promise<{ user: UserMapping; created: boolean }> {
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO user_mapping (cognito_sub, cognito_username, email, phone_number, nickname)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (cognito_sub) DO NOTHING
       RETURNING id`,
      [sub, username, fields.email ?? null, fields.phoneNumber ?? null, fields.nickname ?? null],
    );
    const user = await manager.getRepository(UserMapping).findOneByOrFail({ cognitoSub: sub });
    return { user, created: inserted.length > 0 };
  }

  findBySub(sub: string): Promise<UserMapping | null> {
    return this.transactions.manager.getRepository(UserMapping).findOneBy({ cognitoSub: sub });
  }

  findById(id: string): Promise<UserMapping | null> {
    return this.transactions.manager.getRepository(UserMapping).findOneBy({ id });
  }

  /** Mirrors Cognito attributes into the row; a withdrawn row is never written back to. */
  async updateProfile(id: string, fields: ProfileFields, manager: EntityManager = this.transactions.manager): Promise<UserMapping | null> {
    const set: Partial<UserMapping> = {};
    if (fields.email !== undefined) {
      set.email = fields.email;
    }
    if (fields.phoneNumber !== undefined) {
      set.phoneNumber = fields.phoneNumber;
    }
    if (fields.nickname !== undefined) {
      set.nickname = fields.nickname;
    }
    if (Object.keys(set).length > 0) {
      await manager
        .createQueryBuilder()
        .update(UserMapping)
        .set(set)
        .where('id = :id AND status <> :withdrawn', { id, withdrawn: 'withdrawn' })
        .execute();
    }
    return manager.getRepository(UserMapping).findOneBy({ id });
  }

  /** The user's row, locked for the transaction; null when unknown or (being) withdrawn. */
  async lockLive(id: string, manager: EntityManager = this.transactions.manager): Promise<UserMapping | null> {
    const rows: UserMappingRow[] = await manager.query(`SELECT * FROM user_mapping WHERE id = $1 FOR UPDATE`, [id]);
    const row = rows[0];
    return row === undefined || row.status === 'withdrawn' || row.withdrawal_requested_at !== null ? null : toUserMapping(row);
  }

  /** The rows of these Cognito users, oldest first. */
  async findBySubs(subs: string[], manager: EntityManager = this.transactions.manager): Promise<UserMapping[]> {
    const rows: UserMappingRow[] = await manager.query(
      `SELECT * FROM user_mapping WHERE cognito_sub = ANY($1::varchar[]) ORDER BY created_at, id`,
      [subs],
    );
    return rows.map(toUserMapping);
  }

  /** The Cognito username of a user not withdrawn; null otherwise. */
  async liveUsername(id: string | null): Promise<string | null> {
    const { rows }: { rows: Array<{ cognito_username: string }> } = await this.transactions.execute(
      `SELECT cognito_username FROM user_mapping WHERE id = $1 AND status <> 'withdrawn'`,
      [id],
    );
    return rows[0]?.cognito_username ?? null;
  }

  /** Moves a user from one status to the other; a row in any other status is left alone. */
  async setStatus(id: string | null, from: UserStatus, to: UserStatus, manager: EntityManager = this.transactions.manager): Promise<void> {
    await manager.query(`UPDATE user_mapping SET status = $3, updated_at = now() WHERE id = $1 AND status = $2`, [id, from, to]);
  }

  /**
   * How many of these Cognito users are active, not withdrawing, and not on their way out of
   * `group` (a disable, or a removal from the group, in flight in pending_changes).
   */
  async countStaying(subs: string[], group: string, manager: EntityManager = this.transactions.manager): Promise<number> {
    const [{ count }]: Array<{ count: number }> = await manager.query(
      `SELECT count(*)::int AS count FROM user_mapping u
        WHERE u.cognito_sub = ANY($1::varchar[]) AND u.status = 'active' AND u.withdrawal_requested_at IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM pending_changes p
             WHERE p.user_id = u.id
               AND (p.action = 'user.disable' OR (p.action = 'group.remove_user' AND p.details->>'group' = $2))
          )`,
      [subs, group],
    );
    return count;
  }

  /**
   * Refuses every token of these users issued before now, as of the next whole second
   * (CUT_OFF_SQL); never moves a cut-off back. Returns how long until that second begins by the
   * database clock: the caller waits that long before it answers.
   */
  async cutOffTokens(ids: string[], manager: EntityManager = this.transactions.manager): Promise<{ waitMs: number } | null> {
    if (ids.length === 0) {
      return null;
    }
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [rows]: [Array<{ wait_ms: number }>, number] = await manager.query(
      `UPDATE user_mapping SET tokens_valid_after = GREATEST(tokens_valid_after, ${CUT_OFF_SQL}), updated_at = now()
        WHERE id = ANY($1::uuid[])
        RETURNING ceil(extract(epoch FROM tokens_valid_after - clock_timestamp()) * 1000)::int AS wait_ms`,
      [ids],
    );
    return { waitMs: Math.max(0, ...rows.map((r) => r.wait_ms)) };
  }
}
