import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { UploadsModule } from '../uploads/uploads.module';
import { CommentsController } from './comments.controller';
import { CommentsRepository } from './comments.repository';
import { CommentsService } from './comments.service';
import { PostsController } from './posts.controller';
import { PostsRepository } from './posts.repository';
import { PostsService } from './posts.service';

/** Posts and comments (docs/api.md), authored by `user_mapping` rows; images from uploads. */
@Module({})
export class PostsModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: PostsModule,
      imports: [UploadsModule.register(config)],
      controllers: [PostsController, CommentsController],
      providers: [PostsRepository, PostsService, CommentsRepository, CommentsService],
    };
  }
}
