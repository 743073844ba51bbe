import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import { Post } from '../../posts/entities/post.entity';
import { UserMapping } from '../../identity/entities/user-mapping.entity';

/** What a client may upload: images a browser and a phone both display. */
export const UPLOAD_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;
export type UploadContentType = (typeof UPLOAD_CONTENT_TYPES)[number];

export const UPLOAD_STATES = ['pending', 'attached', 'orphaned'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/** At most this many attachments on one post. */
export const MAX_ATTACHMENTS = 4;

/**
 * One presigned upload (schema: migrations/1764000010000-CreateUploads.ts). Read and written
 * with SQL in UploadsRepository; the entity documents the table for TypeORM's migration tooling.
 */
@Entity({ name: 'uploads' })
@Unique('uq_uploads_object_key', ['objectKey'])
@Unique('uq_uploads_attachment_key', ['attachmentKey'])
@Unique('uq_uploads_post_position', ['postId', 'position'])
@Check('ck_uploads_content_type', `content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')`)
@Check('ck_uploads_size', `size > 0`)
@Check('ck_uploads_state', `state IN ('pending', 'attached', 'orphaned')`)
@Check('ck_uploads_position', `position BETWEEN 0 AND 3`)
@Check('ck_uploads_post_state', `(state = 'pending') = (post_id IS NULL) AND (post_id IS NULL) = (position IS NULL)`)
@Index('ix_uploads_post', ['postId', 'position'], { where: `state = 'attached'` })
@Index('ix_uploads_sweep', ['createdAt'], { where: `state <> 'attached'` })
@Index('ix_uploads_owner', ['ownerId'])
@Index('ix_uploads_upload_key', ['createdAt'], { where: `state = 'attached' AND upload_key_deleted_at IS NULL` })
export class Upload {
  /** Chosen by the API before the row exists: it is part of the object key it signs. */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @ManyToOne(() => UserMapping, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'fk_uploads_owner' })
  owner?: UserMapping;

  /** Where the client uploads (the presigned POST's key). */
  @Column({ name: 'object_key', type: 'text' })
  objectKey: string;

  /**
   * Where the attachment is served from: a copy of the checked upload, made when a post attaches
   * it, under a key no presigned POST can target (schema: migrations/1796606900000-…).
   */
  @Column({ name: 'attachment_key', type: 'text' })
  attachmentKey: string;

  /** When the sweep deleted an attached upload's original object (its policy had expired). */
  @Column({ name: 'upload_key_deleted_at', type: 'timestamptz', nullable: true })
  uploadKeyDeletedAt: Date | null;

  @Column({ name: 'content_type', type: 'text' })
  contentType: UploadContentType;

  /** The declared size: the largest the presigned policy lets the client upload. */
  @Column({ type: 'bigint' })
  size: string;

  @Column({ type: 'text', default: 'pending' })
  state: UploadState;

  @Column({ name: 'post_id', type: 'uuid', nullable: true })
  postId: string | null;

  @ManyToOne(() => Post, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'fk_uploads_post' })
  post?: Post;

  /** Order among the post's attachments, as the client listed them. */
  @Column({ type: 'smallint', nullable: true })
  position: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column({ name: 'attached_at', type: 'timestamptz', nullable: true })
  attachedAt: Date | null;
}
