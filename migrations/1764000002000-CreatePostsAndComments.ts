import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Posts and comments. Authors reference `user_mapping`, whose rows are never deleted
 * (withdrawal only scrubs them), so the foreign keys restrict. Soft delete: `deleted_at`.
 * `created_at` defaults to clock_timestamp() so rows inserted in one transaction still order.
 * Lengths are code points (char_length), the same count the API validates after trimming.
 */
export class CreatePostsAndComments1764000002000 implements MigrationInterface {
  name = 'CreatePostsAndComments1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE posts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        author_id uuid NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        comment_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        deleted_at timestamptz,
        CONSTRAINT fk_posts_author FOREIGN KEY (author_id) REFERENCES user_mapping (id) ON DELETE RESTRICT,
        CONSTRAINT ck_posts_title_length CHECK (char_length(title) BETWEEN 1 AND 200 AND btrim(title) <> ''),
        CONSTRAINT ck_posts_body_length CHECK (char_length(body) BETWEEN 1 AND 20000 AND btrim(body) <> ''),
        CONSTRAINT ck_posts_comment_count CHECK (comment_count >= 0)
      )
    `);
    // GET /v1/posts: newest first, keyset on (created_at, id), live rows only.
    await q.query(`CREATE INDEX ix_posts_created ON posts (created_at DESC, id DESC) WHERE deleted_at IS NULL`);
    // GET /v1/posts?authorId=: the same order within one author.
    await q.query(`CREATE INDEX ix_posts_author_created ON posts (author_id, created_at DESC, id DESC) WHERE deleted_at IS NULL`);

    await q.query(`
      CREATE TABLE comments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        post_id uuid NOT NULL,
        author_id uuid NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        deleted_at timestamptz,
        CONSTRAINT fk_comments_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE RESTRICT,
        CONSTRAINT fk_comments_author FOREIGN KEY (author_id) REFERENCES user_mapping (id) ON DELETE RESTRICT,
        CONSTRAINT ck_comments_body_length CHECK (char_length(body) BETWEEN 1 AND 2000 AND btrim(body) <> '')
      )
    `);
    // GET /v1/posts/:id/comments: oldest first within a post, keyset on (created_at, id).
    await q.query(`CREATE INDEX ix_comments_post_created ON comments (post_id, created_at, id) WHERE deleted_at IS NULL`);
    // A user's comments (moderation, and the foreign key's own lookups).
    await q.query(`CREATE INDEX ix_comments_author_created ON comments (author_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE comments`);
    await q.query(`DROP TABLE posts`);
  }
}
