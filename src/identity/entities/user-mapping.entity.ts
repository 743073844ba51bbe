import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { RowOf } from '../../database/statement';

export const USER_STATUSES = ['active', 'disabled', 'withdrawn'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * One row per Cognito user: the internal id everything else references. Cognito owns identity;
 * this row owns what the API needs to know without asking Cognito (status, revocation).
 */
@Entity({ name: 'user_mapping' })
export class UserMapping {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'cognito_sub', type: 'varchar', length: 64, unique: true })
  cognitoSub: string;

  /** Cognito's `username` (what admin API calls take); for email-as-username pools a UUID. */
  @Column({ name: 'cognito_username', type: 'varchar', length: 128 })
  cognitoUsername: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column({ name: 'phone_number', type: 'varchar', length: 32, nullable: true })
  phoneNumber: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  nickname: string | null;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: UserStatus;

  /** Tokens issued (iat) before this instant are refused: logout-all, group change, disable. */
  @Column({ name: 'tokens_valid_after', type: 'timestamptz', nullable: true })
  tokensValidAfter: Date | null;

  /** Set before Cognito is asked to delete the user, so a crash in between still converges. */
  @Column({ name: 'withdrawal_requested_at', type: 'timestamptz', nullable: true })
  withdrawalRequestedAt: Date | null;

  @Column({ name: 'withdrawn_at', type: 'timestamptz', nullable: true })
  withdrawnAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** A `user_mapping` row as a raw query returns it, selected with `userMappingColumns()`. */
export type UserMappingRow = RowOf<UserMapping>;

/**
 * Every column of UserMappingRow, by name: a read selects these, not `*` (the table has columns
 * only the withdrawal's statements read), so what it returns is exactly UserMappingRow. A
 * property added to the entity fails the build here until it is listed.
 */
const USER_MAPPING_COLUMNS: Record<keyof UserMappingRow, true> = {
  id: true,
  cognito_sub: true,
  cognito_username: true,
  email: true,
  phone_number: true,
  nickname: true,
  status: true,
  tokens_valid_after: true,
  withdrawal_requested_at: true,
  withdrawn_at: true,
  created_at: true,
  updated_at: true,
};

/** The select list of a UserMappingRow, each column qualified by `alias` when given (`u.id, u.cognito_sub, ...`). */
export function userMappingColumns(alias?: string): string {
  return Object.keys(USER_MAPPING_COLUMNS)
    .map((column) => (alias === undefined ? column : `${alias}.${column}`))
    .join(', ');
}

export function toUserMapping(row: UserMappingRow): UserMapping {
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
