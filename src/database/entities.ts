import { RevokedToken } from '../auth/entities/revoked-token.entity';
import { Comment } from '../posts/entities/comment.entity';
import { Post } from '../posts/entities/post.entity';
import { Upload } from '../uploads/entities/upload.entity';
import { UserMapping } from '../identity/entities/user-mapping.entity';

/** Every entity, listed explicitly (no globs: the same list works from `src/` and `dist/`). */
export const ENTITIES = [UserMapping, RevokedToken, Post, Comment, Upload];
