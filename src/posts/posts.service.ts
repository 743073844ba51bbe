import { Injectable } from '@nestjs/common';
import { AuthUser, canModerate } from '../auth/auth-user';
import { ApiError } from '../common/api-error';
import { decodeCursor, DEFAULT_PAGE_SIZE, toPage } from '../common/pagination';
import { PostPageResponse, PostResponse } from './dto/post.response';
import { CreatePostDto, ListPostsQueryDto, UpdatePostDto } from './dto/posts.dto';
import { PostsRepository } from './posts.repository';

/** Cursor kind of GET /v1/posts: a cursor of another list is refused. */
export const POSTS_CURSOR = 'posts';

@Injectable()
export class PostsService {
  constructor(private readonly posts: PostsRepository) {}

  async list(query: ListPostsQueryDto): Promise<PostPageResponse> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor === undefined ? null : decodeCursor(POSTS_CURSOR, query.cursor);
    // One row more than the page: it only says whether a next page exists.
    const rows = await this.posts.list({ limit: limit + 1, after, authorId: query.authorId ?? null });
    return toPage(POSTS_CURSOR, rows, limit, PostResponse.from);
  }

  async get(id: string): Promise<PostResponse> {
    const row = await this.posts.findLive(id);
    if (row === null) {
      throw ApiError.notFound('No such post');
    }
    return PostResponse.from(row);
  }

  async create(caller: AuthUser, dto: CreatePostDto): Promise<PostResponse> {
    return PostResponse.from(await this.posts.insert(caller.id, dto.title, dto.body));
  }

  /** Only the author edits a post; moderators and admins may delete it but not rewrite it. */
  async update(caller: AuthUser, id: string, dto: UpdatePostDto): Promise<PostResponse> {
    if (dto.title === undefined && dto.body === undefined) {
      throw ApiError.validation('Nothing to update: send title and/or body');
    }
    const row = await this.posts.updateOwn(id, caller.id, { title: dto.title, body: dto.body });
    if (row === null) {
      throw await this.whyNot(id);
    }
    return PostResponse.from(row);
  }

  async remove(caller: AuthUser, id: string): Promise<void> {
    if (!(await this.posts.softDelete(id, caller.id, canModerate(caller)))) {
      throw await this.whyNot(id);
    }
  }

  /** A write matched no row: 404 when there is no live post, else 403 (someone else's). */
  private async whyNot(id: string): Promise<ApiError> {
    return (await this.posts.liveAuthorOf(id)) === null
      ? ApiError.notFound('No such post')
      : ApiError.forbidden('Only the author may do this to the post');
  }
}
