import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';

const REVOKE = statement<never, [jti: string, userId: string, expiresAt: Date]>(
  `INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING`,
);
const PURGE_EXPIRED = statement<never, [skewSeconds: number]>(
  `DELETE FROM revoked_tokens WHERE expires_at + $1 * interval '1 second' < now()`,
);

/**
 * The queries over `revoked_tokens`: access tokens refused before they expire (logout). The
 * guard's read of this table is part of its one round trip (CallerStateRepository).
 */
@Injectable()
export class RevokedTokensRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Refuses one access token until it would have expired anyway. */
  async revoke(userId: string, jti: string, expiresAt: Date): Promise<void> {
    await this.transactions.execute(REVOKE, [jti, userId, expiresAt]);
  }

  /**
   * Deletes revocations of tokens that no check could accept any more: the guard accepts a token
   * until `exp + skewSeconds`, so the row stays until then.
   */
  async purgeExpired(skewSeconds: number): Promise<number> {
    return (await this.transactions.execute(PURGE_EXPIRED, [skewSeconds])).rowCount;
  }
}
