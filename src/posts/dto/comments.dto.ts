import { COMMENT_BODY_MAX } from '../entities/comment.entity';
import { TrimmedText } from '../../common/fields';

export class CommentBodyDto {
  @TrimmedText(1, COMMENT_BODY_MAX) body: string;
}
