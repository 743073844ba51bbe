import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An attached image is served from a key no presigned POST can target: attaching copies the
 * upload's object to `attachment_key` (`attachments/<userId>/<uploadId>`) and checks the copy, so
 * replaying the upload's policy later changes nothing a post shows. Both keys are known from the
 * row's creation, so the sweep deletes both for whatever it removes, a copy left by a crash
 * included. `upload_key_deleted_at`: when the sweep deleted an attached upload's original object
 * (once its policy can no longer be used). Rows attached before this migration keep serving their
 * upload key (it is their attachment key, with nothing else to delete).
 */
export class ServeAttachmentsFromTheirOwnKey1796606900000 implements MigrationInterface {
  name = 'ServeAttachmentsFromTheirOwnKey1796606900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE uploads ADD COLUMN attachment_key text`);
    await q.query(`ALTER TABLE uploads ADD COLUMN upload_key_deleted_at timestamptz`);
    await q.query(`UPDATE uploads SET attachment_key = 'attachments/' || owner_id || '/' || id WHERE state = 'pending'`);
    await q.query(`UPDATE uploads SET attachment_key = object_key, upload_key_deleted_at = now() WHERE state <> 'pending'`);
    await q.query(`ALTER TABLE uploads ALTER COLUMN attachment_key SET NOT NULL`);
    await q.query(`ALTER TABLE uploads ADD CONSTRAINT uq_uploads_attachment_key UNIQUE (attachment_key)`);
    // The sweep's second task: attached uploads whose original object is still to be deleted.
    await q.query(`CREATE INDEX ix_uploads_upload_key ON uploads (created_at) WHERE state = 'attached' AND upload_key_deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_uploads_upload_key`);
    await q.query(`ALTER TABLE uploads DROP COLUMN upload_key_deleted_at`);
    await q.query(`ALTER TABLE uploads DROP COLUMN attachment_key`);
  }
}
