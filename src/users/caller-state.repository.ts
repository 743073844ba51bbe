import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { statement } from '../database/statement';
import { toUserMapping, UserMapping, UserMappingRow, userMappingColumns } from '../identity/entities/user-mapping.entity';
import { LAST_SEEN_RESOLUTION_SQL, SessionColumns } from './sessions.repository';

/** What the guard needs to decide about a caller, in one round trip: the row, its revocations, the session. */
export interface CallerState {
  user: UserMapping;
  withdrawalRequested: boolean;
  jtiRevoked: boolean;
  /** An account change is between its intent and its end (a sign-out: unless signed in after its cut-off). */
  changePending: boolean;
  /** The token's session: null when the key names none of this user's (docs/sessions.md). */
  session: { id: string; ended: boolean; seenLongAgo: boolean } | null;
}

type CallerStateRow = UserMappingRow & { jti_revoked: boolean; change_pending: boolean } & SessionColumns;

/**
 * One statement, prepared once per connection: its joins cost more to plan than to run. Its
 * columns are listed by name (userMappingColumns): a prepared statement's result may not change
 * shape while the service runs ("cached plan must not change result type"), so a migration that
 * adds a column during a rolling deploy must not change what this statement returns.
 */
const CALLER_STATE = statement<CallerStateRow, [sub: string, jti: string | null, sessionKey: string | null, authTime: number | null]>(
  `SELECT ${userMappingColumns('u')},
        ($2::varchar IS NOT NULL AND EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = $2)) AS jti_revoked,
        EXISTS (SELECT 1 FROM pending_changes p WHERE p.user_id = u.id
                   AND NOT (p.action = 'user.sign_out' AND COALESCE(to_timestamp($4::float8) >= u.tokens_valid_after, false))) AS change_pending,
        s.id AS session_id, s.ended_at IS NOT NULL AS session_ended,
        s.last_seen_at < now() - ${LAST_SEEN_RESOLUTION_SQL} AS session_seen_long_ago
   FROM user_mapping u
   LEFT JOIN session_key k ON k.key = $3
   LEFT JOIN session s ON s.id = k.session_id AND s.user_id = u.id
  WHERE u.cognito_sub = $1`,
  { name: 'caller_state' },
);

/**
 * The guard's read on every authenticated request, one statement: the caller's `user_mapping` row,
 * whether the token's jti is revoked (revoked_tokens), whether an account change is in flight
 * (pending_changes; a pending sign-out does not hold back a token signed in after its cut-off, as
 * a password reset's new sign-in is), and the token's session (session_key, session).
 */
@Injectable()
export class CallerStateRepository {
  constructor(private readonly transactions: Transactions) {}

  async callerState(sub: string, jti: string | null, sessionKey: string | null, authTime: number | null): Promise<CallerState | null> {
    // On every authenticated request: straight on the pool, no QueryRunner, one prepared statement.
    const rows = await this.transactions.rows(CALLER_STATE, [sub, jti, sessionKey, authTime]);
    const row = rows[0];
    return row === undefined
      ? null
      : {
          user: toUserMapping(row),
          withdrawalRequested: row.withdrawal_requested_at !== null,
          jtiRevoked: row.jti_revoked,
          changePending: row.change_pending,
          session:
            row.session_id === null ? null : { id: row.session_id, ended: row.session_ended, seenLongAgo: row.session_seen_long_ago },
        };
  }
}
