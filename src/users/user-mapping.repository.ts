import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { toUserMapping, UserMapping, UserMappingRow, userMappingColumns, UserStatus } from '../identity/entities/user-mapping.entity';

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

const USER = userMappingColumns();

type Mirrored = [email: string | null, phoneNumber: string | null, nickname: string | null];

const INSERT_UNLESS_EXISTS = statement<{ id: string }, [sub: string, username: string, ...Mirrored]>(
  `INSERT INTO user_mapping (cognito_sub, cognito_username, email, phone_number, nickname)
   VALUES ($1, $2, $3, $4, $5)
   ON CONFLICT (cognito_sub) DO NOTHING
   RETURNING id`,
);
const BY_SUB = statement<UserMappingRow, [sub: string]>(`SELECT ${USER} FROM user_mapping WHERE cognito_sub = $1`);
const BY_ID = statement<UserMappingRow, [id: string]>(`SELECT ${USER} FROM user_mapping WHERE id = $1`);
/** Each field is written only when its flag is set (undefined leaves it, null clears it). */
const UPDATE_PROFILE = statement<
  never,
  [
    id: string,
    setEmail: boolean,
    email: string | null,
    setPhone: boolean,
    phoneNumber: string | null,
    setNickname: boolean,
    nickname: string | null,
  ]
>(
  `UPDATE user_mapping
      SET email = CASE WHEN $2 THEN $3::varchar ELSE email END,
          phone_number = CASE WHEN $4 THEN $5::varchar ELSE phone_number END,
          nickname = CASE WHEN $6 THEN $7::varchar ELSE nickname END,
          updated_at = CURRENT_TIMESTAMP
    WHERE id = $1 AND status <> 'withdrawn'`,
);
const LOCK = statement<UserMappingRow, [id: string]>(`SELECT ${USER} FROM user_mapping WHERE id = $1 FOR UPDATE`);
const BY_SUBS = statement<UserMappingRow, [subs: string[]]>(
  `SELECT ${USER} FROM user_mapping WHERE cognito_sub = ANY($1::varchar[]) ORDER BY created_at, id`,
);
const LIVE_USERNAME = statement<Pick<UserMappingRow, 'cognito_username'>, [id: string | null]>(
  `SELECT cognito_username FROM user_mapping WHERE id = $1 AND status <> 'withdrawn'`,
);
const SET_STATUS = statement<never, [id: string | null, from: UserStatus, to: UserStatus]>(
  `UPDATE user_mapping SET status = $3, updated_at = now() WHERE id = $1 AND status = $2`,
);
const COUNT_STAYING = statement<{ count: number }, [subs: string[], group: string]>(
  `SELECT count(*)::int AS count FROM user_mapping u
    WHERE u.cognito_sub = ANY($1::varchar[]) AND u.status = 'active' AND u.withdrawal_requested_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM pending_changes p
         WHERE p.user_id = u.id
           AND (p.action = 'user.disable' OR (p.action = 'group.remove_user' AND p.details->>'group' = $2))
      )`,
);
const CUT_OFF_TOKENS = statement<{ wait_ms: number }, [ids: string[]]>(
  `UPDATE user_mapping SET tokens_valid_after = GREATEST(tokens_valid_after, ${CUT_OFF_SQL}), updated_at = now()
    WHERE id = ANY($1::uuid[])
    RETURNING ceil(extract(epoch FROM tokens_valid_after - clock_timestamp()) * 1000)::int AS wait_ms`,
);

export interface ProfileFields {
  email?: string | null;
  phoneNumber?: string | null;
  nickname?: string | null;
}

/**
 * The queries over `user_mapping` the users layer and auth make. Split by caller: the guard's
 * read is CallerStateRepository's, the admin list AdminUserListRepository's, reconcile's batches
 * UserMirrorRepository's, the withdrawal's WithdrawalRepository's. `countStaying` also looks at
 * pending_changes, to answer in one statement. Each runs in the caller's transaction when there
 * is one (Transactions.run).
 */
@Injectable()
export class UserMappingRepository {
  constructor(private readonly transactions: Transactions) {}

  /**
   * Creates the row for a Cognito user unless it exists; concurrent callers get the same row.
   * Returns whether this call inserted it.
   */
  async ensure(sub: string, username: string, fields: ProfileFields = {}): Promise<{ user: UserMapping; created: boolean }> {
    const inserted = await this.transactions.rows(INSERT_UNLESS_EXISTS, [
      sub,
      username,
      fields.email ?? null,
      fields.phoneNumber ?? null,
      fields.nickname ?? null,
    ]);
    const user = await this.findBySub(sub);
    if (user === null) {
      throw new Error(`user_mapping row of ${sub} is gone right after its insert`);
    }
    return { user, created: inserted.length > 0 };
  }

  async findBySub(sub: string): Promise<UserMapping | null> {
    const [row] = await this.transactions.rows(BY_SUB, [sub]);
    return row === undefined ? null : toUserMapping(row);
  }

  async findById(id: string): Promise<UserMapping | null> {
    const [row] = await this.transactions.rows(BY_ID, [id]);
    return row === undefined ? null : toUserMapping(row);
  }

  /** Mirrors Cognito attributes into the row; a withdrawn row is never written back to. */
  async updateProfile(id: string, fields: ProfileFields): Promise<UserMapping | null> {
    const { email, phoneNumber, nickname } = fields;
    if (email !== undefined || phoneNumber !== undefined || nickname !== undefined) {
      await this.transactions.execute(UPDATE_PROFILE, [
        id,
        email !== undefined,
        email ?? null,
        phoneNumber !== undefined,
        phoneNumber ?? null,
        nickname !== undefined,
        nickname ?? null,
      ]);
    }
    return this.findById(id);
  }

  /** The user's row, locked for the transaction; null when unknown or (being) withdrawn. */
  async lockLive(id: string): Promise<UserMapping | null> {
    const [row] = await this.transactions.rows(LOCK, [id]);
    return row === undefined || row.status === 'withdrawn' || row.withdrawal_requested_at !== null ? null : toUserMapping(row);
  }

  /** The rows of these Cognito users, oldest first. */
  async findBySubs(subs: string[]): Promise<UserMapping[]> {
    return (await this.transactions.rows(BY_SUBS, [subs])).map(toUserMapping);
  }

  /** The Cognito username of a user not withdrawn; null otherwise. */
  async liveUsername(id: string | null): Promise<string | null> {
    const [row] = await this.transactions.rows(LIVE_USERNAME, [id]);
    return row?.cognito_username ?? null;
  }

  /** Moves a user from one status to the other; a row in any other status is left alone. */
  async setStatus(id: string | null, from: UserStatus, to: UserStatus): Promise<void> {
    await this.transactions.execute(SET_STATUS, [id, from, to]);
  }

  /**
   * How many of these Cognito users are active, not withdrawing, and not on their way out of
   * `group` (a disable, or a removal from the group, in flight in pending_changes).
   */
  async countStaying(subs: string[], group: string): Promise<number> {
    const [{ count }] = await this.transactions.rows(COUNT_STAYING, [subs, group]);
    return count;
  }

  /**
   * Refuses every token of these users issued before now, as of the next whole second
   * (CUT_OFF_SQL); never moves a cut-off back. Returns how long until that second begins by the
   * database clock: the caller waits that long before it answers.
   */
  async cutOffTokens(ids: string[]): Promise<{ waitMs: number } | null> {
    if (ids.length === 0) {
      return null;
    }
    const rows = await this.transactions.rows(CUT_OFF_TOKENS, [ids]);
    return { waitMs: Math.max(0, ...rows.map((r) => r.wait_ms)) };
  }
}
