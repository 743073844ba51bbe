import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { OnModuleDestroy } from '@nestjs/common';
import { HttpRequest } from '@smithy/core/protocols';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { ApiError } from '../common/api-error';
import { S3Config } from '../config/app-config';

/** The presigned POST lives this long: long enough for a phone on a slow network, no longer. */
export const UPLOAD_URL_TTL_SECONDS = 5 * 60;
/** A post's image URLs live this long at the most; a client re-reads the post for fresh ones. */
export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;
/**
 * GET URLs are signed as of the start of a window this long, so every read of an image within a
 * window gets the same URL: it is signed once and served from memory (a page signs up to 80),
 * and the bytes behind it stay cacheable by browsers. A URL handed out still has 10..15 minutes.
 */
export const DOWNLOAD_URL_WINDOW_SECONDS = 5 * 60;
/** Bounds the memory of the signed-URL cache (about 400 bytes a URL). */
const SIGNED_URL_CACHE_MAX = 10_000;
/** One S3 call's deadline, so an unreachable S3 is a fast 503 rather than a hung request. */
const S3_CALL_DEADLINE_MS = 3_000;

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  expiresAt: Date;
}

/** Where GET URLs point: the bucket's endpoint as the SDK resolves it (virtual-host or path style). */
interface BucketEndpoint {
  protocol: string;
  hostname: string;
  port?: number;
  /** The path before the key: '' for virtual-host style, '/<bucket>' for path style. */
  prefix: string;
}

export interface StoredObject {
  contentType: string | undefined;
  size: number;
}

