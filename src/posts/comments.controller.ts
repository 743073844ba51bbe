import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { ListQuery, ListQueryParam } from '../common/page-query';
import { UuidParam } from '../common/validation';
import { IdempotencyKey, Idempotent } from '../idempotency/idempotent.decorator';
import { Idempotency, KeyedRequest } from '../idempotency/idempotency.service';
import { CommentsService } from './comments.service';
import { CommentPageResponse, CommentResponse } from './dto/comment.response';
import { CommentBodyDto } from './dto/comments.dto';

@ApiTags('posts')
@Authenticated()
@Controller('v1/posts/:postId/comments')
export class CommentsController {
  constructor(
    private readonly comments: CommentsService,
    private readonly idempotency: Idempotency,
  ) {}

  @Get()
  @ApiOkResponse({ type: CommentPageResponse, description: 'Live comments of a live post, oldest first' })
  list(@UuidParam('postId') postId: string, @ListQueryParam() query: ListQuery): Promise<CommentPageResponse> {
    return this.comments.list(postId, query);
  }

  @Post()
  @HttpCode(201)
  @Idempotent()
  @ApiCreatedResponse({ type: CommentResponse })
  create(
    @CurrentUser() caller: AuthUser,
    @UuidParam('postId') postId: string,
    @Body() dto: CommentBodyDto,
    @IdempotencyKey() key: KeyedRequest | undefined,
  ): Promise<CommentResponse> {
    return this.idempotency.once(key, () => this.comments.create(caller, postId, dto.body));
  }

  @Patch(':commentId')
  @ApiOkResponse({ type: CommentResponse, description: 'Author only' })
  update(
    @CurrentUser() caller: AuthUser,
    @UuidParam('postId') postId: string,
    @UuidParam('commentId') commentId: string,
    @Body() dto: CommentBodyDto,
  ): Promise<CommentResponse> {
    return this.comments.update(caller, postId, commentId, dto.body);
  }

  @Delete(':commentId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Soft delete: author, moderator or admin; a comment of another post is 404' })
  remove(@CurrentUser() caller: AuthUser, @UuidParam('postId') postId: string, @UuidParam('commentId') commentId: string): Promise<void> {
    return this.comments.remove(caller, postId, commentId);
  }
}
