import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserMapping } from '../../identity/entities/user-mapping.entity';
import { Post } from './post.entity';

export const COMMENT_BODY_MAX = 2_000;

/**
 * A comment on a post (schema: migrations/1764000002000-CreatePostsAndComments.ts). A deleted
 * post's comments keep their rows and are hidden by the join on the live post.
 */
@Entity({ name: 'comments' })
@Check('ck_comments_body_length', `char_length(body) BETWEEN 1 AND 2000 AND btrim(body) <> ''`)
@Index('ix_comments_post_created', ['postId', 'createdAt', 'id'], { where: 'deleted_at IS NULL' })
@Index('ix_comments_author_created', ['authorId', 'createdAt', 'id'])
export class Comment {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'post_id', type: 'uuid' })
  postId: string;

  @ManyToOne(() => Post, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'fk_comments_post' })
  post?: Post;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @ManyToOne(() => UserMapping, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_comments_author' })
  author?: UserMapping;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
