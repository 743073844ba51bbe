import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Transactions } from '../database/transactions';
import type { UploadContentType } from './entities/upload.entity';

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

export interface UploadRow {
  id: string;
  owner_id: string;
  object_key: string;
  attachment_key: string;
  content_type: UploadContentType;
  /** bigint: the driver returns it as a string. */
  size: string;
}

export interface AttachmentRow {
  id: string;
  post_id: string;
  attachment_key: string;
  content_type: UploadContentType;
  size: string;
}

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
    await this.transactions.execute(
      `INSERT INTO uploads (id, owner_id, object_key, attachment_key, content_type, size) VALUES ($1, $2, $3, $4, $5, $6)`,
      [upload.id, upload.ownerId, upload.objectKey, upload.attachmentKey, upload.contentType, upload.size],
    );
  }

  /** The caller's uploads among `ids` that can still be attached (pending, not too old). */
  attachable(ownerId: string, ids: string[]): Promise<UploadRow[]> {
    return this.transactions
      .execute<UploadRow>(
        `SELECT id, owner_id, object_key, attachment_key, content_type, size FROM uploads
        WHERE id = ANY($1::uuid[]) AND owner_id = $2 AND state = 'pending'
          AND created_at > now() - interval '${ATTACH_WITHIN}'`,
        [ids, ownerId],
      )
      .then(({ rows }) => rows);
  }

  /**
   * Attaches the caller's pending uploads to a post, in the given order, in the caller's
   * transaction. Returns how many were attached: fewer than `ids` means one was taken meanwhile
   * (by another post, or the sweep), and the caller rolls back.
   */
  async attach(postId: string, ownerId: string, ids: string[], manager: EntityManager = this.transactions.manager): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, affected]: [unknown[], number] = await manager.query(
      `UPDATE uploads u
          SET state = 'attached', post_id = $1, position = o.position - 1, attached_at = clock_timestamp()
         FROM unnest($2::uuid[]) WITH ORDINALITY AS o(id, position)
        WHERE u.id = o.id AND u.owner_id = $3 AND u.state = 'pending'
          AND u.created_at > now() - interval '${ATTACH_WITHIN}'`,
      [postId, ids, ownerId],
    );
    return affected;
  }

  /** The attachments of these posts, in order: one statement for a whole page. */
  attachmentsOf(postIds: string[]): Promise<AttachmentRow[]> {
    return this.transactions
      .execute<AttachmentRow>(
        `SELECT id, post_id, attachment_key, content_type, size FROM uploads
        WHERE post_id = ANY($1::uuid[]) AND state = 'attached'
        ORDER BY post_id, position`,
        [postIds],
      )
      .then(({ rows }) => rows);
  }

  /** A deleted post's uploads are due for the sweep (in the transaction that deletes the post). */
  async orphanPost(postId: string, manager: EntityManager = this.transactions.manager): Promise<void> {
    await manager.query(`UPDATE uploads SET state = 'orphaned' WHERE post_id = $1 AND state = 'attached'`, [postId]);
  }

  /**
   * Locks up to `limit` uploads due for deletion (orphaned once their policy is spent, or pending
   * and expired) for the caller's transaction. SKIP LOCKED: sweepers on other instances take other
   * rows, so each object is deleted by exactly one of them.
   */
  lockDue(
    limit: number,
    manager: EntityManager = this.transactions.manager,
  ): Promise<Array<{ id: string; object_key: string; attachment_key: string }>> {
    return manager.query(
      `SELECT id, object_key, attachment_key FROM uploads
        WHERE (state = 'orphaned' AND created_at < now() - interval '${POLICY_SPENT_AFTER}')
           OR (state = 'pending' AND created_at < now() - interval '${SWEEP_PENDING_AFTER}')
        ORDER BY created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  /**
   * Locks up to `limit` attached uploads whose original object (the presigned POST's key) is still
   * to be deleted, once their policy is spent: the post serves the attachment's own copy.
   */
  lockUploadKeysDue(limit: number, manager: EntityManager = this.transactions.manager): Promise<Array<{ id: string; object_key: string }>> {
    return manager.query(
      `SELECT id, object_key FROM uploads
        WHERE state = 'attached' AND upload_key_deleted_at IS NULL AND created_at < now() - interval '${POLICY_SPENT_AFTER}'
        ORDER BY created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async markUploadKeysDeleted(ids: string[], manager: EntityManager = this.transactions.manager): Promise<void> {
    await manager.query(`UPDATE uploads SET upload_key_deleted_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
  }

  async deleteRows(ids: string[], manager: EntityManager = this.transactions.manager): Promise<void> {
    await manager.query(`DELETE FROM uploads WHERE id = ANY($1::uuid[])`, [ids]);
  }
}
