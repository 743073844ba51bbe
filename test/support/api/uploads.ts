import type request from 'supertest';
import type { PresignedUpload } from '../uploads';
import { expectBody, Sender } from './sender';

/** /v1/uploads */
export class UploadsApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/uploads: `{ contentType, size }`, loose for the wrong ones. */
  create(body: Record<string, unknown>): request.Test {
    return this.send.post('/v1/uploads').send(body);
  }

  /** An upload that must be granted (201): the presigned POST to send the file with (`postToS3`). */
  created(body: { contentType: string; size: number }): Promise<PresignedUpload> {
    return expectBody<PresignedUpload>(this.create(body), 201);
  }
}
