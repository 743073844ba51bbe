import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { UuidParam } from '../common/validation';
import { ListQueryParam } from '../common/page-query';
import { acceptedPlainly, CheckedBody } from '../common/checked-body';
import { IdempotencyKey, Idempotent } from '../idempotency/idempotent.decorator';
import { Idempotency, KeyedRequest } from '../idempotency/idempotency.service';
import { PostPageResponse, PostResponse } from './dto/post.response';
import { CreatePostDto, ListPostsQuery, plainCreatePost, UpdatePostDto } from './dto/posts.dto';
import { PostsService } from './posts.service';

/**
 * A valid create without attachments is one statement, also with an Idempotency-Key
 * (PostsService.create). Only a body read by hand qualifies: the pipes accept it.
 */
function oneStatement(body: unknown): boolean {
  const ids = (body as { attachmentIds?: unknown } | null)?.attachmentIds;
  return (ids === undefined || (Array.isArray(ids) && ids.length === 0)) && acceptedPlainly(body, plainCreatePost);
}

/** `?authorId=`: the one filter of the posts list. */
const AUTHOR_FILTER = { name: 'authorId', description: "Only this author's posts" };

@ApiTags('posts')
@Authenticated()
@Controller('v1/posts')
export class PostsController {
  constructor(
    private readonly posts: PostsService,
    private readonly idempotency: Idempotency,
  ) {}

  @Get()
  @ApiOkResponse({ type: PostPageResponse, description: 'Live posts, newest first' })
  list(@ListQueryParam(AUTHOR_FILTER) query: ListPostsQuery): Promise<PostPageResponse> {
    return this.posts.list(query);
  }

  @Post()
  @HttpCode(201)
  @Idempotent({ oneStatementWhen: oneStatement })
  @ApiCreatedResponse({ type: PostResponse, description: 'Location: /v1/posts/{id}' })
  create(
    @CurrentUser() caller: AuthUser,
    @CheckedBody(CreatePostDto, plainCreatePost) dto: CreatePostDto,
    @IdempotencyKey() key: KeyedRequest | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponse> {
    return this.idempotency.once(key, async () => {
      const post = await this.posts.create(caller, dto);
      void reply.header('Location', `/v1/posts/${post.id}`);
      return post;
    });
  }

  @Get(':id')
  @ApiOkResponse({ type: PostResponse })
  get(@UuidParam('id') id: string): Promise<PostResponse> {
    return this.posts.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: PostResponse, description: 'Author only' })
  update(@CurrentUser() caller: AuthUser, @UuidParam('id') id: string, @Body() dto: UpdatePostDto): Promise<PostResponse> {
    return this.posts.update(caller, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Soft delete: author, moderator or admin' })
  remove(@CurrentUser() caller: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.posts.remove(caller, id);
  }
}
