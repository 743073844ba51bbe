import { Injectable } from '@nestjs/common';
import { AuthUser, canModerate } from '../identity/auth-user';
import { ApiError } from '../common/api-error';
import { pageRequest, pageRows, toPage } from '../common/pagination';
import { PostPageResponse, PostResponse } from './dto/post.response';
import { CreatePostDto, ListPostsQuery, UpdatePostDto } from './dto/posts.dto';
import { Transactions } from '../database/transactions';
import { UploadsService } from '../uploads/uploads.service';
import { IdempotencyRepository, toStored } from '../idempotency/idempotency.repository';
import { KeyHeld, PendingKey, PendingKeys } from '../idempotency/pending-key';
import { PostRow, PostsRepository } from './posts.repository';

/** Cursor kind of GET /v1/posts: a cursor of another list is refused. */
export const POSTS_CURSOR = 'posts';

@Injectable()
export class PostsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly posts: PostsRepository,
    private readonly uploads: UploadsService,
    private readonly pendingKeys: PendingKeys,
    private readonly keys: IdempotencyRepository,
  ) {}

  async list(query: ListPostsQuery): Promise<PostPageResponse> {
    const page = pageRequest(POSTS_CURSOR, query);
    const rows = await this.posts.list(page, query.authorId ?? null);
    // The whole page's attachments in one statement, whatever the page size.
    const attachments = await this.uploads.attachmentsOf(pageRows(page, rows).map((row) => row.id));
    return toPage(page, rows, (row) => PostResponse.from(row, attachments.get(row.id) ?? []));
  }

  async get(id: string): Promise<PostResponse> {
    const row = await this.posts.findLive(id);
    if (row === null) {
      throw ApiError.notFound('No such post');
    }
    return this.withAttachments(row);
  }

  /**
   * The post and its attachments commit together, with the Idempotency-Key when there is one: any
   * failure leaves neither. Attaching copies each upload in S3 and checks the copy while the
   * transaction holds the uploads' rows, so no other request can copy over what this one checked
   * (a few S3 round trips with the rows locked; the uploads are the caller's own). A post without
   * attachments is one statement, atomic without a transaction of its own; with a key, that one
   * statement also takes the key and stores the answer (`@Idempotent({ oneStatementWhen })`).
   */
  async create(caller: AuthUser, dto: CreatePostDto): Promise<PostResponse> {
    const checked = await this.uploads.check(caller.id, dto.attachmentIds ?? []);
    if (checked.rows.length === 0) {
      const pending = this.pendingKeys.take();
      if (pending !== undefined) {
        return this.createOnce(pending, dto);
      }
      return PostResponse.from(await this.posts.insert(caller.id, dto.title, dto.body), []);
    }
    return this.transactions.run(async () => {
      const row = await this.posts.insert(caller.id, dto.title, dto.body);
      return PostResponse.from(row, await this.uploads.attach(row.id, caller.id, checked));
    });
  }

  /** The keyed create in one statement; a key found held is thrown as KeyHeld, for Idempotency.once. */
  private async createOnce(pending: PendingKey, dto: CreatePostDto): Promise<PostResponse> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let row;
      try {
        row = await this.posts.insertOnce(pending, dto.title, dto.body);
      } catch (error) {
        if ((error as { code?: string; constraint?: string }).constraint !== 'idempotency_keys_pkey') {
          throw error;
        }
        // Answered by another request between this statement's snapshot and its lock: nothing was done.
        const stored = await this.keys.find(pending.userId, pending.key);
        throw new KeyHeld(stored === null ? { kind: 'in-flight' } : { kind: 'completed', stored });
      }
      if (row.created !== null) {
        return row.created as PostResponse;
      }
      if (!row.locked) {
        throw new KeyHeld({ kind: 'in-flight' });
      }
      if (row.live === true) {
        throw new KeyHeld({ kind: 'completed', stored: toStored(row as Required<typeof row>) });
      }
      // The key's row expired (the janitor has not deleted it yet): forget it and take the key again.
      await this.keys.forgetExpired(pending.userId, pending.key);
    }
    throw new KeyHeld({ kind: 'in-flight' });
  }

  /** Only the author edits a post; moderators and admins may delete it but not rewrite it. */
  async update(caller: AuthUser, id: string, dto: UpdatePostDto): Promise<PostResponse> {
    if (dto.title === undefined && dto.body === undefined) {
      throw ApiError.validation('Nothing to update: send title and/or body');
    }
    const row = await this.posts.updateOwn(id, caller.id, { title: dto.title, body: dto.body });
    if (row === null) {
      throw await this.refusal(id);
    }
    return this.withAttachments(row);
  }

  /** The post and its images go together: the sweep deletes the objects once this commits. */
  async remove(caller: AuthUser, id: string): Promise<void> {
    const deleted = await this.transactions.run(async () => {
      if (!(await this.posts.softDelete(id, caller.id, canModerate(caller)))) {
        return false;
      }
      await this.uploads.orphanPost(id);
      return true;
    });
    if (!deleted) {
      throw await this.refusal(id);
    }
  }

  private async withAttachments(row: PostRow): Promise<PostResponse> {
    const attachments = await this.uploads.attachmentsOf([row.id]);
    return PostResponse.from(row, attachments.get(row.id) ?? []);
  }

  /** Why a write matched no row: 404 when there is no live post, else 403 (someone else's). */
  private async refusal(id: string): Promise<ApiError> {
    return (await this.posts.liveAuthorOf(id)) === null
      ? ApiError.notFound('No such post')
      : ApiError.forbidden('Only the author may do this to the post');
  }
}
