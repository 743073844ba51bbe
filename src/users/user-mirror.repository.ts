import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { toUserMapping, UserMapping, UserMappingRow, userMappingColumns } from '../identity/entities/user-mapping.entity';

/** A Cognito user's identity and the attributes mirrored into its row. */
export interface MirroredUser {
  sub: string;
  username: string;
  email: string | null;
  phoneNumber: string | null;
  nickname: string | null;
}

/** The temporary table of the Cognito subs a reconcile run has seen (one connection's session). */
const SEEN_SUBS = 'reconcile_seen_subs';

/** One array per column, in the order of `columns()`. */
type Columns = [
  subs: string[],
  usernames: string[],
  emails: Array<string | null>,
  phones: Array<string | null>,
  nicknames: Array<string | null>,
];

const INSERT_MISSING = statement<{ id: string }, Columns>(
  `INSERT INTO user_mapping (cognito_sub, cognito_username, email, phone_number, nickname)
   SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
   ON CONFLICT (cognito_sub) DO NOTHING
   RETURNING id`,
);
const UPDATE_MIRRORED = statement<never, Columns>(
  `UPDATE user_mapping u
      SET email = c.email, phone_number = c.phone_number, nickname = c.nickname, updated_at = now()
     FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
          AS c(cognito_sub, cognito_username, email, phone_number, nickname)
    WHERE u.cognito_sub = c.cognito_sub AND u.status <> 'withdrawn' AND u.withdrawal_requested_at IS NULL
      AND (u.email, u.phone_number, u.nickname) IS DISTINCT FROM (c.email, c.phone_number, c.nickname)`,
);
const CREATE_SEEN = statement<never, []>(`CREATE TEMPORARY TABLE IF NOT EXISTS ${SEEN_SUBS} (cognito_sub varchar(64) PRIMARY KEY)`);
const EMPTY_SEEN = statement<never, []>(`TRUNCATE ${SEEN_SUBS}`);
const ADD_SEEN = statement<never, [subs: string[]]>(`INSERT INTO ${SEEN_SUBS} SELECT unnest($1::varchar[]) ON CONFLICT DO NOTHING`);
const UNSEEN = statement<UserMappingRow, [createdBefore: Date, afterId: string | null, limit: number]>(
  `SELECT ${userMappingColumns('u')} FROM user_mapping u
    WHERE u.status <> 'withdrawn' AND u.withdrawal_requested_at IS NULL AND u.created_at < $1
      AND ($2::uuid IS NULL OR u.id > $2::uuid)
      AND NOT EXISTS (SELECT 1 FROM ${SEEN_SUBS} s WHERE s.cognito_sub = u.cognito_sub)
    ORDER BY u.id
    LIMIT $3`,
);

/**
 * The reconcile job's queries over `user_mapping`: batches of one ListUsers page, and the rows
 * Cognito no longer has. The seen set lives on the run's own connection: its methods run inside
 * `Transactions.onOwnConnection`.
 */
@Injectable()
export class UserMirrorRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Inserts a row for each user that has none (concurrent sign-ups win); returns how many it inserted. */
  async insertMissing(users: MirroredUser[]): Promise<number> {
    if (users.length === 0) {
      return 0;
    }
    return (await this.transactions.rows(INSERT_MISSING, columns(users))).length;
  }

  /**
   * Writes the attributes of each user into its row, in one statement; returns how many rows
   * changed. Withdrawn rows, and rows whose withdrawal is under way, are never written back to.
   */
  async updateMirroredAttributes(users: MirroredUser[]): Promise<number> {
    if (users.length === 0) {
      return 0;
    }
    return (await this.transactions.execute(UPDATE_MIRRORED, columns(users))).rowCount;
  }

  /** Starts an empty set of seen subs on this session's connection (a temporary table). */
  async startSeenSet(): Promise<void> {
    await this.transactions.execute(CREATE_SEEN, []);
    await this.transactions.execute(EMPTY_SEEN, []);
  }

  async addSeen(subs: string[]): Promise<void> {
    await this.transactions.execute(ADD_SEEN, [subs]);
  }

  /**
   * Live rows created before `createdBefore` whose sub is not in the seen set, in id order after
   * `afterId`: the candidates for a withdrawal. Rows whose withdrawal is under way are not listed.
   */
  async unseen(createdBefore: Date, afterId: string | null, limit: number): Promise<UserMapping[]> {
    return (await this.transactions.rows(UNSEEN, [createdBefore, afterId, limit])).map(toUserMapping);
  }
}

function columns(users: MirroredUser[]): Columns {
  return [
    users.map((u) => u.sub),
    users.map((u) => u.username),
    users.map((u) => u.email),
    users.map((u) => u.phoneNumber),
    users.map((u) => u.nickname),
  ];
}
