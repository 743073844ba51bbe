import { ApiProperty } from '@nestjs/swagger';
import { PageResponse } from '../../common/pagination';
import { PublicProfileResponse } from '../../users/dto/user-profile.response';
import type { CommentRow } from '../comments.repository';
import { authorOf } from './post.response';

export class CommentResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) postId: string;
  @ApiProperty() body: string;
  @ApiProperty({ type: PublicProfileResponse }) author: PublicProfileResponse;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static from(this: void, row: CommentRow): CommentResponse {
    return {
      id: row.id,
      postId: row.post_id,
      body: row.body,
      author: authorOf(row),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }
}

export class CommentPageResponse extends PageResponse {
  @ApiProperty({ type: [CommentResponse] }) items: CommentResponse[];
}
