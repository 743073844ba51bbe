import { Module } from '@nestjs/common';
import { CommentsController } from './comments.controller';
import { CommentsRepository } from './comments.repository';
import { CommentsService } from './comments.service';
import { PostsController } from './posts.controller';
import { PostsRepository } from './posts.repository';
import { PostsService } from './posts.service';

/** Posts and comments (contract section 5), authored by `user_mapping` rows. */
@Module({
  controllers: [PostsController, CommentsController],
  providers: [PostsRepository, PostsService, CommentsRepository, CommentsService],
})
export class PostsModule {}
