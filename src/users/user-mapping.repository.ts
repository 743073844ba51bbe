import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { EntityManager } from 'typeorm';
import { KeysetWindow, cursorTimestampSql } from '../common/pagination';
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

/** A Cognito user's identity and the attributes mirrored into its row. */
export interface MirroredUser {
  sub: string;
  username: string;
  email: string | null;
  phoneNumber: string | null;
  nickname: string | null;
}

/** A row of the admin user list. */
export type AdminUserRow = Pick<UserMappingRow, 'id' | 'email' | 'nickname' | 'status' | 'created_at'> & { cursor_ts: string };

/** `%` and `_` in a search are literal characters, not wildcards. */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The temporary table of the Cognito subs a reconcile run has seen (one connection's session). */
const SEEN_SUBS = 'reconcile_seen_subs';

/**
 * The queries over `user_mapping`, but for the withdrawal's own (WithdrawalRepository). The guard's
 * read is CallerStateRepository's; `countStaying` also looks at pending_changes, to answer in one statement.
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

  // ---- administration -------------------------------------------------------------------------

  /** Users newest first, one keyset window, filtered by status and by a search of email and nickname. */
  listForAdmin(filter: { status: UserStatus | null; search: string | null }, page: KeysetWindow): Promise<AdminUserRow[]> {
    return this.transactions.manager.query(
      `SELECT id, email, nickname, status, created_at, ${cursorTimestampSql('created_at')} AS cursor_ts
           FROM user_mapping
          WHERE ($1::varchar IS NULL OR status = $1)
            AND ($2::text IS NULL OR lower(email) LIKE $2 ESCAPE '\\' OR lower(nickname) LIKE $2 ESCAPE '\\')
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
          ORDER BY created_at DESC, id DESC
          LIMIT $5`,
      [
        filter.status,
        filter.search === null ? null : likePattern(filter.search),
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.take,
      ],
    );
  }

  /** The user's row, locked for the transaction; null when unknown or (being) withdrawn. */
  async lockLive(manager: EntityManager, id: string): Promise<UserMapping | null> {
    const rows: UserMappingRow[] = await manager.query(`SELECT * FROM user_mapping WHERE id = $1 FOR UPDATE`, [id]);
    const row = rows[0];
    return row === undefined || row.status === 'withdrawn' || row.withdrawal_requested_at !== null ? null : toUserMapping(row);
  }

  /** The rows of these Cognito users, oldest first. */
  async findAllBySubs(subs: string[], manager: EntityManager = this.transactions.manager): Promise<UserMapping[]> {
    const rows: UserMappingRow[] = await manager.query(
      `SELECT * FROM user_mapping WHERE cognito_sub = ANY($1::varchar[]) ORDER BY created_at, id`,
      [subs],
    );
    return rows.map(toUserMapping);
  }

  /** The Cognito username of a user not withdrawn; null otherwise. */
  async liveUsername(id: string | null): Promise<string | null> {
    const rows: Array<{ cognito_username: string }> = await this.transactions.manager.query(
      `SELECT cognito_username FROM user_mapping WHERE id = $1 AND status <> 'withdrawn'`,
      [id],
    );
    return rows[0]?.cognito_username ?? null;
  }

  /** Moves a user from one status to the other; a row in any other status is left alone. */
  async setStatus(manager: EntityManager, id: string | null, from: UserStatus, to: UserStatus): Promise<void> {
    await manager.query(`UPDATE user_mapping SET status = $3, updated_at = now() WHERE id = $1 AND status = $2`, [id, from, to]);
  }

  /**
   * How many of these Cognito users are active, not withdrawing, and not on their way out of
   * `group` (a disable, or a removal from the group, in flight in pending_changes).
   */
  async countStaying(manager: EntityManager, subs: string[], group: string): Promise<number> {
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

  // ---- reconcile: batches of one ListUsers page, and the rows Cognito no longer has ---------

  async findBySubs(subs: string[], manager: EntityManager = this.transactions.manager): Promise<UserMapping[]> {
    const rows: UserMappingRow[] = await manager.query(`SELECT * FROM user_mapping WHERE cognito_sub = ANY($1::varchar[])`, [subs]);
    return rows.map(toUserMapping);
  }

  /** Inserts a row for each user that has none (concurrent sign-ups win); returns how many it inserted. */
  async insertMissing(users: MirroredUser[], manager: EntityManager = this.transactions.manager): Promise<number> {
    if (users.length === 0) {
      return 0;
    }
    const inserted: unknown[] = await manager.query(
      `INSERT INTO user_mapping (cognito_sub, cognito_username, email, phone_number, nickname)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
       ON CONFLICT (cognito_sub) DO NOTHING
       RETURNING id`,
      columns(users),
    );
    return inserted.length;
  }

  /**
   * Writes the attributes of each user into its row, in one statement; returns how many rows
   * changed. Withdrawn rows, and rows whose withdrawal is under way, are never written back to.
   */
  async updateMirroredAttributes(users: MirroredUser[], manager: EntityManager = this.transactions.manager): Promise<number> {
    if (users.length === 0) {
      return 0;
    }
    const result: [unknown[], number] = await manager.query(
      `UPDATE user_mapping u
          SET email = c.email, phone_number = c.phone_number, nickname = c.nickname, updated_at = now()
         FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
              AS c(cognito_sub, cognito_username, email, phone_number, nickname)
        WHERE u.cognito_sub = c.cognito_sub AND u.status <> 'withdrawn' AND u.withdrawal_requested_at IS NULL
          AND (u.email, u.phone_number, u.nickname) IS DISTINCT FROM (c.email, c.phone_number, c.nickname)`,
      columns(users),
    );
    return result[1];
  }

  /** Starts an empty set of seen subs on this manager's connection (a temporary table). */
  async startSeenSet(manager: EntityManager): Promise<void> {
    await manager.query(`CREATE TEMPORARY TABLE IF NOT EXISTS ${SEEN_SUBS} (cognito_sub varchar(64) PRIMARY KEY)`);
    await manager.query(`TRUNCATE ${SEEN_SUBS}`);
  }

  async addSeen(manager: EntityManager, subs: string[]): Promise<void> {
    await manager.query(`INSERT INTO ${SEEN_SUBS} SELECT unnest($1::varchar[]) ON CONFLICT DO NOTHING`, [subs]);
  }

  /**
   * Live rows created before `createdBefore` whose sub is not in the seen set, in id order after
   * `afterId`: the candidates for a withdrawal. Rows whose withdrawal is under way are not listed.
   */
  async unseen(manager: EntityManager, createdBefore: Date, afterId: string | null, limit: number): Promise<UserMapping[]> {
    const rows: UserMappingRow[] = await manager.query(
      `SELECT u.* FROM user_mapping u
        WHERE u.status <> 'withdrawn' AND u.withdrawal_requested_at IS NULL AND u.created_at < $1
          AND ($2::uuid IS NULL OR u.id > $2::uuid)
          AND NOT EXISTS (SELECT 1 FROM ${SEEN_SUBS} s WHERE s.cognito_sub = u.cognito_sub)
        ORDER BY u.id
        LIMIT $3`,
      [createdBefore, afterId, limit],
    );
    return rows.map(toUserMapping);
  }
}

function columns(users: MirroredUser[]): Array<Array<string | null>> {
  return [
    users.map((u) => u.sub),
    users.map((u) => u.username),
    users.map((u) => u.email),
    users.map((u) => u.phoneNumber),
    users.map((u) => u.nickname),
  ];
}
