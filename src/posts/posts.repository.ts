import { Injectable } from '@nestjs/common';
import { cursorTimestampSql, KeysetWindow } from '../common/pagination';
import { dynamic, RowOf, statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import type { UserMappingRow } from '../identity/entities/user-mapping.entity';
import { IDEMPOTENCY_KEY_TTL, KEY_LOCK_ID, StoredRow } from '../idempotency/idempotency.repository';
import type { PendingKey } from '../idempotency/pending-key';
import type { Post } from './entities/post.entity';

/** The author columns every post and comment query joins from `user_mapping` (`u`). */
export interface AuthorColumns {
  author_id: UserMappingRow['id'];
  author_nickname: UserMappingRow['nickname'];
  author_status: UserMappingRow['status'];
}

/** A live post with its author, as every post query returns it (POST_COLUMNS). */
export type PostRow = Pick<RowOf<Post>, 'id' | 'title' | 'body' | 'comment_count' | 'created_at' | 'updated_at'> & AuthorColumns;

export type PostListRow = PostRow & { cursor_ts: string };

/** What the keyed create found: its key free (the post created), in flight, answered, or expired. */
export type KeyedInsertRow = {
  locked: boolean;
  live: boolean | null;
  /** The created post's answer, as PostResponse.from writes it (JSON built in SQL). */
  created: object | null;
} & Partial<StoredRow>;

/** Prepared: the proxy of test/resilience/idempotent-retries.e2e-spec.ts also knows it by this name. */
export const KEYED_INSERT_STATEMENT = 'posts_insert_keyed';

/** An ISO-8601 UTC timestamp with milliseconds, as Date.toISOString() writes it (both truncate the µs). */
const isoSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The select list over `p` (posts) and `u` (its author's user_mapping row). */
const POST_COLUMNS = `p.id, p.title, p.body, p.comment_count, p.created_at, p.updated_at,
       u.id AS author_id, u.nickname AS author_nickname, u.status AS author_status`;

/** Its WHERE holds only the filters given (an author, a keyset position): built per call. */
const POSTS_PAGE = dynamic<PostListRow>();
const LIVE = statement<PostRow, [id: string]>(
  `SELECT ${POST_COLUMNS}
     FROM posts p
     JOIN user_mapping u ON u.id = p.author_id
    WHERE p.id = $1 AND p.deleted_at IS NULL`,
);
const INSERT = statement<PostRow, [authorId: string, title: string, body: string]>(
  `WITH p AS (
     INSERT INTO posts (author_id, title, body) VALUES ($1, $2, $3) RETURNING *
   )
   SELECT ${POST_COLUMNS} FROM p JOIN user_mapping u ON u.id = p.author_id`,
);
const INSERT_KEYED = statement<KeyedInsertRow, [userId: string, key: string, requestHash: Buffer, title: string, body: string]>(
  `WITH claim AS MATERIALIZED (
     SELECT pg_try_advisory_xact_lock(${KEY_LOCK_ID}) AS locked
   ), held AS MATERIALIZED (
     SELECT k.request_hash, k.status_code, k.response_body, k.response_headers,
            k.created_at > now() - interval '${IDEMPOTENCY_KEY_TTL}' AS live
       FROM claim JOIN idempotency_keys k ON claim.locked AND k.user_id = $1::uuid AND k.key = $2::text
   ), p AS (
     INSERT INTO posts (author_id, title, body)
     SELECT $1::uuid, $4::text, $5::text FROM claim WHERE claim.locked AND NOT EXISTS (SELECT 1 FROM held)
     RETURNING *
   ), answer AS MATERIALIZED (
     SELECT json_build_object(
              'id', p.id, 'title', p.title, 'body', p.body,
              'author', json_build_object('id', u.id, 'nickname', u.nickname, 'status', u.status),
              'commentCount', p.comment_count, 'attachments', '[]'::json,
              'createdAt', ${isoSql('p.created_at')}, 'updatedAt', ${isoSql('p.updated_at')}) AS body,
            jsonb_build_object('location', '/v1/posts/' || p.id) AS headers
       FROM p JOIN user_mapping u ON u.id = p.author_id
   ), stored AS (
     INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body, response_headers)
     SELECT $1::uuid, $2::text, $3::bytea, 201, answer.body, answer.headers FROM answer
   )
   SELECT claim.locked, held.live, held.request_hash, held.status_code, held.response_body, held.response_headers,
          answer.body AS created
     FROM claim LEFT JOIN held ON true LEFT JOIN answer ON true`,
  { name: KEYED_INSERT_STATEMENT },
);
const UPDATE_OWN = statement<PostRow, [id: string, authorId: string, title: string | null, body: string | null]>(
  `WITH p AS (
     UPDATE posts
        SET title = COALESCE($3, title), body = COALESCE($4, body), updated_at = clock_timestamp()
      WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL
      RETURNING *
   )
   SELECT ${POST_COLUMNS} FROM p JOIN user_mapping u ON u.id = p.author_id`,
);
const SOFT_DELETE = statement<never, [id: string, callerId: string, anyAuthor: boolean]>(
  `UPDATE posts SET deleted_at = clock_timestamp()
    WHERE id = $1 AND deleted_at IS NULL AND ($3 OR author_id = $2)`,
);
const LIVE_AUTHOR = statement<Pick<RowOf<Post>, 'author_id'>, [id: string]>(
  `SELECT author_id FROM posts WHERE id = $1 AND deleted_at IS NULL`,
);

/**
 * The queries over `posts` (queries live next to the entity they read). Each read
 * joins the author in the same statement; each write enforces ownership in its WHERE clause.
 */
@Injectable()
export class PostsRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Live posts, newest first, one keyset window (on (created_at, id), served by ix_posts_*). */
  list(page: KeysetWindow, authorId: string | null): Promise<PostListRow[]> {
    const params: unknown[] = [];
    const where = ['p.deleted_at IS NULL'];
    if (authorId !== null) {
      params.push(authorId);
      where.push(`p.author_id = $${params.length}::uuid`);
    }
    if (page.after !== null) {
      params.push(page.after.createdAt, page.after.id);
      where.push(`(p.created_at, p.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(page.take);
    const sql = `SELECT ${POST_COLUMNS}, ${cursorTimestampSql('p.created_at')} AS cursor_ts
         FROM posts p
         JOIN user_mapping u ON u.id = p.author_id
        WHERE ${where.join(' AND ')}
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $${params.length}`;
    return this.transactions.rows(POSTS_PAGE(sql), params);
  }

  async findLive(id: string): Promise<PostRow | null> {
    const [row] = await this.transactions.rows(LIVE, [id]);
    return row ?? null;
  }

  /** In the request's transaction when there is one (an idempotency key commits with the post). */
  async insert(authorId: string, title: string, body: string): Promise<PostRow> {
    const [row] = await this.transactions.rows(INSERT, [authorId, title, body]);
    return row;
  }

  /**
   * A keyed create without attachments in ONE statement (docs/retries.md): take the key's lock
   * without waiting, read the key's row, and only when the lock was free and the key unused,
   * insert the post and store its answer (built here as PostResponse builds it) under the key.
   * It commits or fails as a whole, so a commit whose answer is lost is found by the retry. A
   * key answered meanwhile by another request fails it on the key's primary key (23505).
   */
  async insertOnce(pending: PendingKey, title: string, body: string): Promise<KeyedInsertRow> {
    const [row] = await this.transactions.rows(INSERT_KEYED, [pending.userId, pending.key, pending.requestHash, title, body]);
    return row;
  }

  /** Updates the caller's own live post; null when there is none (missing, deleted or not theirs). */
  async updateOwn(id: string, authorId: string, fields: { title?: string; body?: string }): Promise<PostRow | null> {
    const [row] = await this.transactions.rows(UPDATE_OWN, [id, authorId, fields.title ?? null, fields.body ?? null]);
    return row ?? null;
  }

  /**
   * Soft-deletes a live post if the caller wrote it, or of anyone's when `anyAuthor` (moderation).
   * Its comments are left as they are: every comment read joins the live post.
   */
  async softDelete(id: string, callerId: string, anyAuthor: boolean): Promise<boolean> {
    return (await this.transactions.execute(SOFT_DELETE, [id, callerId, anyAuthor])).rowCount > 0;
  }

  /** After a write matched nothing: whose live post this is (403), or null when there is none (404). */
  async liveAuthorOf(id: string): Promise<string | null> {
    const [row] = await this.transactions.rows(LIVE_AUTHOR, [id]);
    return row?.author_id ?? null;
  }
}
