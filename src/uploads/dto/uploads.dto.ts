import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Min } from 'class-validator';
import { UPLOAD_CONTENT_TYPES, UploadContentType } from '../entities/upload.entity';

export class CreateUploadDto {
  @ApiProperty({ enum: UPLOAD_CONTENT_TYPES, description: 'The exact Content-Type the file will be uploaded with' })
  @IsString()
  @IsIn(UPLOAD_CONTENT_TYPES, { message: `contentType must be one of ${UPLOAD_CONTENT_TYPES.join(', ')}` })
  contentType: UploadContentType;

  /** The largest the file may be; the upper bound (UPLOAD_MAX_BYTES) is checked by the service. */
  @ApiProperty({ minimum: 1, description: 'The file size in bytes (at most UPLOAD_MAX_BYTES)' })
  @IsInt({ message: 'size must be an integer number of bytes' })
  @Min(1, { message: 'size must be at least 1 byte' })
  size: number;
}
