import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import { MAX_ATTACHMENTS } from '../../uploads/entities/upload.entity';
import { PageQueryDto } from '../../common/pagination';
import type { ListQuery } from '../../common/page-query';
import { POST_BODY_MAX, TITLE_MAX } from '../entities/post.entity';
import { ANY_UUID, TrimmedText, trimmedTextOf } from '../../common/fields';

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

/**
 * CreatePostDto as the validation pipe makes it from a body that satisfies every rule above, or
 * undefined for anything else (the pipe answers those: `CheckedBody`). src/posts/create-body.spec.ts
 * checks the two against each other over a corpus of bodies.
 */
export function plainCreatePost(input: unknown): CreatePostDto | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return undefined;
  }
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (key !== 'title' && key !== 'body' && key !== 'attachmentIds') {
      return undefined;
    }
  }
  const title = trimmedTextOf(body.title, 1, TITLE_MAX);
  const text = trimmedTextOf(body.body, 1, POST_BODY_MAX);
  if (title === undefined || text === undefined) {
    return undefined;
  }
  const ids = body.attachmentIds;
  if (ids === undefined) {
    return { title, body: text };
  }
  const valid =
    Array.isArray(ids) &&
    ids.length <= MAX_ATTACHMENTS &&
    ids.every((id) => typeof id === 'string' && ANY_UUID.test(id)) &&
    new Set(ids).size === ids.length;
  return valid ? { title, body: text, attachmentIds: ids as string[] } : undefined;
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
