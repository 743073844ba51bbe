import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserMapping } from '../../identity/entities/user-mapping.entity';

export const TITLE_MAX = 200;
export const POST_BODY_MAX = 20_000;

/**
 * A post (schema: migrations/1764000002000-CreatePostsAndComments.ts). Read and written with
 * SQL in PostsRepository; the entity documents the table for TypeORM's migration tooling.
 */
@Entity({ name: 'posts' })
@Check('ck_posts_title_length', `char_length(title) BETWEEN 1 AND 200 AND btrim(title) <> ''`)
@Check('ck_posts_body_length', `char_length(body) BETWEEN 1 AND 20000 AND btrim(body) <> ''`)
@Check('ck_posts_comment_count', `comment_count >= 0`)
@Index('ix_posts_created', ['createdAt', 'id'], { where: 'deleted_at IS NULL' })
@Index('ix_posts_author_created', ['authorId', 'createdAt', 'id'], { where: 'deleted_at IS NULL' })
export class Post {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @ManyToOne(() => UserMapping, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_posts_author' })
  author?: UserMapping;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  body: string;

  /** Live comments, kept in the statement that inserts or soft-deletes a comment. */
  @Column({ name: 'comment_count', type: 'integer', default: 0 })
  commentCount: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
