import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ObjectStorage } from './object-storage';
import { UploadSweeper } from './upload-sweeper';
import { UploadsController } from './uploads.controller';
import { UploadsRepository } from './uploads.repository';
import { OBJECT_STORAGE, UploadsService } from './uploads.service';

/**
 * Images on posts (docs/uploads.md). Without `S3_BUCKET` the routes are not mounted (404),
 * the storage is null, posts take no attachments and the sweep does not run.
 */
@Module({})
export class UploadsModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: UploadsModule,
      controllers: config.s3 === undefined ? [] : [UploadsController],
      providers: [
        { provide: OBJECT_STORAGE, useFactory: () => (config.s3 === undefined ? null : new ObjectStorage(config.s3)) },
        UploadsRepository,
        UploadsService,
        UploadSweeper,
      ],
      exports: [UploadsService],
    };
  }
}
