import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface PresignedUpload {
  id: string;
  method: 'POST';
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

/** The env that turns uploads on against the test stack's s3rver (or a proxy in front of it). */
export function s3Env(endpoint = required('TEST_S3_ENDPOINT'), extra: Record<string, string> = {}): Record<string, string> {
  return { S3_BUCKET: required('TEST_S3_BUCKET'), S3_ENDPOINT: endpoint, S3_REGION: 'ap-northeast-2', ...extra };
}

/** What a browser does with the presigned POST: a multipart form, the fields first, the file last. */
export async function postToS3(upload: PresignedUpload, file: Buffer, override: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...upload.fields, ...override })) {
    form.append(name, value);
  }
  form.append('file', new Blob([new Uint8Array(file)], { type: override['Content-Type'] ?? upload.fields['Content-Type'] }), 'photo');
  return fetch(upload.url, { method: 'POST', body: form });
}

/** The policy S3 would enforce (s3rver does not): decoded so tests can assert its conditions. */
export function decodePolicy(upload: PresignedUpload): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(upload.fields.Policy, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
}

/** The bucket seen directly, as an operator (or a client ignoring its policy) would. */
export class TestBucket {
  private readonly client = new S3Client({
    endpoint: required('TEST_S3_ENDPOINT'),
    region: 'ap-northeast-2',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  private readonly bucket = required('TEST_S3_BUCKET');

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') {
        return false;
      }
      throw error;
    }
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  destroy(): void {
    this.client.destroy();
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set: run the e2e tests through npm test (jest globalSetup)`);
  }
  return value;
}
