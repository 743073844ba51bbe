import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploads: one row per presigned S3 POST handed out. `pending` until a post attaches it, then
 * `attached` (with its post and its place among the post's attachments), then `orphaned` when
 * the post is deleted. The sweep deletes the objects of orphaned rows and of pending rows older
 * than 24 h from S3, then the rows themselves. `size` is the declared (largest allowed) size.
 */
export class CreateUploads1764000010000 implements MigrationInterface {
  name = 'CreateUploads1764000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        object_key text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        post_id uuid,
        position smallint,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        attached_at timestamptz,
        CONSTRAINT fk_uploads_owner FOREIGN KEY (owner_id) REFERENCES user_mapping (id) ON DELETE RESTRICT,
        CONSTRAINT fk_uploads_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE RESTRICT,
        CONSTRAINT uq_uploads_object_key UNIQUE (object_key),
        CONSTRAINT uq_uploads_post_position UNIQUE (post_id, position),
        CONSTRAINT ck_uploads_content_type CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
        CONSTRAINT ck_uploads_size CHECK (size > 0),
        CONSTRAINT ck_uploads_state CHECK (state IN ('pending', 'attached', 'orphaned')),
        CONSTRAINT ck_uploads_position CHECK (position BETWEEN 0 AND 3),
        CONSTRAINT ck_uploads_post_state CHECK ((state = 'pending') = (post_id IS NULL) AND (post_id IS NULL) = (position IS NULL))
      )
    `);
    // A page of posts reads the attachments of its posts in one statement.
    await q.query(`CREATE INDEX ix_uploads_post ON uploads (post_id, position) WHERE state = 'attached'`);
    // The sweep: what is not attached, oldest first. Attached rows (nearly all of them) stay out.
    await q.query(`CREATE INDEX ix_uploads_sweep ON uploads (created_at) WHERE state <> 'attached'`);
    // The owner foreign key's own lookups.
    await q.query(`CREATE INDEX ix_uploads_owner ON uploads (owner_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE uploads`);
  }
}
