import type request from 'supertest';
import { expectBody, Sender } from './sender';

/** The presigned POST the API answers: the form fields go to S3 before the file. */
export interface UploadBody {
  id: string;
  method: 'POST';
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

/** /v1/uploads */
export class UploadsApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/uploads: `{ contentType, size }`, loose for the wrong ones. */
  create(body: Record<string, unknown>): request.Test {
    return this.send.post('/v1/uploads').send(body);
  }

  /** An upload that must be granted (201). */
  created(body: { contentType: string; size: number }): Promise<UploadBody> {
    return expectBody<UploadBody>(this.create(body), 201);
  }
}
