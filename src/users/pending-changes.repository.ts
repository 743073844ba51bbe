import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { EntityManager } from 'typeorm';
import { ChangeAction, ChangeDetails, ChangeRecord } from './account-change';
import { RETRY_BACKOFF_SQL } from './retry-backoff';

/** An account change between its intent and its end (a `pending_changes` row). */
export interface PendingChange extends ChangeRecord {
  id: string;
  /** When the intent was recorded (the database's clock). */
  requestedAt: Date;
}

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

/** The queries over `pending_changes`: the intents of AccountChangesService. */
@Injectable()
export class PendingChangesRepository {
  constructor(private readonly transactions: Transactions) {}

  async insert(change: ChangeRecord, manager: EntityManager = this.transactions.manager): Promise<PendingChange> {
    const rows: PendingRow[] = await manager.query(
      `INSERT INTO pending_changes (user_id, action, details, actor_id) VALUES ($1, $2, $3::jsonb, $4)
       RETURNING ${PENDING_COLUMNS}`,
      [change.userId, change.action, JSON.stringify(change.details), change.actorId],
    );
    return toChange(rows[0]);
  }

  /** Deletes the intent; returns whether it was still there (false: another instance finished it). */
  async delete(id: string, manager: EntityManager = this.transactions.manager): Promise<boolean> {
    const [, deleted]: [unknown[], number] = await manager.query(`DELETE FROM pending_changes WHERE id = $1`, [id]);
    return deleted > 0;
  }

  /** The user's changes in flight, oldest first. */
  async forUser(userId: string, manager: EntityManager = this.transactions.manager): Promise<PendingChange[]> {
    const rows: PendingRow[] = await manager.query(
      `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE user_id = $1 ORDER BY requested_at, id`,
      [userId],
    );
    return rows.map(toChange);
  }

  /** The invitation of this address an earlier attempt left unfinished, if any. */
  async invitation(email: string): Promise<PendingChange | null> {
    const { rows }: { rows: PendingRow[] } = await this.transactions.execute(
      `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE action = 'user.invite' AND lower(details->>'email') = lower($1)
        ORDER BY requested_at LIMIT 1`,
      [email],
    );
    return rows.length === 0 ? null : toChange(rows[0]);
  }

  /** The deletions of this group in flight. */
  async groupDeletions(group: string): Promise<PendingChange[]> {
    const { rows }: { rows: PendingRow[] } = await this.transactions.execute(
      `SELECT ${PENDING_COLUMNS} FROM pending_changes WHERE action = 'group.delete' AND details->>'group' = $1`,
      [group],
    );
    return rows.map(toChange);
  }

  /** Whether a change of this kind to the group is in flight. */
  async pendingFor(
    action: 'group.delete' | 'group.add_user',
    group: string,
    manager: EntityManager = this.transactions.manager,
  ): Promise<boolean> {
    const [{ pending }]: Array<{ pending: boolean }> = await manager.query(
      `SELECT EXISTS (SELECT 1 FROM pending_changes WHERE action = $2 AND details->>'group' = $1) AS pending`,
      [group, action],
    );
    return pending;
  }

  /** Keeps the members a group deletion listed on its intent, for a retry after Cognito deleted the group. */
  async storeMembers(id: string, members: string[], manager: EntityManager = this.transactions.manager): Promise<void> {
    await manager.query(`UPDATE pending_changes SET details = details || jsonb_build_object('members', $2::jsonb) WHERE id = $1`, [
      id,
      JSON.stringify(members),
    ]);
  }

  /**
   * Claims the change longest due (past its grace period and backoff) by pushing its next attempt
   * out first (30 s, doubling); a row another instance holds is skipped. Null when none is due.
   */
  async claimNextDue(): Promise<PendingChange | null> {
    const { rows }: { rows: PendingRow[] } = await this.transactions.execute(
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
    return rows.length === 0 ? null : toChange(rows[0]);
  }
}
