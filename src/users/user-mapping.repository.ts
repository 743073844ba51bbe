import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { UserMapping, UserStatus } from './entities/user-mapping.entity';

/** What the guard needs to decide about a caller, in one round trip: the row and its revocations. */
export interface CallerState {
  account: UserMapping;
  withdrawalRequested: boolean;
  jtiRevoked: boolean;
}

interface UserMappingRow {
  id: string;
  cognito_sub: string;
  cognito_username: string;
  email: string | null;
  phone_number: string | null;
  nickname: string | null;
  status: UserStatus;
  tokens_valid_after: Date | null;
  withdrawal_requested_at: Date | null;
  withdrawn_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toUserMapping(row: UserMappingRow): UserMapping {
  return Object.assign(new UserMapping(), {
    id: row.id,
    cognitoSub: row.cognito_sub,
    cognitoUsername: row.cognito_username,
    email: row.email,
    phoneNumber: row.phone_number,
    nickname: row.nickname,
    status: row.status,
    tokensValidAfter: row.tokens_valid_after,
    withdrawalRequestedAt: row.withdrawal_requested_at,
    withdrawnAt: row.withdrawn_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export interface ProfileFields {
  email?: string | null;
  phoneNumber?: string | null;
  nickname?: string | null;
}

/** The queries over `user_mapping` (queries live next to the entity they read). */
@Injectable()
export class UserMappingRepository {
  constructor(private readonly dataSource: DataSource) {}

  async callerState(sub: string, jti: string | null): Promise<CallerState | null> {
    const rows: Array<UserMappingRow & { jti_revoked: boolean }> = await this.dataSource.query(
      `SELECT u.*, ($2::varchar IS NOT NULL AND EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = $2)) AS jti_revoked
         FROM user_mapping u
        WHERE u.cognito_sub = $1`,
      [sub, jti],
    );
    const row = rows[0];
    return row === undefined
      ? null
      : { account: toUserMapping(row), withdrawalRequested: row.withdrawal_requested_at !== null, jtiRevoked: row.jti_revoked };
  }

  /**
   * Creates the row for a Cognito user unless it exists; concurrent callers get the same row.
   * Returns whether this call inserted it.
   */
  async ensure(sub: string, username: string, fields: ProfileFields = {}): Promise<{ user: UserMapping; created: boolean }> {
    const inserted: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO user_mapping (cognito_sub, cognito_username, email, phone_number, nickname)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (cognito_sub) DO NOTHING
       RETURNING id`,
      [sub, username, fields.email ?? null, fields.phoneNumber ?? null, fields.nickname ?? null],
    );
    const user = await this.dataSource.getRepository(UserMapping).findOneByOrFail({ cognitoSub: sub });
    return { user, created: inserted.length > 0 };
  }

  findById(id: string): Promise<UserMapping | null> {
    return this.dataSource.getRepository(UserMapping).findOneBy({ id });
  }

  /** Mirrors Cognito attributes into the row; a withdrawn row is never written back to. */
  async updateProfile(id: string, fields: ProfileFields, manager: EntityManager = this.dataSource.manager): Promise<UserMapping | null> {
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

  /** Refuses every token issued before now (logout-all, group change, disable). */
  async revokeTokensIssuedBeforeNow(id: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`UPDATE user_mapping SET tokens_valid_after = now(), updated_at = now() WHERE id = $1`, [id]);
  }

  /** Refuses one access token until it would have expired anyway (logout). */
  async revokeToken(userId: string, jti: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(`INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING`, [
      jti,
      userId,
      expiresAt,
    ]);
  }

  async purgeExpiredRevocations(): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM revoked_tokens WHERE expires_at < now()`);
    return result[1];
  }
}
