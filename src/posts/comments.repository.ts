import { Injectable } from '@nestjs/common';
import { cursorTimestampSql, KeysetWindow } from '../common/pagination';
import { RowOf, statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import type { Comment } from './entities/comment.entity';
import type { AuthorColumns } from './posts.repository';

/** A live comment with its author, as every comment query returns it (COMMENT_COLUMNS). */
export type CommentRow = Pick<RowOf<Comment>, 'id' | 'post_id' | 'body' | 'created_at' | 'updated_at'> & AuthorColumns;

export type CommentListRow = CommentRow & { cursor_ts: string };

/** The select list over `c` (comments) and `u` (its author's user_mapping row). */
const COMMENT_COLUMNS = `c.id, c.post_id, c.body, c.created_at, c.updated_at,
       u.id AS author_id, u.nickname AS author_nickname, u.status AS author_status`;

/** A live post's page of comments; no row at all when the post is not live, one row of nulls when it has no comments. */
const pageSql = (keyset: string): string => `SELECT page.*
     FROM posts p
     LEFT JOIN (
       SELECT ${COMMENT_COLUMNS}, ${cursorTimestampSql('c.created_at')} AS cursor_ts
         FROM comments c
         JOIN user_mapping u ON u.id = c.author_id
        WHERE c.post_id = $1 AND c.deleted_at IS NULL ${keyset}
        ORDER BY c.created_at, c.id
        LIMIT $2
     ) page ON true
    WHERE p.id = $1 AND p.deleted_at IS NULL
    ORDER BY page.created_at, page.id`;
type PageRow = CommentListRow | { id: null };
const FIRST_PAGE = statement<PageRow, [postId: string, take: number]>(pageSql(''));
const PAGE_AFTER = statement<PageRow, [postId: string, take: number, afterCreatedAt: string, afterId: string]>(
  pageSql('AND (c.created_at, c.id) > ($3::timestamptz, $4::uuid)'),
);
const INSERT = statement<CommentRow, [postId: string, authorId: string, body: string]>(
  `WITH post AS (
     UPDATE posts SET comment_count = comment_count + 1
      WHERE id = $1 AND deleted_at IS NULL
      RETURNING id
   ), c AS (
     INSERT INTO comments (post_id, author_id, body) SELECT id, $2, $3 FROM post RETURNING *
   )
   SELECT ${COMMENT_COLUMNS} FROM c JOIN user_mapping u ON u.id = c.author_id`,
);
const UPDATE_OWN = statement<CommentRow, [postId: string, commentId: string, authorId: string, body: string]>(
  `WITH c AS (
     UPDATE comments c SET body = $4, updated_at = clock_timestamp()
       FROM posts p
      WHERE c.id = $2 AND c.post_id = $1 AND c.author_id = $3 AND c.deleted_at IS NULL
        AND p.id = c.post_id AND p.deleted_at IS NULL
      RETURNING c.*
   )
   SELECT ${COMMENT_COLUMNS} FROM c JOIN user_mapping u ON u.id = c.author_id`,
);
const SOFT_DELETE = statement<never, [postId: string, commentId: string, callerId: string, anyAuthor: boolean]>(
  `WITH c AS (
     UPDATE comments c SET deleted_at = clock_timestamp()
       FROM posts p
      WHERE c.id = $2 AND c.post_id = $1 AND c.deleted_at IS NULL
        AND p.id = c.post_id AND p.deleted_at IS NULL
        AND ($4 OR c.author_id = $3)
      RETURNING c.post_id
   )
   UPDATE posts SET comment_count = comment_count - 1
    WHERE id IN (SELECT post_id FROM c)`,
);
const LIVE_AUTHOR = statement<Pick<RowOf<Comment>, 'author_id'>, [postId: string, commentId: string]>(
  `SELECT c.author_id
     FROM comments c
     JOIN posts p ON p.id = c.post_id AND p.deleted_at IS NULL
    WHERE c.id = $2 AND c.post_id = $1 AND c.deleted_at IS NULL`,
);

/**
 * The queries over `comments`. A comment is live when it and its post are not deleted: the post's
 * soft delete hides its comments through the join, without touching them.
 * `posts.comment_count` changes in the same statement as the comment insert or soft delete.
 */
@Injectable()
export class CommentsRepository {
  constructor(private readonly transactions: Transactions) {}

  /**
   * A live post's comments, oldest first, one keyset window; null when the post is missing or
   * deleted. One statement answers both: the post row is left-joined to its page of comments.
   */
  async listForPost(postId: string, page: KeysetWindow): Promise<CommentListRow[] | null> {
    const rows =
      page.after === null
        ? await this.transactions.rows(FIRST_PAGE, [postId, page.take])
        : await this.transactions.rows(PAGE_AFTER, [postId, page.take, page.after.createdAt, page.after.id]);
    if (rows.length === 0) {
      return null;
    }
    return rows.filter((row): row is CommentListRow => row.id !== null);
  }

  /**
   * Adds a comment to a live post and counts it, in one statement (one transaction). The post row
   * is locked by the counter update, so a concurrent post deletion either precedes it (null: 404)
   * or follows it. In the request's transaction when there is one (an idempotency key commits
   * with the comment).
   */
  async insert(postId: string, authorId: string, body: string): Promise<CommentRow | null> {
    const [row] = await this.transactions.rows(INSERT, [postId, authorId, body]);
    return row ?? null;
  }

  /** Edits the caller's own live comment of a live post; null when there is none. */
  async updateOwn(postId: string, commentId: string, authorId: string, body: string): Promise<CommentRow | null> {
    const [row] = await this.transactions.rows(UPDATE_OWN, [postId, commentId, authorId, body]);
    return row ?? null;
  }

  /**
   * Soft-deletes a live comment of a live post (the caller's own, or anyone's when `anyAuthor`)
   * and uncounts it, in one statement. The comment row lock makes a second concurrent delete
   * match nothing, so the counter is decremented once.
   */
  async softDelete(postId: string, commentId: string, callerId: string, anyAuthor: boolean): Promise<boolean> {
    return (await this.transactions.execute(SOFT_DELETE, [postId, commentId, callerId, anyAuthor])).rowCount > 0;
  }

  /** After a write matched nothing: whose live comment this is (403), or null when there is none (404). */
  async liveAuthorOf(postId: string, commentId: string): Promise<string | null> {
    const [row] = await this.transactions.rows(LIVE_AUTHOR, [postId, commentId]);
    return row?.author_id ?? null;
  }
}
