import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import { MAX_ATTACHMENTS } from '../../uploads/entities/upload.entity';
import { PageQueryDto } from '../../common/pagination';
import type { ListQuery } from '../../common/page-query';
import { POST_BODY_MAX, TITLE_MAX } from '../entities/post.entity';
import { TrimmedText } from '../../common/fields';

export class CreatePostDto {
  @TrimmedText(1, TITLE_MAX) title: string;
  @TrimmedText(1, POST_BODY_MAX) body: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: MAX_ATTACHMENTS,
    description: 'Ids from POST /v1/uploads, uploaded to S3 by the caller; shown in this order',
  })
  // Absent is none; null is refused like any other non-array (JSON types are strict).
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined)
  @IsArray({ message: 'attachmentIds must be an array of upload ids' })
  @ArrayMaxSize(MAX_ATTACHMENTS, { message: `attachmentIds must have at most ${MAX_ATTACHMENTS} entries` })
  @ArrayUnique({ message: 'attachmentIds must not repeat an id' })
  @IsUUID('all', { each: true, message: 'attachmentIds must contain upload ids (UUIDs)' })
  attachmentIds?: string[];
}

/** Both optional, but `null` is refused (not treated as absent): JSON types are strict. Attachments are fixed at creation. */
export class UpdatePostDto extends PartialType(OmitType(CreatePostDto, ['attachmentIds'] as const), { skipNullProperties: false }) {}

/** The posts list's query as the route reads it (`parseListQuery`, which answers as this DTO's rules do). */
export interface ListPostsQuery extends ListQuery {
  authorId?: string;
}

/**
 * The rules of the posts list's query. The route reads it by hand (`ListQueryParam`), with the
 * same answers: src/posts/list-query.spec.ts checks the parser against this class.
 */
export class ListPostsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this author's posts" })
  @IsOptional()
  @IsUUID('all', { message: 'authorId must be a UUID' })
  authorId?: string;
}
