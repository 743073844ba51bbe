import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthUser } from '../identity/auth-user';
import { ApiError, FieldError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { AttachmentResponse, UploadResponse } from './dto/upload.response';
import { CreateUploadDto } from './dto/uploads.dto';
import { ObjectStorage, StoredObject } from './object-storage';
import { AttachmentRow, UploadRow, UploadsRepository } from './uploads.repository';

/** The injection token of the S3 client: null when `S3_BUCKET` is unset (uploads off). */
export const OBJECT_STORAGE = Symbol('ObjectStorage');

/** The caller's attachable uploads, ready to attach (and check in S3) in a post's transaction. */
export interface CheckedUploads {
  readonly rows: UploadRow[];
}

const FIELD = 'attachmentIds';

/**
 * Presigned uploads (docs/uploads.md): hands out S3 POST policies, copies what was uploaded to a key of its own and
 * checks the copy when a post takes it, and signs the GET URLs of a post's attachments.
 *
 * An attachment is served from its copy (`attachments/<userId>/<uploadId>`), never from the
 * upload's key: a presigned POST stays usable for a few minutes and can be replayed, so what sits
 * under the upload's key may change after any check. No policy can target the copy's key.
 */
@Injectable()
export class UploadsService {
  private readonly maxBytes: number;

  constructor(
    private readonly uploads: UploadsRepository,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage | null,
    config: AppConfig,
  ) {
    this.maxBytes = config.s3?.uploadMaxBytes ?? 0;
  }

  /** Signs a POST for one object under the caller's prefix, then records it as pending. */
  async create(caller: AuthUser, dto: CreateUploadDto): Promise<UploadResponse> {
    const storage = this.enabledStorage();
    if (dto.size > this.maxBytes) {
      throw ApiError.validation('The file is too large', [{ field: 'size', message: `size must be at most ${this.maxBytes} bytes` }]);
    }
    const id = randomUUID();
    const key = `uploads/${caller.id}/${id}`;
    // Signed before the row is written: a failed signature leaves nothing behind, and a failed
    // insert leaves a policy no one was given.
    const post = await storage.presignPost(key, dto.contentType, dto.size);
    const attachmentKey = `attachments/${caller.id}/${id}`;
    await this.uploads.insert({ id, ownerId: caller.id, objectKey: key, attachmentKey, contentType: dto.contentType, size: dto.size });
    return { id, method: 'POST', url: post.url, fields: post.fields, expiresAt: post.expiresAt.toISOString() };
  }

  /**
   * Checks that every id is the caller's pending upload (the objects are checked by `attach`).
   * Any failure is a 400 on `attachmentIds` naming each bad id.
   */
  async check(callerId: string, ids: string[]): Promise<CheckedUploads> {
    if (ids.length === 0) {
      return { rows: [] };
    }
    if (this.storage === null) {
      throw ApiError.validation('Posts take no attachments here', [{ field: FIELD, message: 'uploads are not enabled on this server' }]);
    }
    const found = new Map((await this.uploads.attachable(callerId, ids)).map((row) => [row.id, row]));
    const errors: FieldError[] = ids
      .filter((id) => !found.has(id))
      .map((id) => ({ field: FIELD, message: `${id} is not an upload of yours that can still be attached` }));
    if (errors.length > 0) {
      throw ApiError.validation('Some attachments cannot be attached', errors);
    }
    return { rows: ids.flatMap((id) => found.get(id) ?? []) };
  }

  /**
   * Attaches uploads to a new post in its transaction (the caller rolls back on a throw). The rows
   * are claimed first, so their locks keep any other request from copying them until this one
   * commits or rolls back; then each upload is copied to its attachment key and the copy is
   * checked: present, the declared type, at most the declared size (S3 enforces the policy, but the
   * object is checked, not trusted). What the post serves is exactly what was checked. A failure is
   * a 400 on `attachmentIds` naming each bad id; S3 down is a 503. A copy left by a rollback or a
   * crash stays under the row's attachment key, which the sweep deletes with the row.
   */
  async attach(postId: string, callerId: string, checked: CheckedUploads): Promise<AttachmentResponse[]> {
    if (checked.rows.length === 0) {
      return [];
    }
    const storage = this.enabledStorage();
    const ids = checked.rows.map((row) => row.id);
    if ((await this.uploads.attach(postId, callerId, ids)) !== ids.length) {
      // Taken since the check (another post at the same moment): nothing of this post is kept.
      throw ApiError.validation('Some attachments cannot be attached', [
        { field: FIELD, message: 'an upload was attached to another post meanwhile' },
      ]);
    }
    const objects = await Promise.all(
      checked.rows.map(async (row) => ((await storage.copy(row.object_key, row.attachment_key)) ? storage.head(row.attachment_key) : null)),
    );
    const errors = checked.rows.flatMap((row, i) => problemsOf(row, objects[i]));
    if (errors.length > 0) {
      throw ApiError.validation('Some attachments cannot be attached', errors);
    }
    return this.sign(checked.rows.map((row) => ({ ...row, post_id: postId })));
  }

  /** The attachments of each post, with fresh GET URLs: one SQL statement for any number of posts. */
  async attachmentsOf(postIds: string[]): Promise<Map<string, AttachmentResponse[]>> {
    const byPost = new Map<string, AttachmentResponse[]>();
    if (this.storage === null || postIds.length === 0) {
      return byPost;
    }
    const rows = await this.uploads.attachmentsOf(postIds);
    const signed = await this.sign(rows);
    rows.forEach((row, i) => {
      const list = byPost.get(row.post_id) ?? [];
      list.push(signed[i]);
      byPost.set(row.post_id, list);
    });
    return byPost;
  }

  /** A deleted post's objects go to the sweep (in the transaction that deletes the post). */
  orphanPost(postId: string): Promise<void> {
    return this.uploads.orphanPost(postId);
  }

  private async sign(rows: AttachmentRow[]): Promise<AttachmentResponse[]> {
    const storage = this.enabledStorage();
    return Promise.all(
      rows.map(async (row) => ({
        id: row.id,
        contentType: row.content_type,
        size: Number(row.size),
        url: await storage.presignGet(row.attachment_key),
      })),
    );
  }

  private enabledStorage(): ObjectStorage {
    if (this.storage === null) {
      throw ApiError.notFound('Uploads are not enabled on this server');
    }
    return this.storage;
  }
}

/** What is wrong with the object checked for `row` (null: nothing was uploaded), as field errors. */
function problemsOf(row: UploadRow, object: StoredObject | null): FieldError[] {
  if (object === null) {
    return [{ field: FIELD, message: `${row.id} has not been uploaded` }];
  }
  if (object.contentType !== row.content_type) {
    return [{ field: FIELD, message: `${row.id} is not of the declared type ${row.content_type}` }];
  }
  if (object.size < 1 || object.size > Number(row.size)) {
    return [{ field: FIELD, message: `${row.id} is not 1 to ${row.size} bytes long as declared` }];
  }
  return [];
}
