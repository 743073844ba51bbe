import { Injectable } from '@nestjs/common';
import { RowOf, statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import type { Upload, UploadContentType } from './entities/upload.entity';

/** A pending upload may be attached for this long after it was handed out. */
export const ATTACH_WITHIN = '24 hours';
/**
 * The sweep leaves pending uploads alone for a while longer than they can be attached, so that a
 * post being created at the 24 h mark never races the sweep for the same row.
 */
const SWEEP_PENDING_AFTER = '24 hours 10 minutes';
/**
 * An upload's presigned POST can be used until 5 minutes after the row was written (it was signed
 * just before): its key is deleted only once that is over, with a margin for clocks, so that no
 * replay of the policy can put an object back under a key nothing tracks any more.
 */
const POLICY_SPENT_AFTER = '10 minutes';

/** An upload as the attach path reads it (size: a bigint, which the driver returns as a string). */
export type UploadRow = Pick<RowOf<Upload>, 'id' | 'owner_id' | 'object_key' | 'attachment_key' | 'content_type' | 'size'>;

/** An attached upload, as a post's read signs it. */
export type AttachmentRow = Pick<RowOf<Upload>, 'id' | 'attachment_key' | 'content_type' | 'size'> & { post_id: string };

const INSERT = statement<
  never,
  [id: string, ownerId: string, objectKey: string, attachmentKey: string, contentType: UploadContentType, size: number]
>(`INSERT INTO uploads (id, owner_id, object_key, attachment_key, content_type, size) VALUES ($1, $2, $3, $4, $5, $6)`);
const ATTACHABLE = statement<UploadRow, [ids: string[], ownerId: string]>(
  `SELECT id, owner_id, object_key, attachment_key, content_type, size FROM uploads
    WHERE id = ANY($1::uuid[]) AND owner_id = $2 AND state = 'pending'
      AND created_at > now() - interval '${ATTACH_WITHIN}'`,
);
const ATTACH = statement<never, [postId: string, ids: string[], ownerId: string]>(
  `UPDATE uploads u
      SET state = 'attached', post_id = $1, position = o.position - 1, attached_at = clock_timestamp()
     FROM unnest($2::uuid[]) WITH ORDINALITY AS o(id, position)
    WHERE u.id = o.id AND u.owner_id = $3 AND u.state = 'pending'
      AND u.created_at > now() - interval '${ATTACH_WITHIN}'`,
);
const ATTACHMENTS_OF = statement<AttachmentRow, [postIds: string[]]>(
  `SELECT id, post_id, attachment_key, content_type, size FROM uploads
    WHERE post_id = ANY($1::uuid[]) AND state = 'attached'
    ORDER BY post_id, position`,
);
const ORPHAN_POST = statement<never, [postId: string]>(`UPDATE uploads SET state = 'orphaned' WHERE post_id = $1 AND state = 'attached'`);
const LOCK_DUE = statement<Pick<RowOf<Upload>, 'id' | 'object_key' | 'attachment_key'>, [limit: number]>(
  `SELECT id, object_key, attachment_key FROM uploads
    WHERE (state = 'orphaned' AND created_at < now() - interval '${POLICY_SPENT_AFTER}')
       OR (state = 'pending' AND created_at < now() - interval '${SWEEP_PENDING_AFTER}')
    ORDER BY created_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED`,
);
const LOCK_UPLOAD_KEYS_DUE = statement<Pick<RowOf<Upload>, 'id' | 'object_key'>, [limit: number]>(
  `SELECT id, object_key FROM uploads
    WHERE state = 'attached' AND upload_key_deleted_at IS NULL AND created_at < now() - interval '${POLICY_SPENT_AFTER}'
    ORDER BY created_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED`,
);
const MARK_UPLOAD_KEYS_DELETED = statement<never, [ids: string[]]>(
  `UPDATE uploads SET upload_key_deleted_at = now() WHERE id = ANY($1::uuid[])`,
);
const DELETE_ROWS = statement<never, [ids: string[]]>(`DELETE FROM uploads WHERE id = ANY($1::uuid[])`);

/**
 * The queries over `uploads` (each table has one owner). What a request does runs in its transaction when it has one
 * (`Transactions`): an Idempotency-Key commits with the upload, and a keyed request never waits for a second
 * pooled connection while it holds one.
 */
@Injectable()
export class UploadsRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Both keys are recorded before either exists in S3, so the sweep always knows what to delete. */
  async insert(upload: {
    id: string;
    ownerId: string;
    objectKey: string;
    attachmentKey: string;
    contentType: UploadContentType;
    size: number;
  }): Promise<void> {
    await this.transactions.execute(INSERT, [
      upload.id,
      upload.ownerId,
      upload.objectKey,
      upload.attachmentKey,
      upload.contentType,
      upload.size,
    ]);
  }

  /** The caller's uploads among `ids` that can still be attached (pending, not too old). */
  attachable(ownerId: string, ids: string[]): Promise<UploadRow[]> {
    return this.transactions.rows(ATTACHABLE, [ids, ownerId]);
  }

  /**
   * Attaches the caller's pending uploads to a post, in the given order, in the caller's
   * transaction. Returns how many were attached: fewer than `ids` means one was taken meanwhile
   * (by another post, or the sweep), and the caller rolls back.
   */
  async attach(postId: string, ownerId: string, ids: string[]): Promise<number> {
    return (await this.transactions.execute(ATTACH, [postId, ids, ownerId])).rowCount;
  }

  /** The attachments of these posts, in order: one statement for a whole page. */
  attachmentsOf(postIds: string[]): Promise<AttachmentRow[]> {
    return this.transactions.rows(ATTACHMENTS_OF, [postIds]);
  }

  /** A deleted post's uploads are due for the sweep (in the transaction that deletes the post). */
  async orphanPost(postId: string): Promise<void> {
    await this.transactions.execute(ORPHAN_POST, [postId]);
  }

  /**
   * Locks up to `limit` uploads due for deletion (orphaned once their policy is spent, or pending
   * and expired) for the caller's transaction. SKIP LOCKED: sweepers on other instances take other
   * rows, so each object is deleted by exactly one of them.
   */
  lockDue(limit: number): Promise<Array<Pick<RowOf<Upload>, 'id' | 'object_key' | 'attachment_key'>>> {
    return this.transactions.rows(LOCK_DUE, [limit]);
  }

  /**
   * Locks up to `limit` attached uploads whose original object (the presigned POST's key) is still
   * to be deleted, once their policy is spent: the post serves the attachment's own copy.
   */
  lockUploadKeysDue(limit: number): Promise<Array<Pick<RowOf<Upload>, 'id' | 'object_key'>>> {
    return this.transactions.rows(LOCK_UPLOAD_KEYS_DUE, [limit]);
  }

  async markUploadKeysDeleted(ids: string[]): Promise<void> {
    await this.transactions.execute(MARK_UPLOAD_KEYS_DELETED, [ids]);
  }

  async deleteRows(ids: string[]): Promise<void> {
    await this.transactions.execute(DELETE_ROWS, [ids]);
  }
}
