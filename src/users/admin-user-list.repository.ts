import { Injectable } from '@nestjs/common';
import { KeysetWindow, cursorTimestampSql } from '../common/pagination';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { UserMappingRow, UserStatus } from '../identity/entities/user-mapping.entity';

/** A row of the admin user list. */
export type AdminUserRow = Pick<UserMappingRow, 'id' | 'email' | 'nickname' | 'status' | 'created_at'> & { cursor_ts: string };

/** `%` and `_` in a search are literal characters, not wildcards. */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Each filter is off when its parameter is null, so the text is the same for every call. */
const ADMIN_USERS_PAGE = statement<
  AdminUserRow,
  [status: UserStatus | null, likePattern: string | null, afterCreatedAt: string | null, afterId: string | null, take: number]
>(
  `SELECT id, email, nickname, status, created_at, ${cursorTimestampSql('created_at')} AS cursor_ts
     FROM user_mapping
    WHERE ($1::varchar IS NULL OR status = $1)
      AND ($2::text IS NULL OR lower(email) LIKE $2 ESCAPE '\\' OR lower(nickname) LIKE $2 ESCAPE '\\')
      AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
    ORDER BY created_at DESC, id DESC
    LIMIT $5`,
);

/** The admin user list over `user_mapping` (GET /v1/admin/users). */
@Injectable()
export class AdminUserListRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Users newest first, one keyset window, filtered by status and by a search of email and nickname. */
  listForAdmin(filter: { status: UserStatus | null; search: string | null }, page: KeysetWindow): Promise<AdminUserRow[]> {
    return this.transactions.rows(ADMIN_USERS_PAGE, [
      filter.status,
      filter.search === null ? null : likePattern(filter.search),
      page.after?.createdAt ?? null,
      page.after?.id ?? null,
      page.take,
    ]);
  }
}
