import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { POST_BODY_MAX, TITLE_MAX } from '../entities/post.entity';
import { TrimmedText } from '../../common/fields';

export class CreatePostDto {
  @TrimmedText(1, TITLE_MAX) title: string;
  @TrimmedText(1, POST_BODY_MAX) body: string;
}

/** Both optional, but `null` is refused (not treated as absent): JSON types are strict. */
export class UpdatePostDto extends PartialType(CreatePostDto, { skipNullProperties: false }) {}

export class ListPostsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this author's posts" })
  @IsOptional()
  @IsUUID('all', { message: 'authorId must be a UUID' })
  authorId?: string;
}