/** S3 is unreachable or refusing us: the client may retry; the cause is logged, never sent. */
export function storageUnavailable(cause: unknown): ApiError {
  return new ApiError(503, 'SERVICE_UNAVAILABLE', 'File storage is unavailable, try again shortly', {
    headers: { 'Retry-After': '1' },
    cause,
  });
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/**
 * The one place that talks to S3. Signing (POST policies, GET URLs) is local CPU; HEAD and
 * DELETE are network calls whose failures become 503 `SERVICE_UNAVAILABLE`. Built by
 * UploadsModule only when `S3_BUCKET` is set.
 */
export class ObjectStorage implements OnModuleDestroy {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly presigner: S3RequestPresigner;
  private bucketEndpoint: Promise<BucketEndpoint> | null = null;
  /** The URLs signed in the current window, by key; emptied when the window moves on. */
  private signedUrls = new Map<string, string>();
  private signedUrlsWindow = 0;

  constructor(config: S3Config) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      // An emulator has no virtual-host DNS: address the bucket in the path.
      forcePathStyle: config.endpoint !== undefined,
      // The SDK's default would sign the empty body's CRC32 into presigned URLs, which real S3
      // then refuses for the browser's upload or download.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      retryStrategy: new ConfiguredRetryStrategy(2, (attempt) => 100 * 2 ** attempt),
      requestHandler: { connectionTimeout: 1_000, requestTimeout: S3_CALL_DEADLINE_MS, throwOnRequestTimeout: true },
    });
    // The client's own signer settings (credentials, region, hashing), without its middleware.
    this.presigner = new S3RequestPresigner({ ...this.client.config });
  }

  onModuleDestroy(): void {
    this.client.destroy();
  }

  /** A POST policy for exactly this key and type, and a body of 1..`maxBytes` bytes. */
  async presignPost(key: string, contentType: string, maxBytes: number): Promise<PresignedPost> {
    try {
      const { url, fields } = await createPresignedPost(this.client, {
        Bucket: this.bucket,
        Key: key,
        // Fields become exact-match conditions too (bucket, key and Content-Type).
        Fields: { 'Content-Type': contentType },
        Conditions: [['content-length-range', 1, maxBytes]],
        Expires: UPLOAD_URL_TTL_SECONDS,
      });
      // The policy's own expiration, so that what the client is told is what S3 enforces.
      const policy = JSON.parse(Buffer.from(fields.Policy, 'base64').toString('utf8')) as { expiration: string };
      return { url, fields, expiresAt: new Date(policy.expiration) };
    } catch (error) {
      // Only credentials can fail here (the task role's could not be fetched).
      throw storageUnavailable(error);
    }
  }

  /** What S3 holds under `key`, or null when nothing was uploaded there. */
  async head(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { contentType: head.ContentType, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) {
        return null;
      }
      throw storageUnavailable(error);
    }
  }

  /**
   * Copies the object at `from` to `to` inside the bucket (type and bytes as they are now); false
   * when there is nothing at `from`. S3 copies an object of up to 5 GB in one call.
   */
  async copy(from: string, to: string): Promise<boolean> {
    try {
      // Our keys are uploads/<uuid>/<uuid>: nothing in them needs escaping.
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${from}` }));
      return true;
    } catch (error) {
      if (isNotFound(error)) {
        return false;
      }
      throw storageUnavailable(error);
    }
  }

  /**
   * A GET URL for one object, valid `DOWNLOAD_URL_TTL_SECONDS` from the start of the current
   * `DOWNLOAD_URL_WINDOW_SECONDS` window (so 10 to 15 minutes from now), the same URL for every read
   * within the window. Signing is local CPU, but a page of posts may carry 80 images: each key is
   * signed once a window. `getSignedUrl` would also run a command's whole middleware stack
   * (endpoint rules included) for each URL, so the bucket's endpoint is resolved once through the
   * SDK and each URL is only signed (SigV4 query signing, the SDK's own).
   */
  async presignGet(key: string, now: number = Date.now()): Promise<string> {
    const windowMs = DOWNLOAD_URL_WINDOW_SECONDS * 1000;
    const windowStart = now - (now % windowMs);
    if (windowStart !== this.signedUrlsWindow || this.signedUrls.size >= SIGNED_URL_CACHE_MAX) {
      this.signedUrls = new Map();
      this.signedUrlsWindow = windowStart;
    }
    const cached = this.signedUrls.get(key);
    if (cached !== undefined) {
      return cached;
    }
    const url = await this.signGet(key, new Date(windowStart));
    this.signedUrls.set(key, url);
    return url;
  }

  private async signGet(key: string, signingDate: Date): Promise<string> {
    try {
      const endpoint = await (this.bucketEndpoint ??= this.resolveBucketEndpoint());
      const host = endpoint.port === undefined ? endpoint.hostname : `${endpoint.hostname}:${endpoint.port}`;
      const signed = await this.presigner.presign(
        new HttpRequest({
          method: 'GET',
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          port: endpoint.port,
          // Our keys are uploads/<uuid>/<uuid>: nothing in them needs escaping.
          path: `${endpoint.prefix}/${key}`,
          headers: { host },
        }),
        { expiresIn: DOWNLOAD_URL_TTL_SECONDS, signingDate },
      );
      const query = new URLSearchParams(signed.query as Record<string, string>).toString();
      return `${endpoint.protocol}//${host}${signed.path}?${query}`;
    } catch (error) {
      this.bucketEndpoint = null;
      throw storageUnavailable(error);
    }
  }

  private async resolveBucketEndpoint(): Promise<BucketEndpoint> {
    const probe = 'k';
    const url = new URL(await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: probe }), { expiresIn: 60 }));
    return {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      prefix: url.pathname.slice(0, -(probe.length + 1)),
    };
  }

  /**
   * Deletes up to 1,000 objects in one call; a key already gone counts as deleted (S3 answers so).
   * Returns the keys S3 could not delete; throws when S3 could not be asked at all.
   */
  async deleteMany(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) {
      return new Set();
    }
    try {
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      );
      return new Set((result.Errors ?? []).map((e) => e.Key ?? ''));
    } catch (error) {
      throw storageUnavailable(error);
    }
  }
}
