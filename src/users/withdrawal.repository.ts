import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import type { UserMappingRow } from '../identity/entities/user-mapping.entity';
import { RETRY_BACKOFF_SQL } from './retry-backoff';

/** A user whose withdrawal this transaction holds (the row is locked). */
export interface WithdrawingUser {
  id: string;
  cognitoUsername: string;
}

/** A request in flight finishes its own withdrawal; the sweeper leaves fresh intents alone. */
const SWEEP_GRACE = '10 seconds';

type Withdrawing = Pick<UserMappingRow, 'id' | 'cognito_username'>;

const LOCK_UNTOUCHED_SQL = `SELECT cognito_sub FROM user_mapping
  WHERE id = $1 AND status <> 'withdrawn' AND withdrawal_requested_at IS NULL
  FOR UPDATE`;
const LOCK_UNTOUCHED = statement<Pick<UserMappingRow, 'cognito_sub'>, [userId: string]>(LOCK_UNTOUCHED_SQL);
const LOCK_UNTOUCHED_UNLESS_LOCKED = statement<Pick<UserMappingRow, 'cognito_sub'>, [userId: string]>(`${LOCK_UNTOUCHED_SQL} SKIP LOCKED`);
const RECORD_INTENT = statement<never, [userId: string]>(
  `UPDATE user_mapping SET withdrawal_requested_at = COALESCE(withdrawal_requested_at, now()), updated_at = now()
    WHERE id = $1 AND status <> 'withdrawn'`,
);
const LOCK_REQUESTED = statement<Withdrawing, [userId: string]>(
  `SELECT id, cognito_username FROM user_mapping
    WHERE id = $1 AND status <> 'withdrawn' AND withdrawal_requested_at IS NOT NULL
    FOR UPDATE`,
);
const LOCK_NEXT_DUE = statement<Withdrawing, []>(
  `SELECT id, cognito_username FROM user_mapping
    WHERE withdrawal_requested_at IS NOT NULL AND status <> 'withdrawn'
      AND withdrawal_requested_at < now() - interval '${SWEEP_GRACE}'
      AND (withdrawal_next_attempt_at IS NULL OR withdrawal_next_attempt_at <= now())
    ORDER BY COALESCE(withdrawal_next_attempt_at, withdrawal_requested_at)
    LIMIT 1
    FOR UPDATE SKIP LOCKED`,
);
const POSTPONE = statement<never, [userId: string]>(
  `UPDATE user_mapping SET withdrawal_attempts = withdrawal_attempts + 1,
          withdrawal_next_attempt_at = now() + ${RETRY_BACKOFF_SQL('withdrawal_attempts')}
    WHERE id = $1`,
);
const MARK_WITHDRAWN = statement<never, [userId: string]>(
  `UPDATE user_mapping
      SET status = 'withdrawn', withdrawn_at = now(), updated_at = now(),
          email = NULL, phone_number = NULL, nickname = NULL
    WHERE id = $1 AND status <> 'withdrawn'`,
);

function withdrawing(row: Withdrawing | undefined): WithdrawingUser | null {
  return row === undefined ? null : { id: row.id, cognitoUsername: row.cognito_username };
}

/**
 * The withdrawal's statements over `user_mapping` (its intent, its retries and the erasure), apart
 * from UserMappingRepository so that each file stays readable; the withdrawal columns
 * (`withdrawal_requested_at`, `withdrawal_attempts`, `withdrawal_next_attempt_at`, `withdrawn_at`)
 * are written only here. Each runs in the transaction its caller opened with `Transactions.run`,
 * which holds the row locks and commits the writes.
 */
@Injectable()
export class WithdrawalRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Locks a live user with no withdrawal under way; returns their Cognito sub, or null. */
  async lockUntouched(userId: string, skipLocked = false): Promise<string | null> {
    const [row] = await this.transactions.rows(skipLocked ? LOCK_UNTOUCHED_UNLESS_LOCKED : LOCK_UNTOUCHED, [userId]);
    return row?.cognito_sub ?? null;
  }

  /** Step 1: the intent on the row (kept as it was when already recorded). */
  async recordIntent(userId: string): Promise<void> {
    await this.transactions.execute(RECORD_INTENT, [userId]);
  }

  /** Locks a user whose withdrawal is recorded and not completed; null otherwise. */
  async lockRequested(userId: string): Promise<WithdrawingUser | null> {
    return withdrawing((await this.transactions.rows(LOCK_REQUESTED, [userId]))[0]);
  }

  /**
   * Locks the pending withdrawal longest due (past its grace period and backoff); a row another
   * transaction holds is skipped. Null when none is due.
   */
  async lockNextDue(): Promise<WithdrawingUser | null> {
    return withdrawing((await this.transactions.rows(LOCK_NEXT_DUE, []))[0]);
  }

  /** Puts a failed withdrawal back: 30 s, doubling per attempt, at most an hour. */
  async postpone(userId: string): Promise<void> {
    await this.transactions.execute(POSTPONE, [userId]);
  }

  /** The row stays (posts and comments keep their author id), marked withdrawn, its personal data cleared. */
  async markWithdrawn(userId: string): Promise<void> {
    await this.transactions.execute(MARK_WITHDRAWN, [userId]);
  }
}
