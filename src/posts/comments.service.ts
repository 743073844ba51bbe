import { Injectable } from '@nestjs/common';
import { AuthUser, canModerate } from '../identity/auth-user';
import { ApiError } from '../common/api-error';
import { pageRequest, toPage } from '../common/pagination';
import type { ListQuery } from '../common/page-query';
import { CommentsRepository } from './comments.repository';
import { CommentPageResponse, CommentResponse } from './dto/comment.response';

/** Cursor kind of GET /v1/posts/:id/comments: a cursor of another list is refused. */
export const COMMENTS_CURSOR = 'comments';

@Injectable()
export class CommentsService {
  constructor(private readonly comments: CommentsRepository) {}

  async list(postId: string, query: ListQuery): Promise<CommentPageResponse> {
    const page = pageRequest(COMMENTS_CURSOR, query);
    const rows = await this.comments.listForPost(postId, page);
    if (rows === null) {
      throw ApiError.notFound('No such post');
    }
    return toPage(page, rows, CommentResponse.from);
  }

  async create(caller: AuthUser, postId: string, body: string): Promise<CommentResponse> {
    const row = await this.comments.insert(postId, caller.id, body);
    if (row === null) {
      throw ApiError.notFound('No such post');
    }
    return CommentResponse.from(row);
  }

  /** Only the author edits a comment; moderators and admins may delete it but not rewrite it. */
  async update(caller: AuthUser, postId: string, commentId: string, body: string): Promise<CommentResponse> {
    const row = await this.comments.updateOwn(postId, commentId, caller.id, body);
    if (row === null) {
      throw await this.refusal(postId, commentId);
    }
    return CommentResponse.from(row);
  }

  async remove(caller: AuthUser, postId: string, commentId: string): Promise<void> {
    if (!(await this.comments.softDelete(postId, commentId, caller.id, canModerate(caller)))) {
      throw await this.refusal(postId, commentId);
    }
  }

  /** Why a write matched no row: 404 when the post has no such live comment, else 403 (someone else's). */
  private async refusal(postId: string, commentId: string): Promise<ApiError> {
    return (await this.comments.liveAuthorOf(postId, commentId)) === null
      ? ApiError.notFound('No such comment on this post')
      : ApiError.forbidden('Only the author may do this to the comment');
  }
}
