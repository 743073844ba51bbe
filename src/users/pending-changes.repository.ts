import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { ChangeAction, ChangeDetails, ChangeRecord } from './account-change';
import { RETRY_BACKOFF_SQL } from './retry-backoff';

/** An account change between its intent and its end (a `pending_changes` row). */
export interface PendingChange extends ChangeRecord {
  id: string;
  /** When the intent was recorded (the database's clock). */
  requestedAt: Date;
}

/** A `pending_changes` row as PENDING_COLUMNS select it (the table has no entity: this is its one declaration). */
interface PendingRow {
  id: string;
  user_id: string | null;
  action: ChangeAction;
  details: ChangeDetails;
  actor_id: string | null;
  requested_at: Date;
}

const PENDING_COLUMNS = 'id, user_id, action, details, actor_id, requested_at';

/** A request in flight finishes its own change; the sweep leaves fresh intents alone. */
const SWEEP_GRACE = '10 seconds';

const INSERT = statement<PendingRow, [userId: string | null, action: ChangeAction, details: string, actorId: string | null]>(
  `INSERT INTO pending_changes (user_id, action, details, actor_id) VALUES ($1, $2, $3::jsonb, $4)
   RETURNING ${PENDING_COLUMNS}`,
);
const DELETE = statement<never, [id: string]>(`DELETE FROM pending_changes WHERE id = $1`);
const FOR_USER = statement<PendingRow, [userId: string]>(
  `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE user_id = $1 ORDER BY requested_at, id`,
);
const INVITATION = statement<PendingRow, [email: string]>(
  `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE action = 'user.invite' AND lower(details->>'email') = lower($1)
    ORDER BY requested_at LIMIT 1`,
);
const GROUP_DELETIONS = statement<PendingRow, [group: string]>(
  `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE action = 'group.delete' AND details->>'group' = $1`,
);
const PENDING_FOR = statement<{ pending: boolean }, [group: string, action: 'group.delete' | 'group.add_user']>(
  `SELECT EXISTS (SELECT 1 FROM pending_changes WHERE action = $2 AND details->>'group' = $1) AS pending`,
);
const STORE_MEMBERS = statement<never, [id: string, members: string]>(
  `UPDATE pending_changes SET details = details || jsonb_build_object('members', $2::jsonb) WHERE id = $1`,
);
const CLAIM_NEXT_DUE = statement<PendingRow, []>(
  `UPDATE pending_changes SET attempts = attempts + 1, next_attempt_at = now() + ${RETRY_BACKOFF_SQL('attempts')}
    WHERE id = (
      SELECT id FROM pending_changes
       WHERE next_attempt_at <= now() AND requested_at < now() - interval '${SWEEP_GRACE}'
       ORDER BY next_attempt_at
       LIMIT 1
       FOR UPDATE SKIP LOCKED
    )
    RETURNING ${PENDING_COLUMNS}`,
);

function toChange(row: PendingRow): PendingChange {
  return {
    id: row.id,
    userId: row.user_id,
    action: row.action,
    details: row.details,
    actorId: row.actor_id,
    requestedAt: row.requested_at,
  };
}

/** The queries over `pending_changes`: the intents of AccountChangesService, in the caller's transaction when there is one. */
@Injectable()
export class PendingChangesRepository {
  constructor(private readonly transactions: Transactions) {}

  async insert(change: ChangeRecord): Promise<PendingChange> {
    const [row] = await this.transactions.rows(INSERT, [change.userId, change.action, JSON.stringify(change.details), change.actorId]);
    return toChange(row);
  }

  /** Deletes the intent; returns whether it was still there (false: another instance finished it). */
  async delete(id: string): Promise<boolean> {
    return (await this.transactions.execute(DELETE, [id])).rowCount > 0;
  }

  /** The user's changes in flight, oldest first. */
  async forUser(userId: string): Promise<PendingChange[]> {
    return (await this.transactions.rows(FOR_USER, [userId])).map(toChange);
  }

  /** The invitation of this address an earlier attempt left unfinished, if any. */
  async invitation(email: string): Promise<PendingChange | null> {
    const [row] = await this.transactions.rows(INVITATION, [email]);
    return row === undefined ? null : toChange(row);
  }

  /** The deletions of this group in flight. */
  async groupDeletions(group: string): Promise<PendingChange[]> {
    return (await this.transactions.rows(GROUP_DELETIONS, [group])).map(toChange);
  }

  /** Whether a change of this kind to the group is in flight. */
  async pendingFor(action: 'group.delete' | 'group.add_user', group: string): Promise<boolean> {
    const [{ pending }] = await this.transactions.rows(PENDING_FOR, [group, action]);
    return pending;
  }

  /** Keeps the members a group deletion listed on its intent, for a retry after Cognito deleted the group. */
  async storeMembers(id: string, members: string[]): Promise<void> {
    await this.transactions.execute(STORE_MEMBERS, [id, JSON.stringify(members)]);
  }

  /**
   * Claims the change longest due (past its grace period and backoff) by pushing its next attempt
   * out first (30 s, doubling); a row another instance holds is skipped. Null when none is due.
   */
  async claimNextDue(): Promise<PendingChange | null> {
    const [row] = await this.transactions.rows(CLAIM_NEXT_DUE, []);
    return row === undefined ? null : toChange(row);
  }
}
