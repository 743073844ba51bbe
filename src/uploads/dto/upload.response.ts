import { ApiProperty } from '@nestjs/swagger';
import { UPLOAD_CONTENT_TYPES, UploadContentType } from '../entities/upload.entity';

export class UploadResponse {
  @ApiProperty({ format: 'uuid', description: 'What POST /v1/posts takes in attachmentIds' }) id: string;
  @ApiProperty({ enum: ['POST'] }) method: 'POST';
  @ApiProperty({ description: 'Where to POST the file (multipart/form-data)' }) url: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Form fields to send, in any order, before the file part (named "file", sent last)',
  })
  fields: Record<string, string>;
  @ApiProperty({ format: 'date-time', description: 'The upload must start before this' }) expiresAt: string;
}

/** An image on a post, with a short-lived URL to fetch it. */
export class AttachmentResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: UPLOAD_CONTENT_TYPES }) contentType: UploadContentType;
  @ApiProperty({ description: 'The declared size in bytes (the stored object is at most this)' }) size: number;
  @ApiProperty({ description: 'Presigned GET, valid 15 minutes: re-read the post for a fresh one' }) url: string;
}
