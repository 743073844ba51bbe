import { ApiProperty } from '@nestjs/swagger';
import { PageResponse } from '../../common/pagination';
import { AttachmentResponse } from '../../uploads/dto/upload.response';
import { PublicProfileResponse } from '../../users/dto/user-profile.response';
import type { AuthorColumns, PostRow } from '../posts.repository';

/** The author as a public profile, read from `user_mapping` in the same query as the row. */
export function authorOf(row: AuthorColumns): PublicProfileResponse {
  return PublicProfileResponse.from({ id: row.author_id, nickname: row.author_nickname, status: row.author_status });
}

export class PostResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() body: string;
  @ApiProperty({ type: PublicProfileResponse, description: 'status "withdrawn" (nickname null) for a withdrawn author' })
  author: PublicProfileResponse;
  @ApiProperty() commentCount: number;
  @ApiProperty({ type: [AttachmentResponse], description: 'Images, in the order given at creation' })
  attachments: AttachmentResponse[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static from(this: void, row: PostRow, attachments: AttachmentResponse[]): PostResponse {
    return {
      id: row.id,
      title: row.title,
      body: row.body,
      author: authorOf(row),
      commentCount: row.comment_count,
      attachments,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }
}

export class PostPageResponse extends PageResponse {
  @ApiProperty({ type: [PostResponse] }) items: PostResponse[];
}
